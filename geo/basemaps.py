"""The basemap catalogue (``map.basemap``): tile templates, attribution, datum.

Shared by both writers: the HTML maps (:mod:`geo.webmap`) draw these tiles with Leaflet,
the QGIS project (:mod:`geo.qgis`) as XYZ tile layers, so both show the same basemap.
The tile URL template is the only outside address a map may contain. Attributions are
plain text (the web maps escape them; no links). AMap tiles are in GCJ-02:
:attr:`Basemap.gcj02` tells the map writer to shift every overlay from WGS84 for display
only.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from geo._errors import ConfigError
from geo.settings import CustomBasemap, MapSettings

_TIANDITU = ("https://t{s}.tianditu.gov.cn/{layer}_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0"
             "&LAYER={layer}&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles"
             "&TILEMATRIX={z}&TILEROW={y}&TILECOL={x}&tk={key}")

TIANDITU_KEY_MISSING = ("map.basemap is tianditu but no key: set map.tianditu_key in the config "
                        "or env TIANDITU_KEY")


@dataclass
class Tiles:
    url: str
    attribution: str
    max_zoom: int = 18
    subdomains: str | None = None


@dataclass
class Basemap:
    """A resolved basemap: zero or more tile layers shown together."""

    name: str
    label: str
    tiles: list[Tiles] = field(default_factory=list)
    gcj02: bool = False

    @property
    def max_zoom(self) -> int:
        return min((t.max_zoom for t in self.tiles), default=19)


def resolve_basemap(settings: MapSettings, language: str = "zh") -> Basemap:
    """The :class:`Basemap` configured by ``map.basemap``.

    Raises
    ------
    ConfigError
        ``tianditu`` without a key (config ``map.tianditu_key`` or env ``TIANDITU_KEY``).

    Examples
    --------
    >>> from geo.settings import MapSettings
    >>> resolve_basemap(MapSettings(basemap="none")).tiles
    []
    """
    zh = language == "zh"
    choice = settings.basemap
    if isinstance(choice, CustomBasemap):
        return Basemap("custom", "自定义底图" if zh else "Custom basemap",
                       [Tiles(choice.url, choice.attribution, choice.max_zoom, choice.subdomains)])
    if choice == "none":
        return Basemap("none", "无底图" if zh else "No basemap")
    if choice == "osm":
        return Basemap("osm", "OpenStreetMap", [Tiles("https://tile.openstreetmap.org/{z}/{x}/{y}.png",
                                                      "© OpenStreetMap contributors", 19)])
    if choice == "carto-light":
        return Basemap("carto-light", "CARTO Positron" if not zh else "CARTO 浅色底图",
                       [Tiles("https://{s}.basemaps.cartocdn.com/light_all/{z}/{x}/{y}{r}.png",
                              "© OpenStreetMap contributors © CARTO", 20, "abcd")])
    if choice == "tianditu":
        key = settings.resolved_tianditu_key
        if not key:
            raise ConfigError(TIANDITU_KEY_MISSING)
        attribution = "© 天地图 Tianditu" if zh else "© Tianditu (National Platform for Common GeoSpatial Information Services)"
        annotation = "cva" if zh else "eva"
        return Basemap("tianditu", "天地图" if zh else "Tianditu", [
            Tiles(_TIANDITU.replace("{layer}", "vec").replace("{key}", key), attribution, 18, "01234567"),
            Tiles(_TIANDITU.replace("{layer}", annotation).replace("{key}", key), attribution, 18, "01234567"),
        ])
    if choice == "amap":
        lang = "zh_cn" if zh else "en"
        note = ("© 高德地图 AutoNavi；叠加图层已由 WGS84 转换为 GCJ-02 坐标显示" if zh else
                "© AutoNavi (AMap); overlays shifted from WGS84 to GCJ-02 for display")
        return Basemap("amap", "高德地图" if zh else "AMap", [
            Tiles(f"https://webrd0{{s}}.is.autonavi.com/appmaptile?lang={lang}&size=1&scale=1&style=8"
                  "&x={x}&y={y}&z={z}", note, 18, "1234")], gcj02=True)
    raise ConfigError(f"map.basemap: unknown basemap {choice!r}")  # pragma: no cover - validated


def tile_hosts(basemap: Basemap) -> set[str]:
    """Host names of the basemap's tile templates (for the external-URL scan)."""
    from urllib.parse import urlsplit

    return {urlsplit(t.url).netloc for t in basemap.tiles}
