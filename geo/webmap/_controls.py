"""folium elements for the zoneatlas maps: inline assets, runtime set-up and our controls.

Each control is a small :class:`branca.element.MacroElement` whose script calls the
runtime of :mod:`geo.webmap._runtime` with JSON made safe for ``<script>``. Legend
HTML is built here with every label passed through :func:`html.escape`.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from branca.element import Element, Figure, MacroElement
from jinja2 import Template

from geo.webmap._assets import json_for_script, leaflet_css, leaflet_js, script_safe
from geo.webmap._briefing_js import BRIEFING_CSS, BRIEFING_JS
from geo.webmap._runtime import RUNTIME_CSS, RUNTIME_JS


class InlineAssets(Element):
    """Leaflet and the zoneatlas runtime, inlined into the page header."""

    _template = Template("<style>{{ this.css }}</style>\n<script>{{ this.js }}</script>\n")

    def __init__(self) -> None:
        super().__init__()
        self._name = "InlineAssets"
        self.css = leaflet_css().replace("</", "<\\/") + RUNTIME_CSS + BRIEFING_CSS
        self.js = script_safe(leaflet_js()) + "\n" + RUNTIME_JS + "\n" + BRIEFING_JS


def add_inline_assets(figure: Figure) -> None:
    """Put the inline assets first in the figure header."""
    figure.header.add_child(InlineAssets(), name="zoneatlas_assets", index=0)


class _Rendered(Element):
    """Text already rendered, added to the page as it is.

    branca's ``MacroElement.render`` wraps each rendered part in ``Element(text)``, which
    compiles the text as a Jinja template once more: megabytes of GeoJSON lexed for
    nothing (a quarter of the time of the maps), and a ``{{`` or ``{%`` in a zone name
    read as template syntax. This gives what that template renders to for text without
    template syntax: newlines as ``\\n``, one trailing newline dropped (Jinja's
    defaults), so the pages stay byte for byte the same.
    """

    _NEWLINES = re.compile(r"\r\n|\r|\n")

    def __init__(self, text: str) -> None:
        super().__init__()
        lines = self._NEWLINES.split(text)
        if lines[-1] == "":
            del lines[-1]
        self.text = "\n".join(lines)

    def render(self, **kwargs: Any) -> str:
        return self.text


class _Call(MacroElement):
    """Base of the runtime calls: ``script(map_var)`` returns the JavaScript."""

    _template = Template(
        "{% macro script(this, kwargs) %}\n{{ this.script(this._parent.get_name()) }}\n{% endmacro %}"
    )

    def script(self, map_var: str) -> str:  # pragma: no cover - abstract
        raise NotImplementedError

    def render(self, **kwargs: Any) -> None:
        """``MacroElement.render`` without parsing the rendered script again (see :class:`_Rendered`)."""
        figure = self.get_root()
        module = self._template.module.__dict__
        for part in ("header", "html", "script"):
            macro = module.get(part)
            if macro is not None:
                getattr(figure, part).add_child(_Rendered(macro(self, kwargs)), name=self.get_name())
        for element in self._children.values():
            element.render(**kwargs)


class Init(_Call):
    """``zoneatlas.init``: language, category labels, UI texts, panes."""

    def __init__(self, config: dict[str, Any]) -> None:
        super().__init__()
        self._name = "ZoneatlasInit"
        self.config = config

    def script(self, map_var: str) -> str:
        return f"zoneatlas.init({map_var}, {json_for_script(self.config)});"


@dataclass
class LayerItem:
    id: str
    label: str
    show: bool = True
    #: the number shown beside the label; None: the layer's features (e.g. the districts'
    #: boundary lines are drawn as fewer or more lines than there are districts)
    count: int | None = None


@dataclass
class LayerGroup:
    title: str
    items: list[LayerItem] = field(default_factory=list)
    exclusive: bool = False


class GroupedLayerControl(_Call):
    """Layer control with group headings; exclusive groups use radio buttons."""

    def __init__(self, groups: Sequence[LayerGroup]) -> None:
        super().__init__()
        self._name = "GroupedLayerControl"
        self.groups = list(groups)

    def as_json(self) -> list[dict]:
        return [{"title": g.title, "exclusive": g.exclusive,
                 "items": [{"id": i.id, "label": i.label, **({} if i.count is None else {"count": int(i.count)})}
                           for i in g.items]} for g in self.groups]

    def script(self, map_var: str) -> str:
        return f"new zoneatlas.LayerControl({json_for_script(self.as_json())}).addTo({map_var});"


# ---------------------------------------------------------------------------
# legend


@dataclass
class LegendSection:
    """One legend block, shown while any of ``layers`` is on the map."""

    title: str
    rows: list[str]          # HTML rows (already escaped)
    layers: list[str]
    note: str | None = None
    columns: int = 1

    def html(self) -> str:
        rows = self.rows
        if self.columns > 1 and len(rows) > 4:
            rows = ['<div class="za-legend-cols">', *rows, "</div>"]
        out = [f'<div class="za-legend-title">{html.escape(self.title)}</div>', *rows]
        if self.note:
            out.append(f'<div class="za-legend-note">{html.escape(self.note)}</div>')
        return "".join(out)


def _color(value: str) -> str:
    """A CSS colour from our palettes (defensive: anything odd becomes grey)."""
    text = str(value)
    ok = text.startswith("#") and len(text) in (4, 7, 9) and all(c in "0123456789abcdefABCDEF" for c in text[1:])
    return text if ok else "#999999"


def swatch_row(label: str, fill: str, outline: str = "#333333", *, opacity: float = 0.75,
               dashed: bool = False, weight: float = 1.0) -> str:
    """A polygon swatch row."""
    border = f"{max(weight, 1):g}px {'dashed' if dashed else 'solid'} {_color(outline)}"
    fill_css = "transparent" if fill in (None, "none") else _color(fill)
    return (f'<div class="za-legend-row"><span class="za-sw" style="background:{fill_css};'
            f'opacity:{opacity:g};border:{border}"></span><span>{html.escape(label)}</span></div>')


def line_row(label: str, color: str, width: float = 2.0, *, dash: str | None = None) -> str:
    """A line swatch row (SVG)."""
    dash_attr = f' stroke-dasharray="{html.escape(dash)}"' if dash else ""
    h = max(int(width) + 4, 10)
    return (f'<div class="za-legend-row"><svg class="za-sw-line" width="26" height="{h}">'
            f'<line x1="1" y1="{h / 2:g}" x2="25" y2="{h / 2:g}" stroke="{_color(color)}" '
            f'stroke-width="{width:g}"{dash_attr}/></svg><span>{html.escape(label)}</span></div>')


def star_row(label: str, color: str) -> str:
    """A growth-pole star row."""
    return ('<div class="za-legend-row"><svg width="18" height="18" viewBox="0 0 24 24">'
            '<path d="M12 1.8l3.1 6.6 7.2.9-5.3 5 1.4 7.1L12 17.9l-6.4 3.5 1.4-7.1-5.3-5 7.2-.9z" '
            f'fill="{_color(color)}" stroke="#000" stroke-width="1.4"/></svg>'
            f'<span>{html.escape(label)}</span></div>')


class Legend(_Call):
    """The legend panel: one section per styled layer, shown while the layer is on."""

    def __init__(self, sections: Sequence[LegendSection]) -> None:
        super().__init__()
        self._name = "Legend"
        self.sections = list(sections)

    def script(self, map_var: str) -> str:
        data = [{"layers": s.layers, "html": s.html()} for s in self.sections]
        return f"new zoneatlas.Legend({json_for_script(data)}).addTo({map_var});"


class Search(_Call):
    """Zone-name search box (filters the searchable layers, flies to the hit)."""

    def __init__(self) -> None:
        super().__init__()
        self._name = "Search"

    def script(self, map_var: str) -> str:
        return f"new zoneatlas.Search().addTo({map_var});"


class Fullscreen(_Call):
    """Fullscreen toggle (CSS, plus the Fullscreen API where the browser allows it)."""

    def __init__(self) -> None:
        super().__init__()
        self._name = "Fullscreen"

    def script(self, map_var: str) -> str:
        return f"new zoneatlas.Fullscreen().addTo({map_var});"


class Title(_Call):
    """The map title (study name, map name, synthetic-data note, link to the atlas)."""

    def __init__(self, title: str, subtitle: str | None, back: dict[str, str] | None) -> None:
        super().__init__()
        self._name = "Title"
        self.title, self.subtitle, self.back = title, subtitle, back

    def script(self, map_var: str) -> str:
        args = ", ".join(json_for_script(v) for v in (self.title, self.subtitle, self.back))
        return f"zoneatlas.addTitle({args});"


class Finish(_Call):
    """Fit the map to the study area and signal ``zoneatlas.ready``."""

    def __init__(self, bounds: list[list[float]]) -> None:
        super().__init__()
        self._name = "Finish"
        self.bounds = bounds

    def script(self, map_var: str) -> str:
        return f"zoneatlas.finish({json_for_script(self.bounds)});"
