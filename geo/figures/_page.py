"""The printed page: paper size, map frame, title, legend panel, scale bar, north arrow,
source line and collision-free labels. Knows nothing about the analyses.

Sizes are set for A4 and scaled with the paper (A3 × √2, A2 × 2), so a figure reads the
same when printed on its paper size.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Callable, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Polygon as MplPolygon
from matplotlib.patches import Rectangle
from matplotlib.transforms import Bbox

from geo import styles

#: Paper sizes (width, height) in millimetres, landscape.
PAPER_MM = {"A4": (297.0, 210.0), "A3": (420.0, 297.0), "A2": (594.0, 420.0)}
#: Raster resolution of the PNG figures.
DPI = 300
MM_PER_INCH = 25.4
#: Web-map pixels (CSS px) to printed points on A4 (line widths, marker sizes): geo.styles'
#: scale, which the QGIS styles share.
PX_TO_PT = styles.PX_TO_PT

TEXT = {
    "zh": {"legend": "图例", "source": "数据来源", "crs": "坐标系", "made": "制图", "north": "北",
           "date": "日期", "list_sep": "、"},
    "en": {"legend": "Legend", "source": "Data", "crs": "CRS", "made": "Made with", "north": "N",
           "date": "date", "list_sep": ", "},
}


@dataclass
class LegendItem:
    """One legend row: a patch (fill + outline), a line or a star marker and its text."""

    text: str
    kind: Literal["patch", "line", "star"] = "patch"
    face: str = "none"
    edge: str = "none"
    width_px: float = 1.0
    dashed: bool = False
    alpha: float = 1.0


@dataclass
class LegendGroup:
    """A legend section: title, rows and an optional note (as on the web map)."""

    title: str
    items: list[LegendItem]
    note: str | None = None


@dataclass
class MapLabel:
    """A label candidate at (x, y) in the map CRS; higher ``priority`` is placed first."""

    x: float
    y: float
    text: str
    priority: float
    kind: Literal["area", "point"] = "point"


@dataclass
class PrintMap:
    """What an analysis contributes to its figure; the page adds the rest.

    ``draw`` callables each draw one layer on the map axes (in the map CRS, bottom to top).
    """

    name: str
    title: str
    draw: list[Callable[[Axes, float], None]]
    legend: list[LegendGroup]
    labels: list[MapLabel] = field(default_factory=list)
    bounds: tuple[float, float, float, float] | None = None


def paper_inches(paper: str, orientation: str) -> tuple[float, float]:
    """(width, height) of the page in inches.

    Examples
    --------
    >>> paper_inches("A4", "portrait")
    (8.267716535433072, 11.692913385826772)
    """
    w, h = PAPER_MM[paper]
    if orientation == "portrait":
        w, h = h, w
    return w / MM_PER_INCH, h / MM_PER_INCH


def paper_scale(paper: str) -> float:
    """Text and symbol scale relative to A4 (A3 √2, A2 2)."""
    return math.sqrt(PAPER_MM[paper][0] * PAPER_MM[paper][1] / (297.0 * 210.0))


def _em_width(text: str) -> float:
    """Approximate width of ``text`` in em (CJK characters 1 em, others ~0.56 em)."""
    return sum(1.0 if ord(c) >= 0x2E80 else 0.56 for c in text)


def wrap(text: str, width_em: float) -> list[str]:
    """Wrap ``text`` to lines of about ``width_em`` em (CJK text wraps between characters)."""
    if _em_width(text) <= width_em:
        return [text]
    if any(ord(c) >= 0x2E80 for c in text):
        lines, cur = [], ""
        for c in text:
            if _em_width(cur + c) > width_em and cur:
                lines.append(cur)
                cur = c.lstrip()
            else:
                cur += c
        return [*lines, cur] if cur else lines
    return textwrap.wrap(text, max(int(width_em / 0.56), 8)) or [text]


# ---------------------------------------------------------------------------
# page


def new_page(paper: str, orientation: str) -> tuple[Figure, dict]:
    """A figure at paper size with the map frame, legend panel and header/footer areas."""
    width_in, height_in = paper_inches(paper, orientation)
    fig = Figure(figsize=(width_in, height_in), dpi=DPI)
    fig.set_canvas(_agg_canvas(fig))
    margin = 10.0 / MM_PER_INCH
    mx, my = margin / width_in, margin / height_in
    s = paper_scale(paper)
    header = (19.0 * s / MM_PER_INCH) / height_in
    footer = (7.0 * s / MM_PER_INCH) / height_in
    gap_x, gap_y = (4.0 / MM_PER_INCH) / width_in, (4.0 / MM_PER_INCH) / height_in
    top, bottom = 1 - my - header, my + footer
    if orientation == "landscape":
        legend_w = 0.25 if paper == "A4" else 0.22
        map_box = (mx, bottom, 1 - 2 * mx - legend_w - gap_x, top - bottom)
        legend_box = (1 - mx - legend_w, bottom, legend_w, top - bottom)
    else:
        legend_h = 0.24
        map_box = (mx, bottom + legend_h + gap_y, 1 - 2 * mx, top - bottom - legend_h - gap_y)
        legend_box = (mx, bottom, 1 - 2 * mx, legend_h)
    ax_map = fig.add_axes(map_box)
    ax_map.set_xticks([])
    ax_map.set_yticks([])
    for spine in ax_map.spines.values():
        spine.set_linewidth(0.8 * s)
    ax_legend = fig.add_axes(legend_box)
    ax_legend.set_axis_off()
    ax_legend.set_gid("legend")
    return fig, {"map": ax_map, "legend": ax_legend, "margin": (mx, my), "scale": s, "header": header,
                 "footer": footer}


#: Agg renderers shared by the pages drawn inside :func:`shared_renderers` (None: one each).
_SHARED_RENDERERS: dict | None = None


@contextmanager
def shared_renderers():
    """Inside, pages of the same size draw on one Agg renderer (and write their PNG rows into
    one buffer, :func:`shared_buffer`): the 300 dpi page buffer (70 MB for A3) is allocated
    once instead of per page, and text measured on one page is not measured again on the
    next. Each page is drawn from a cleared buffer, so the pixels are the same; a page's
    buffer is only valid until the next page is drawn (``write_figures`` saves each first)."""
    global _SHARED_RENDERERS
    outer, _SHARED_RENDERERS = _SHARED_RENDERERS, {} if _SHARED_RENDERERS is None else _SHARED_RENDERERS
    try:
        yield
    finally:
        _SHARED_RENDERERS = outer


def shared_buffer(shape: tuple[int, ...], dtype=np.uint8) -> np.ndarray | None:
    """An array of ``shape`` reused by the pages inside :func:`shared_renderers` (else None)."""
    if _SHARED_RENDERERS is None:
        return None
    key = ("buffer", tuple(shape), np.dtype(dtype).str)
    if key not in _SHARED_RENDERERS:
        _SHARED_RENDERERS[key] = np.empty(shape, dtype=dtype)
    return _SHARED_RENDERERS[key]


def _agg_canvas(fig: Figure):
    """An Agg canvas whose ``draw_idle`` does nothing: geopandas calls it after every layer,
    which would render the whole 300 dpi page each time; the page is drawn once when saved.
    Inside :func:`shared_renderers` its renderer is the one of every page of that size."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg, RendererAgg

    class _Canvas(FigureCanvasAgg):
        def draw_idle(self, *args, **kwargs) -> None:
            pass

        def get_renderer(self):
            shared = _SHARED_RENDERERS
            if shared is None:
                return super().get_renderer()
            w, h = self.figure.bbox.size
            key = (w, h, self.figure.dpi)
            if key not in shared:
                shared[key] = RendererAgg(w, h, self.figure.dpi)
            self.renderer = shared[key]
            return self.renderer

    return _Canvas(fig)


