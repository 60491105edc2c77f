"""Offline assets: Leaflet read from the installed XStatic package and inlined.

Nothing third-party is committed: the JavaScript and CSS are read at run time from
``xstatic.pkg.leaflet`` (PyPI ``XStatic-Leaflet``), the images the stylesheet refers
to become ``data:`` URIs, and URLs in comments are neutralised so that the written HTML
holds no ``http(s)://`` address except the basemap tile template and XML namespace
identifiers (which browsers never fetch).
"""

from __future__ import annotations

import base64
import functools
import re
from pathlib import Path

from geo._errors import ZoneAtlasError

#: XML namespace identifiers that Leaflet uses in ``createElementNS``; never fetched.
NAMESPACE_URIS = ("http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink",
                  "http://www.w3.org/1999/xhtml")

_URL = re.compile(r"https?://[^\s\"'<>)]+")


def _leaflet_dir() -> Path:
    try:
        import xstatic.pkg.leaflet as xs_leaflet
    except ImportError as exc:  # pragma: no cover - a declared dependency
        raise ZoneAtlasError(
            "the HTML maps need the Python package XStatic-Leaflet "
            "(pip install xstatic-leaflet)"
        ) from exc
    return Path(xs_leaflet.BASE_DIR)


def _data_uri(path: Path) -> str:
    mime = {"png": "image/png", "svg": "image/svg+xml", "gif": "image/gif"}[path.suffix[1:]]
    return f"data:{mime};base64,{base64.b64encode(path.read_bytes()).decode('ascii')}"


def external_urls(text: str) -> list[str]:
    """Every ``http(s)://`` URL in ``text`` except the XML namespace identifiers."""
    return [u for u in _URL.findall(text) if not u.startswith(NAMESPACE_URIS)]


@functools.lru_cache(maxsize=1)
def leaflet_css() -> str:
    """Leaflet's stylesheet with its images as ``data:`` URIs and comments removed."""
    base = _leaflet_dir()
    css = (base / "leaflet.css").read_text(encoding="utf-8")
    css = re.sub(r"/\*.*?\*/", "", css, flags=re.DOTALL)

    def inline(match: re.Match) -> str:
        ref = match.group(1).strip("'\"")
        if ref.startswith(("#", "data:")):
            return match.group(0)
        return f"url({_data_uri(base / ref)})"

    return re.sub(r"url\(([^)]*)\)", inline, css)


@functools.lru_cache(maxsize=1)
def leaflet_js() -> str:
    """Leaflet's minified JavaScript, without its source-map line and outside links.

    The licence header is kept; its web address loses the scheme (``leafletjs.com``).
    The attribution prefix that links to the Leaflet site is replaced at run time by
    plain text (see the runtime's ``init``).
    """
    js = (_leaflet_dir() / "leaflet.js").read_text(encoding="utf-8")
    js = re.sub(r"//# sourceMappingURL=\S*", "", js)
    js = js.replace("https://leafletjs.com", "leafletjs.com")
    left = external_urls(js)
    if left:  # pragma: no cover - guards against a new Leaflet release
        raise ZoneAtlasError(f"unexpected URLs in the installed leaflet.js: {sorted(set(left))}")
    return js


def script_safe(text: str) -> str:
    """Make JavaScript/JSON text safe inside an HTML ``<script>`` element.

    ``</script>`` and ``<!--`` cannot appear in the output; JSON strings stay valid.
    """
    return (text.replace("</", "<\\/").replace("<!--", "<\\!--")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


def json_for_script(obj) -> str:
    """JSON of ``obj`` that can be embedded in a ``<script>`` element as a literal.

    ``<``, ``>`` and ``&`` are written as ``\\u003c`` etc., so attribute text such as
    ``</script><img src=x onerror=...>`` stays inert data.
    """
    import json

    import numpy as np

    def default(value):
        if isinstance(value, np.integer):
            return int(value)
        if isinstance(value, np.floating):
            return None if not np.isfinite(value) else float(value)
        if isinstance(value, np.bool_):
            return bool(value)
        raise TypeError(f"not JSON serialisable: {type(value).__name__}")

    text = json.dumps(obj, ensure_ascii=False, allow_nan=False, separators=(",", ":"), default=default)
    return escape_json_text(text)


def escape_json_text(text: str) -> str:
    """Escape ``<``, ``>``, ``&`` and line separators in already serialised JSON."""
    return (text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))
