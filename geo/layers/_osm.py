"""``layers.roads`` from an OpenStreetMap extract (``.osm`` XML or ``.osm.pbf``).

Read through GDAL's OSM driver (bundled with pyogrio): its ``lines`` layer has one row
per way, ``highway`` as a column and the other tags as an hstore string in
``other_tags`` (``"oneway"=>"yes","maxspeed"=>"50"``), parsed here vectorised.

What a car / commuting network keeps (docs/input-data.md, "OpenStreetMap"):

* ways whose ``highway`` is a road for motor vehicles, :data:`ROAD_HIGHWAYS`
  (motorway … residential, unclassified, living_street, service, road and the ``_link``
  ramps); footways, cycleways, paths, steps, tracks, bridleways, pedestrian areas,
  corridors, platforms, construction and proposed roads are dropped, and so are ways
  closed to cars (``access=no`` without a car permission, ``motor_vehicle=no``,
  ``motorcar=no``). ``access=private`` is kept: gated compounds (小区) reach the street
  that way.
* ``class`` = the ``highway`` value (mapped to the road classes by
  :data:`geo.network` as for any roads layer: trunk -> expressway, primary -> arterial …);
* ``speed_kmh`` = ``maxspeed`` in km/h (``"50"``, ``"50 km/h"``, ``"30 mph"``; the first
  of ``"50;60"``); other values (``RU:urban``, ``none``, ``walk``) fall back to the
  class speed of ``network.class_speeds_kmh``;
* ``oneway`` = ``yes`` (``yes|true|1``, and implied on ``highway=motorway`` and
  ``junction=roundabout|circular``), ``-1`` (``-1|reverse``), else ``no``
  (``no|false|0``, ``reversible`` / ``alternating``: both ways over a day). Any other
  value is read as both ways, with a counted warning;
* ``road_id`` = the way's ``osm_id``.
"""

from __future__ import annotations

import logging
import re
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import pyogrio
import shapely
from pyproj import CRS

from geo._errors import format_rows
from geo.layers._report import _Ctx, _forward_warnings, _list, _one_line, _Report

if TYPE_CHECKING:
    from geo.settings import VectorLayerSettings

logger = logging.getLogger(__name__)

#: ``highway`` values kept as roads (all known to the road classes of geo.network).
ROAD_HIGHWAYS: tuple[str, ...] = (
    "motorway", "motorway_link", "trunk", "trunk_link", "primary", "primary_link",
    "secondary", "secondary_link", "tertiary", "tertiary_link", "unclassified", "residential",
    "living_street", "service", "road",
)
#: The canonical fields and the OSM tags they come from (the layer's implicit field mapping).
OSM_FIELDS = {"road_id": "osm_id", "class": "highway", "speed_kmh": "maxspeed", "oneway": "oneway"}
_SUFFIXES = (".osm", ".pbf")
_MPH = 1.609344
_ONEWAY = {"yes": "yes", "true": "yes", "1": "yes", "-1": "-1", "reverse": "-1",
           "no": "no", "false": "no", "0": "no", "reversible": "no", "alternating": "no"}
_CAR_ALLOWED = {"yes", "designated", "permissive", "destination", "private", "customers", "delivery"}


def is_osm(path: Path) -> bool:
    """An OpenStreetMap extract by its name: ``*.osm``, ``*.osm.pbf`` (``*.pbf``)."""
    return path.suffix.lower() in _SUFFIXES


def osm_tag(other_tags: pd.Series, key: str) -> pd.Series:
    """The value of ``key`` in GDAL's hstore ``other_tags`` text (NaN where absent)."""
    pattern = rf'(?:^|,)"{key}"=>"((?:[^"\\]|\\.)*)"'
    value = other_tags.astype("str").str.extract(pattern, expand=False)
    return value.str.replace(r'\\(.)', r"\1", regex=True)


def maxspeed_kmh(values: pd.Series) -> np.ndarray:
    """``maxspeed`` tags in km/h: ``50``, ``50 km/h``, ``30 mph``, first of ``50;60``; NaN otherwise."""
    parts = values.astype("str").str.extract(
        r"^\s*(\d+(?:\.\d+)?)\s*(mph|km/h|kmh|kph)?\s*(?:;|$)", flags=re.IGNORECASE)
    speed = pd.to_numeric(parts[0], errors="coerce").to_numpy(dtype=float)
    mph = parts[1].str.lower().eq("mph").fillna(False).to_numpy(bool)
    speed = np.where(mph, speed * _MPH, speed)
    return np.where(speed > 0, speed, np.nan)