def draw_header(fig: Figure, page: dict, title: str, subtitle: str | None) -> None:
    mx, my = page["margin"]
    s = page["scale"]
    y = 1 - my
    text = fig.text(mx, y, title, fontsize=17 * s, fontweight="bold", va="top", ha="left", gid="title")
    width = text.get_window_extent(fig.canvas.get_renderer()).width
    room = fig.bbox.width * (1 - 2 * mx)
    if width > room:  # a long study name: shrink the title to the page width
        text.set_fontsize(17 * s * room / width * 0.98)
    if subtitle:
        fig.text(mx, y - page["header"] * 0.62, subtitle, fontsize=9 * s, color="#444444", va="top", ha="left",
                 gid="subtitle")


def draw_footer(fig: Figure, page: dict, text: str) -> None:
    mx, my = page["margin"]
    s = page["scale"]
    line = fig.text(mx, my, text, fontsize=6.5 * s, color="#333333", va="bottom", ha="left", gid="source")
    width = line.get_window_extent(fig.canvas.get_renderer()).width
    room = fig.bbox.width * (1 - 2 * mx)
    if width > room:  # many input files: shrink the line to the page width
        line.set_fontsize(6.5 * s * room / width * 0.98)


def fit_extent(ax: Axes, bounds: tuple[float, float, float, float], pad: float = 0.03) -> None:
    """Show ``bounds`` (map CRS) with a margin, true to scale (equal aspect, filling the frame)."""
    x0, y0, x1, y1 = bounds
    w, h = max(x1 - x0, 1.0), max(y1 - y0, 1.0)
    x0, x1, y0, y1 = x0 - pad * w, x1 + pad * w, y0 - pad * h, y1 + pad * h
    box = ax.get_position()
    fig_w, fig_h = ax.figure.get_size_inches()
    frame_ratio = (box.height * fig_h) / (box.width * fig_w)
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    w, h = x1 - x0, y1 - y0
    if h / w > frame_ratio:
        w = h / frame_ratio
    else:
        h = w * frame_ratio
    ax.set_xlim(cx - w / 2, cx + w / 2)
    ax.set_ylim(cy - h / 2, cy + h / 2)
    ax.set_aspect("equal", adjustable="box")


def _nice_length(target_m: float) -> float:
    exp = 10 ** math.floor(math.log10(target_m))
    for f in (1, 2, 5, 10):
        if f * exp >= target_m * 0.75:
            return f * exp
    return 10 * exp


def draw_scale_bar(ax: Axes, page: dict, lang: str) -> Bbox:
    """Alternating black/white scale bar at the bottom left; returns its box (display units)."""
    s = page["scale"]
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    length = _nice_length((x1 - x0) / 5)
    unit, div = ("公里", 1000.0) if lang == "zh" else ("km", 1000.0)
    if length < 1000:
        unit, div = ("米", 1.0) if lang == "zh" else ("m", 1.0)
    bx, by = x0 + 0.03 * (x1 - x0), y0 + 0.045 * (y1 - y0)
    bar_h = 0.008 * (y1 - y0)
    pad_x, pad_y = 0.012 * (x1 - x0), 0.012 * (y1 - y0)
    back = Rectangle((bx - pad_x, by - pad_y - 0.02 * (y1 - y0)), length + 2 * pad_x + 0.06 * (x1 - x0),
                     bar_h + 2 * pad_y + 0.04 * (y1 - y0), facecolor="white", edgecolor="#888888",
                     linewidth=0.4 * s, alpha=0.85, zorder=20)
    ax.add_patch(back)
    n = 4
    for i in range(n):
        ax.add_patch(Rectangle((bx + i * length / n, by), length / n, bar_h,
                               facecolor="black" if i % 2 == 0 else "white", edgecolor="black",
                               linewidth=0.5 * s, zorder=21))
    for v in (0, length / 2, length):
        ax.text(bx + v, by + bar_h * 1.6, f"{v / div:g}", fontsize=6.5 * s, ha="center", va="bottom", zorder=22)
    ax.text(bx + length + 0.012 * (x1 - x0), by + bar_h / 2, unit, fontsize=6.5 * s, ha="left", va="center",
            zorder=22)
    ax.text(bx, by - bar_h * 0.8, f"1 : {_ratio(ax):,}", fontsize=5.5 * s, ha="left", va="top", zorder=22,
            color="#333333", gid="scale_ratio")
    return back.get_window_extent()


def _ratio(ax: Axes) -> int:
    """The printed map scale 1 : N, rounded to two significant digits."""
    x0, x1 = ax.get_xlim()
    width_m_on_paper = ax.get_position().width * ax.figure.get_size_inches()[0] * MM_PER_INCH / 1000
    n = (x1 - x0) / width_m_on_paper
    digits = max(int(math.floor(math.log10(n))) - 1, 0)
    return int(round(n, -digits))


def draw_north_arrow(ax: Axes, page: dict, lang: str) -> Bbox:
    """A north arrow (grid north of the map CRS) at the top right; returns its box."""
    s = page["scale"]
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    w, h = (x1 - x0), (y1 - y0)
    cx, top = x1 - 0.04 * w, y1 - 0.05 * h
    aw = 0.012 * w * (h / w if h < w else 1) + 0.006 * w
    ah = aw * 2.2
    back = Rectangle((cx - aw * 1.5, top - ah - 0.045 * h), aw * 3, ah + 0.045 * h + 0.015 * h,
                     facecolor="white", edgecolor="#888888", linewidth=0.4 * s, alpha=0.85, zorder=20)
    ax.add_patch(back)
    ax.add_patch(MplPolygon([(cx, top), (cx - aw, top - ah), (cx, top - ah * 0.7)], closed=True,
                            facecolor="black", edgecolor="black", linewidth=0.5 * s, zorder=21))
    ax.add_patch(MplPolygon([(cx, top), (cx + aw, top - ah), (cx, top - ah * 0.7)], closed=True,
                            facecolor="white", edgecolor="black", linewidth=0.5 * s, zorder=21))
    ax.text(cx, top - ah - 0.008 * h, TEXT[lang]["north"], fontsize=9 * s, fontweight="bold", ha="center",
            va="top", zorder=22, gid="north")
    return back.get_window_extent()