def read_osm_roads(ctx: _Ctx, cfg: VectorLayerSettings, report: _Report
                   ) -> tuple[pd.DataFrame, np.ndarray, CRS | None, list[str]] | None:
    """The road ways of an OSM extract as ``(attributes, geometries, crs, columns)``
    (canonical columns road_id, class, speed_kmh, oneway), or None after reporting."""
    path = ctx.path
    try:
        names = [str(n) for n in pyogrio.list_layers(path)[:, 0]]
    except ImportError:
        raise
    except Exception as exc:  # noqa: BLE001 - any GDAL failure means "cannot read"
        report.error(f"{ctx.at()} cannot read the file as an OpenStreetMap extract ({_one_line(exc)}); "
                     "give an .osm (XML) or .osm.pbf file as exported by osmium, Geofabrik or JOSM")
        return None
    layer = cfg.layer or "lines"
    ctx.layer = ctx.read_layer = layer
    if layer != "lines":
        report.error(f"{ctx.at()} road ways are in the OpenStreetMap layer 'lines' (layers in the "
                     f"file: {_list(names)}); remove layers.roads.layer or set it to lines")
        return None
    if cfg.fields:
        report.warn(f"{ctx.at()} layers.roads.fields ignored: an OpenStreetMap extract's fields are "
                    "fixed (road_id: osm_id, class: highway, speed_kmh: maxspeed, oneway: oneway)")
    try:
        columns = [str(c) for c in pyogrio.read_info(path, layer=layer)["fields"]]
        wanted = [c for c in ("osm_id", "highway", "other_tags") if c in columns]
        if "highway" not in wanted:
            report.error(f"{ctx.at()} the OpenStreetMap layer has no 'highway' column (columns: "
                         f"{_list(columns)}); read it with GDAL's default osmconf.ini")
            return None
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            meta, table = pyogrio.read_arrow(path, layer=layer, columns=wanted)
        _forward_warnings(ctx, caught, report)
        geom_col = meta.get("geometry_name") or "wkb_geometry"
        wkb = table.column(geom_col).to_numpy(zero_copy_only=False)
        attrs = table.drop_columns([geom_col]).to_pandas()
    except ImportError:
        raise
    except Exception as exc:  # noqa: BLE001
        report.error(f"{ctx.at()} cannot read the OpenStreetMap extract ({_one_line(exc)})")
        return None
    n = len(attrs)
    highway = attrs["highway"].astype("string").str.strip()      # missing stays missing (pandas 2 and 3)
    tags = attrs["other_tags"] if "other_tags" in attrs else pd.Series(np.full(n, None, object))
    keep = highway.isin(ROAD_HIGHWAYS).fillna(False).to_numpy(bool)
    car = [osm_tag(tags, k).str.strip().str.lower() for k in ("motor_vehicle", "motorcar")]
    allowed = (car[0].isin(_CAR_ALLOWED) | car[1].isin(_CAR_ALLOWED)).to_numpy(bool)
    closed = (osm_tag(tags, "access").str.strip().str.lower().eq("no").to_numpy(bool) & ~allowed) \
        | car[0].eq("no").to_numpy(bool) | car[1].eq("no").to_numpy(bool)
    roads = keep & ~closed
    if not roads.any():
        found = highway[highway.notna()].value_counts()
        what = (", ".join(f"highway={k} ({v})" for k, v in found.head(8).items()) or "no highway tag at all"
                if n else "is the file cut short?")
        report.error(f"{ctx.at()} no road for cars in the OpenStreetMap extract ({n} lines: {what}); "
                     f"road ways are highway={', '.join(ROAD_HIGHWAYS[:6])} … service; give an extract "
                     "that covers the study area's streets")
        return None
    dropped = highway[~roads].fillna("(no highway tag)").value_counts()
    if len(dropped):
        logger.info("%s kept %d road ways of %d lines; dropped: %s", ctx.at(), int(roads.sum()), n,
                    ", ".join(f"{k} {v}" for k, v in dropped.head(10).items()))
    highway, tags = highway[roads].reset_index(drop=True), tags[roads].reset_index(drop=True)
    ids = attrs["osm_id"][roads].reset_index(drop=True) if "osm_id" in attrs \
        else pd.Series(np.flatnonzero(roads) + 1).astype("str")
    out = pd.DataFrame({"road_id": ids.to_numpy(dtype=object), "class": highway.to_numpy(dtype=object),
                        "speed_kmh": maxspeed_kmh(osm_tag(tags, "maxspeed")),
                        "oneway": _oneway(ctx, ids, highway, tags, report)})
    out.attrs["mapping"] = dict(OSM_FIELDS)
    with np.errstate(invalid="ignore"):
        geoms = shapely.from_wkb(wkb[roads], on_invalid="ignore")
    crs = CRS.from_user_input(meta["crs"]) if meta.get("crs") else None
    return out, geoms, crs, wanted


def _oneway(ctx: _Ctx, ids: pd.Series, highway: pd.Series, tags: pd.Series, report: _Report) -> np.ndarray:
    """``yes`` / ``-1`` / ``no`` per way (OSM's implied one-way roads included)."""
    raw = osm_tag(tags, "oneway").str.strip()
    mapped = raw.str.lower().map(_ONEWAY)
    junction = osm_tag(tags, "junction").str.strip().str.lower()
    implied = raw.isna() & (highway.eq("motorway") | junction.isin(("roundabout", "circular")))
    odd = (raw.notna() & mapped.isna()).to_numpy(bool)
    if odd.any():
        report.warn(f"{ctx.at('oneway')} {int(odd.sum())} ways with an unknown oneway value "
                    f"({_list(raw[odd].unique()[:5])}) were read as two-way "
                    f"({format_rows(ids[odd].to_numpy(dtype=object))} (osm_id))")
    out = mapped.where(~implied, "yes").fillna("no")
    return out.to_numpy(dtype=object)