# ---------------------------------------------------------------------------
# legend panel


def draw_legend(ax: Axes, page: dict, groups: Sequence[LegendGroup], lang: str, orientation: str) -> None:
    """Lay the legend groups out in the legend panel (columns, shrinking text when needed)."""
    s = page["scale"]
    fig = ax.figure
    box = ax.get_position()
    width_pt = box.width * fig.get_size_inches()[0] * 72
    height_pt = box.height * fig.get_size_inches()[1] * 72
    ax.set_xlim(0, width_pt)
    ax.set_ylim(height_pt, 0)
    ncols = 1 if orientation == "landscape" else 3
    tries = [(ncols, k) for k in (1.0, 0.9, 0.8, 0.7)] + [(ncols + 1, k) for k in (0.9, 0.8, 0.7, 0.6, 0.5)]
    for cols, k in tries:  # shrink the text a little before adding a column
        rows = _legend_rows(groups, lang, fs=8.0 * s * k, col_w=width_pt / cols)
        if _fits(rows, height_pt, cols):
            _place_rows(ax, rows, width_pt / cols, height_pt, s * k)
            return
    _place_rows(ax, _legend_rows(groups, lang, fs=8.0 * s * 0.5, col_w=width_pt / (ncols + 1)),
                width_pt / (ncols + 1), height_pt, s * 0.5)


def _legend_rows(groups, lang, *, fs: float, col_w: float) -> list[tuple]:
    """Rows (kind, payload, height_pt) of the legend at font size ``fs``."""
    line = fs * 1.55
    swatch_w = fs * 1.9
    text_em = (col_w - swatch_w - fs * 1.4) / fs
    rows: list[tuple] = [("heading", TEXT[lang]["legend"], fs * 1.25 * 1.6, fs * 1.25)]
    for g in groups:
        title_lines = wrap(g.title, (col_w - fs) / (fs * 1.0))
        rows.append(("title", title_lines, line * len(title_lines) + fs * 0.5, fs))
        for item in g.items:
            lines = wrap(item.text, text_em)
            rows.append(("item", (item, lines), max(line, fs * 1.25 * len(lines) + fs * 0.3), fs))
        if g.note:
            lines = wrap(g.note, (col_w - fs) / (fs * 0.85))
            rows.append(("note", lines, fs * 0.85 * 1.3 * len(lines) + fs * 0.3, fs * 0.85))
        rows.append(("gap", None, fs * 0.6, fs))
    return rows


def _fits(rows, height_pt: float, cols: int) -> bool:
    col, y = 0, 0.0
    for kind, _, h, _ in rows:
        if y + h > height_pt and y > 0:
            col, y = col + 1, 0.0
            if kind == "gap":
                continue
        y += h
        if col >= cols:
            return False
    return col < cols


def _place_rows(ax: Axes, rows, col_w: float, height_pt: float, k: float) -> None:
    x0, y = 0.0, 0.0
    for kind, payload, h, fs in rows:
        if y + h > height_pt and y > 0:
            x0, y = x0 + col_w, 0.0
            if kind == "gap":
                continue
        if kind == "heading":
            ax.text(x0, y, payload, fontsize=fs, fontweight="bold", va="top", ha="left", gid="legend_heading")
        elif kind == "title":
            ax.text(x0, y + fs * 0.15, "\n".join(payload), fontsize=fs, fontweight="bold", va="top", ha="left",
                    linespacing=1.3, gid="legend_title")
        elif kind == "note":
            ax.text(x0, y, "\n".join(payload), fontsize=fs, color="#555555", style="italic", va="top", ha="left",
                    linespacing=1.3, gid="legend_note")
        elif kind == "item":
            item, lines = payload
            _symbol(ax, item, x0, y, fs, k)
            ax.text(x0 + fs * 2.6, y + fs * 0.1, "\n".join(lines), fontsize=fs, va="top", ha="left",
                    linespacing=1.25, gid="legend_item")
        y += h


def _symbol(ax: Axes, item: LegendItem, x: float, y: float, fs: float, k: float) -> None:
    w, h = fs * 2.0, fs * 1.1
    top = y + fs * 0.2
    lw = max(item.width_px * PX_TO_PT * k * 1.4, 0.3)
    if item.kind == "patch":
        ax.add_patch(Rectangle((x, top), w, h, facecolor=rgba(item.face, item.alpha), edgecolor=item.edge,
                               linewidth=lw, linestyle=(0, (3, 2)) if item.dashed else "-"))
    elif item.kind == "line":
        ax.add_line(Line2D([x, x + w], [top + h / 2] * 2, color=item.edge, linewidth=lw, alpha=item.alpha,
                           linestyle=(0, (3, 2)) if item.dashed else "-", solid_capstyle="round"))
    else:
        ax.plot([x + w / 2], [top + h / 2], marker="*", markersize=fs * 1.5, markerfacecolor=item.face,
                markeredgecolor="black", markeredgewidth=0.4 * k, linestyle="none")


def rgba(color: str, alpha: float = 1.0):
    """``color`` with ``alpha`` as an RGBA tuple (``"none"`` stays ``"none"``)."""
    from matplotlib.colors import to_rgba

    return "none" if color == "none" else to_rgba(color, alpha)


# ---------------------------------------------------------------------------
# labels


def place_labels(ax: Axes, labels: Sequence[MapLabel], page: dict, *, avoid: Sequence[Bbox] = (),
                 max_labels: int = 60) -> list[str]:
    """Greedy, collision-free labels: highest priority first, each tries a few positions
    around its anchor and is dropped when every position overlaps a placed label, the
    scale bar or north arrow, or leaves the map frame. Returns the texts placed."""
    s = page["scale"]
    renderer = ax.figure.canvas.get_renderer()
    frame = ax.get_window_extent(renderer)
    placed: list[Bbox] = list(avoid)
    shown: list[str] = []
    # a light box instead of a stroked halo: path effects turn every glyph into a path,
    # which costs seconds per page with CJK outlines at 300 dpi
    box = {"boxstyle": "round,pad=0.12", "facecolor": "white", "edgecolor": "none", "alpha": 0.72}
    order = sorted(labels, key=lambda lab: -lab.priority)
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    px_per_pt = ax.figure.dpi / 72
    anchors = ax.transData.transform([(lab.x, lab.y) for lab in order]) if order else np.zeros((0, 2))
    for lab, (ax_px, ay_px) in zip(order, anchors):
        if len(shown) >= max_labels:
            break
        if not (x0 <= lab.x <= x1 and y0 <= lab.y <= y1):
            continue
        if lab.kind == "area":
            options = [(0, 0, "center", "center"), (0, -9, "center", "top"), (0, 9, "center", "bottom")]
            style = {"fontsize": 7.5 * s, "color": "#444444", "fontweight": "bold", "alpha": 0.9}
        else:
            options = [(5, 0, "left", "center"), (-5, 0, "right", "center"), (0, 5, "center", "bottom"),
                       (0, -5, "center", "top"), (4, 4, "left", "bottom"), (-4, -4, "right", "top")]
            style = {"fontsize": 6.5 * s, "color": "#111111"}
        # measure the text once; each position's box follows by arithmetic
        probe = ax.text(lab.x, lab.y, lab.text, **style)
        ext = probe.get_window_extent(renderer)
        probe.remove()
        pad = 0.12 * style["fontsize"] * px_per_pt
        w, h = ext.width * 1.06 + 2 * pad, ext.height * 1.12 + 2 * pad
        for dx, dy, ha, va in options:
            cx = ax_px + dx * s * px_per_pt + {"left": w / 2 - pad, "right": -w / 2 + pad, "center": 0}[ha]
            cy = ay_px + dy * s * px_per_pt + {"bottom": h / 2 - pad, "top": -h / 2 + pad, "center": 0}[va]
            bbox = Bbox.from_bounds(cx - w / 2, cy - h / 2, w, h)
            inside = (bbox.x0 >= frame.x0 and bbox.x1 <= frame.x1 and bbox.y0 >= frame.y0 and bbox.y1 <= frame.y1)
            if inside and not any(bbox.overlaps(b) for b in placed):
                placed.append(bbox)
                ax.annotate(lab.text, (lab.x, lab.y), xytext=(dx * s, dy * s), textcoords="offset points",
                            ha=ha, va=va, zorder=30, bbox=box, annotation_clip=True, gid="map_label", **style)
                shown.append(lab.text)
                break
    return shown


def anchor_points(geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Label anchors of polygons (a point inside each) as x, y arrays."""
    import shapely

    pts = shapely.point_on_surface(np.asarray(geoms, dtype=object))
    return shapely.get_x(pts), shapely.get_y(pts)
