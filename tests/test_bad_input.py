"""A bad-input corpus through the CLI (issue 8, item 1; issue 2, item 3).

Every case starts from a private copy of the small sample study with ONE thing broken,
generated here by code (no committed binaries), and runs ``zoneatlas run`` as a user
would: through :func:`geo.cli.main` in the test process (``cli_in_process``: the same
exit codes and stderr, without starting an interpreter per case), and for the cases in
:data:`SUBPROCESS_CASES` through the installed ``zoneatlas`` command itself. For each
case we check:

* the exit code: 2 for bad input, or 0 with a counted warning in ``run.json`` where the
  data is repairable (Z/M values, self-intersecting and unclosed rings, "1,200");
* one ``error:`` line per problem, each naming the file, the layer (where the file has
  layers), the field (where there is one) and the rows (where the problem is in rows);
* no traceback on stderr;
* the input files byte-identical afterwards;
* the previous output folder byte-identical afterwards (failed runs only: a successful
  run replaces it by design).
"""

from __future__ import annotations

import json
import re
import shutil
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely
import yaml

from geo._io import STAGING_PREFIX
from tests.conftest import run_cli, tree_digest

GPKG = "layers/sample.gpkg"


# ---------------------------------------------------------------------------
# helpers that break a study


class Study:
    """A private copy of the small study: its config (as a dict) and its files."""

    def __init__(self, config: Path):
        self.config = config
        self.root = config.parent
        self.cfg = yaml.safe_load(config.read_text(encoding="utf-8"))
        # the corpus is about reading input: no print figures or workbook (tested elsewhere)
        self.cfg["print"] = {"figures": False, "workbook": False}
        self.save()

    def save(self) -> None:
        self.config.write_text(yaml.safe_dump(self.cfg, allow_unicode=True, sort_keys=False),
                               encoding="utf-8")

    def read(self, layer: str) -> gpd.GeoDataFrame:
        return pyogrio.read_dataframe(self.root / GPKG, layer=layer)

    def put(self, layer: str, frame, file: str | None = None, **layer_cfg) -> Path:
        """Write ``frame`` as ``layers/<file>`` and point layers.<layer> at it."""
        file = file or f"broken_{layer}.gpkg"
        path = self.root / "layers" / file
        if path.suffix == ".gpkg":
            pyogrio.write_dataframe(frame, path, layer=layer, driver="GPKG")
        else:
            pyogrio.write_dataframe(frame, path)
        self.point(layer, file, **layer_cfg)
        return path

    def point(self, layer: str, file: str, **layer_cfg) -> None:
        entry = self.cfg["layers"][layer]
        entry["path"] = f"layers/{file}"
        if not file.endswith(".gpkg") or "layer" in layer_cfg:
            entry.pop("layer", None)
        entry.update(layer_cfg)
        self.save()

    def text(self, layer: str, file: str, content: str | bytes, **layer_cfg) -> None:
        path = self.root / "layers" / file
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
        self.point(layer, file, **layer_cfg)


def _replace_geoms(frame: gpd.GeoDataFrame, rows: list[int], geoms) -> gpd.GeoDataFrame:
    out = frame.copy()
    values = out.geometry.values.to_numpy().copy()
    for r, g in zip(rows, geoms):
        values[r] = g
    return out.set_geometry(gpd.GeoSeries(values, crs=frame.crs, index=frame.index))


def _geojson_zones(study: Study, transform=None, ring_hook=None) -> str:
    """The zones layer as raw GeoJSON text (projected coordinates, crs given in the config)."""
    zones = study.read("zones")
    feats = []
    for i, row in zones.iterrows():
        ring = [list(map(float, xy)) for xy in shapely.get_coordinates(row.geometry.exterior)]
        if ring_hook is not None:
            ring = ring_hook(i, ring)
        props = {k: (None if pd.isna(v) else v) for k, v in row.drop("geometry").items()}
        props = {k: (v.item() if hasattr(v, "item") else v) for k, v in props.items()}
        feats.append({"type": "Feature", "properties": props,
                      "geometry": {"type": "Polygon", "coordinates": [ring]}})
    return json.dumps({"type": "FeatureCollection", "features": feats}, ensure_ascii=False)


# ---------------------------------------------------------------------------
# the cases


@dataclass
class Case:
    name: str
    breaks: Callable[[Study, Path], None]
    #: one tuple of required substrings per expected ``error:`` line (any order)
    errors: list[tuple[str, ...]] = field(default_factory=list)
    #: exit 0: substrings of a counted warning expected in run.json
    warning: tuple[str, ...] | None = None
    #: extra CLI arguments; "{tmp}" (a scratch folder) and "{root}" (the study) are replaced
    args: tuple[str, ...] | None = None
    #: the warning counts the repaired features (not for whole-file decisions)
    counted: bool = True


CASES: list[Case] = []


def case(name: str, *, errors=(), warning=None, args=None, counted=True):
    def deco(fn):
        CASES.append(Case(name, fn, list(errors), warning, args, counted))
        return fn
    return deco


# --- files and layers -------------------------------------------------------

@case("empty_geojson_file", errors=[("layers.housing", "empty_housing.geojson", "empty")])
def _(s, tmp):
    s.text("housing", "empty_housing.geojson", b"")


@case("zero_byte_geopackage", errors=[("layers.zones", "zones.gpkg", "0 bytes")])
def _(s, tmp):
    s.text("zones", "zones.gpkg", b"")


@case("geojson_without_features", errors=[("layers.innovation_districts", "innov.geojson", "no features")])
def _(s, tmp):
    s.text("innovation_districts", "innov.geojson", '{"type": "FeatureCollection", "features": []}')


@case("non_spatial_table", errors=[("layers.districts", "broken_districts.gpkg", "layer 'districts'",
                                    "geometr")])
def _(s, tmp):
    s.put("districts", pd.DataFrame(s.read("districts").drop(columns="geometry")))


@case("missing_file", errors=[("layers.housing", "housing_typo.gpkg", "not found")])
def _(s, tmp):
    s.point("housing", "housing_typo.gpkg")


@case("missing_layer", errors=[("layers.zones", "sample.gpkg", "zonez", "'zones'")])
def _(s, tmp):
    s.cfg["layers"]["zones"]["layer"] = "zonez"
    s.save()


@case("missing_field", errors=[("layers.zones", "sample.gpkg", "layer 'zones'", "jobs", "employees")])
def _(s, tmp):
    s.cfg["layers"]["zones"]["fields"]["jobs"] = "employees"
    s.save()


@case("corrupt_geopackage", errors=[("layers.zones", "zones.gpkg", "cannot read")])
def _(s, tmp):
    s.text("zones", "zones.gpkg", bytes(range(256)) * 20)


@case("invalid_geojson", errors=[("layers.zones", "zones.geojson", "cannot read")])
def _(s, tmp):
    s.text("zones", "zones.geojson", '{"type": "FeatureCollection", "features": [ {')


@case("shapefile_without_dbf", errors=[("layers.zones", "zones.shp", "no attribute columns", ".dbf")])
def _(s, tmp):
    zones = s.read("zones")[["id", "name", "chain", "jobs", "geometry"]]
    zones.to_file(s.root / "layers" / "zones.shp", encoding="utf-8")
    (s.root / "layers" / "zones.dbf").unlink()
    s.point("zones", "zones.shp")


@case("gbk_shapefile_without_cpg", warning=("layers.zones", "zones_gbk.shp", ".cpg", "gbk"), counted=False)
def _(s, tmp):
    zones = s.read("zones")[["id", "name", "district", "chain", "jobs", "geometry"]]
    pyogrio.write_dataframe(zones, s.root / "layers" / "zones_gbk.shp", encoding="gbk")
    (s.root / "layers" / "zones_gbk.cpg").unlink(missing_ok=True)
    s.point("zones", "zones_gbk.shp", fields={"zone_id": "id", "name": "name", "district_id": "district",
                                               "chain": "chain", "jobs": "jobs"})


# --- geometry ------------------------------------------------------------------

@case("wrong_geometry_type", errors=[("layers.districts", "broken_districts.gpkg", "layer 'districts'",
                                      "Point", "rows")])
def _(s, tmp):
    d = s.read("districts")
    s.put("districts", d.set_geometry(d.geometry.representative_point()))


@case("mixed_geometry_types_zones", errors=[("layers.zones", "broken_zones.gpkg", "layer 'zones'",
                                             "mixed", "row")])
def _(s, tmp):
    z = s.read("zones")
    s.put("zones", _replace_geoms(z, [3], [z.geometry.iloc[3].centroid]))


@case("mixed_points_and_polygons_housing", errors=[("layers.housing", "broken_housing.gpkg",
                                                    "layer 'housing'", "mixed", "row")])
def _(s, tmp):
    h = s.read("housing")
    s.put("housing", _replace_geoms(h, [0, 1], [h.geometry.iloc[0].buffer(50), h.geometry.iloc[1].buffer(50)]))


@case("3d_geometries", warning=("layers.zones", "Z or M"))
def _(s, tmp):
    z = s.read("zones")
    s.put("zones", z.set_geometry(shapely.force_3d(z.geometry.values.to_numpy(), 12.5)))


@case("measured_geometries", warning=("layers.housing", "Z or M"))
def _(s, tmp):
    # GDAL's CSV driver reads WKT; ZM and M geometries, no CRS in the file
    h = s.read("housing")
    xy = shapely.get_coordinates(h.geometry.values.to_numpy())
    lines = ["id,dwellings,WKT"] + [f'{i},{d},"POINT ZM ({x} {y} 5 {k})"' if k % 2 else
                                     f'{i},{d},"POINT M ({x} {y} {k})"'
                                     for k, (i, d, (x, y)) in enumerate(zip(h["id"], h["dwellings"], xy))]
    s.text("housing", "housing.csv", "\n".join(lines) + "\n", crs="EPSG:4544")


@case("self_intersecting_polygon", warning=("layers.zones", "invalid polygons", "make_valid"))
def _(s, tmp):
    z = s.read("zones")
    x0, y0, x1, y1 = z.geometry.iloc[2].bounds
    bowtie = shapely.Polygon([(x0, y0), (x1, y1), (x1, y0), (x0, y1), (x0, y0)])
    s.put("zones", _replace_geoms(z, [2], [bowtie]))


@case("unclosed_polygon", warning=("layers.zones", "unclosed"))
def _(s, tmp):
    def drop_last(i, ring):
        return ring[:-1] if i == 4 else ring
    s.text("zones", "zones.geojson", _geojson_zones(s, ring_hook=drop_last), crs="EPSG:4544")


@case("nan_coordinates", errors=[("layers.zones", "broken_zones.gpkg", "layer 'zones'", "NaN", "row")])
def _(s, tmp):
    z = s.read("zones")
    coords = shapely.get_coordinates(z.geometry.iloc[1].exterior)
    coords[1] = [np.nan, np.nan]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)   # shapely: NaN in a ring
        broken = shapely.polygons(coords)
    s.put("zones", _replace_geoms(z, [1], [broken]))


@case("inf_coordinates", errors=[("layers.housing", "broken_housing.gpkg", "layer 'housing'",
                                  "infinite", "row")])
def _(s, tmp):
    h = s.read("housing")
    s.put("housing", _replace_geoms(h, [7], [shapely.Point(np.inf, 3.3e6)]))


@case("latlon_swapped", errors=[("layers.zones", "zones_ll.gpkg", "layer 'zones'", "swapped", "rows")])
def _(s, tmp):
    z = s.read("zones").to_crs(4326)
    swapped = shapely.transform(z.geometry.values.to_numpy(), lambda xy: xy[:, ::-1])
    s.put("zones", z.set_geometry(gpd.GeoSeries(swapped, crs=4326)), "zones_ll.gpkg")


@case("coordinates_out_of_range", errors=[("layers.housing", "housing_ll.gpkg", "layer 'housing'",
                                           "outside", "row")])
def _(s, tmp):
    h = s.read("housing").to_crs(4326)
    s.put("housing", _replace_geoms(h, [5], [shapely.Point(500.0, 30.0)]), "housing_ll.gpkg")


@case("zone_outside_every_district", errors=[("layers.zones", "broken_zones.gpkg", "layer 'zones'",
                                                     "outside every district", "row Z")])
def _(s, tmp):
    z = s.read("zones")
    d = s.read("districts")
    east = d.total_bounds[2] + 20_000 - z.geometry.iloc[6].bounds[0]
    moved = shapely.transform(z.geometry.iloc[6], lambda xy: xy + [east, 0])
    s.put("zones", _replace_geoms(z, [6], [moved]))


@case("layer_without_crs", errors=[("layers.innovation_districts", "broken_innovation_districts.gpkg",
                                    "layer 'innovation_districts'", "no CRS", "layers.innovation_districts.crs")])
def _(s, tmp):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)   # pyogrio: "'crs' was not provided"
        s.put("innovation_districts", s.read("innovation_districts").set_crs(None, allow_override=True))


@case("housing_outside_study_area", errors=[("layers.housing", "broken_housing.gpkg", "layer 'housing'",
                                                    "outside the study area")])
def _(s, tmp):
    h = s.read("housing")
    s.put("housing", h.set_geometry(h.geometry.translate(0, 600_000)))


@case("housing_beside_the_study_area", warning=("balance:", "no housing lies within"), counted=False)
def _(s, tmp):
    # near enough to pass the extent check, but no housing within reach of any workplace:
    # the run completes (every workplace no_housing) and says why
    h, z = s.read("housing"), s.read("zones")
    shift = z.total_bounds[2] - h.total_bounds[0] + 30_000
    s.put("housing", h.set_geometry(h.geometry.translate(shift, 0)))
    s.cfg["layers"].pop("population")
    s.save()


# --- attributes ------------------------------------------------------------------

@case("text_in_number_column", errors=[("layers.zones", "broken_zones.gpkg", "layer 'zones'",
                                        "field 'jobs'", "not a number", "many", "row")])
def _(s, tmp):
    z = s.read("zones")
    z["jobs"] = z["jobs"].astype("object").map(lambda v: None if pd.isna(v) else f"{v:g}")
    z.loc[3, "jobs"] = "many"
    s.put("zones", z)


@case("numbers_with_separators_and_units", warning=("layers.zones", "field 'jobs'", "as text",
                                                    "'1,200' -> 1200"))
def _(s, tmp):
    z = s.read("zones")
    z["jobs"] = z["jobs"].astype("object").map(lambda v: None if pd.isna(v) else f"{v:g}")
    z.loc[0, "jobs"] = "1,200"
    z.loc[1, "jobs"] = "1.2万"
    s.put("zones", z)


@case("decimal_comma_is_not_a_thousands_separator",
      errors=[("layers.zones", "broken_zones.gpkg", "field 'jobs'", "not a number", "'1,5'", "'1,2万'", "rows")])
def _(s, tmp):
    z = s.read("zones")
    z["jobs"] = z["jobs"].astype("object").map(lambda v: None if pd.isna(v) else f"{v:g}")
    z.loc[0, "jobs"] = "1,5"       # a decimal comma: never 15
    z.loc[1, "jobs"] = "1,2万"     # never 120000
    s.put("zones", z)


@case("newlines_in_values_cannot_forge_error_lines", errors=[
    ("layers.zones", "field 'zone_id'", "duplicate", "Z\\nerror: forged", "fids 4, 5"),
    ("layers.zones", "field 'role'", "boss\\nerror: forged", "fid 3")])
def _(s, tmp):
    z = s.read("zones")
    z.loc[3, "id"] = z.loc[4, "id"] = "Z\nerror: forged"
    z.loc[2, "role"] = "boss\nerror: forged line"
    s.put("zones", z)


@case("duplicate_ids", errors=[("layers.zones", "broken_zones.gpkg", "layer 'zones'", "zone_id",
                                "duplicate", "fids 1, 2")])
def _(s, tmp):
    z = s.read("zones")
    z.loc[1, "id"] = z.loc[0, "id"]
    s.put("zones", z)


@case("duplicate_district_ids", errors=[
    ("layers.districts", "broken_districts.gpkg", "field 'district_id'", "duplicate", "fids 1, 2"),
    # the zones of the district whose id was overwritten now point nowhere
    ("layers.zones", "field 'district_id'", "not in the districts layer", "rows")])
def _(s, tmp):
    d = s.read("districts")
    d.loc[1, "code"] = d.loc[0, "code"]
    s.put("districts", d)


@case("ids_differ_only_by_whitespace", errors=[("layers.housing", "broken_housing.gpkg",
                                                "layer 'housing'", "housing_id", "duplicate",
                                                "fids 1, 2")])
def _(s, tmp):
    h = s.read("housing")
    h.loc[1, "id"] = f"  {h.loc[0, 'id']} "
    s.put("housing", h)


@case("missing_ids", errors=[("layers.innovation_districts", "broken_innovation_districts.gpkg",
                              "innov_id", "missing ids", "fid 2")])
def _(s, tmp):
    i = s.read("innovation_districts")
    i.loc[1, "id"] = None
    s.put("innovation_districts", i)


@case("missing_ids_in_a_csv_layer", errors=[("layers.innovation_districts", "innov.csv", "innov_id",
                                             "missing ids", "line 4")])
def _(s, tmp):
    """A GIS layer saved as CSV (geometry as WKT): its rows are named by their line too
    (a blank line before the row counts)."""
    i = s.read("innovation_districts")
    i.loc[1, "id"] = None
    lines = pd.DataFrame(i.drop(columns="geometry")).assign(WKT=i.geometry.to_wkt()).to_csv(index=False).splitlines()
    s.text("innovation_districts", "innov.csv", "\n".join(lines[:2] + [""] + lines[2:]) + "\n", crs="EPSG:4544")


@case("csv_layer_value_with_an_unquoted_separator",
      errors=[("layers.housing", "housing.csv", "cannot read the file as CSV",
               "line 5 has 4 values but the header has 3", "quotes")])
def _(s, tmp):
    """1,200 dwellings written without quotes: GDAL's CSV driver read 1 and dropped the 200
    without a word (exit 0); lines that merely end in a separator stay readable."""
    h = s.read("housing").head(50)
    lines = [f'{r.id},{r.dwellings},"{r.geometry.wkt}",' if k % 2 else f'{r.id},{r.dwellings},"{r.geometry.wkt}"'
             for k, r in enumerate(h.itertuples())]
    lines[3] = f'{h.id.iloc[3]},1,200,"{h.geometry.iloc[3].wkt}"'
    s.text("housing", "housing.csv", "\n".join(["id,dwellings,WKT", *lines]) + "\n", crs="EPSG:4544")


@case("negative_dwellings", errors=[("layers.housing", "broken_housing.gpkg", "layer 'housing'",
                                     "field 'dwellings'", "negative", "row")])
def _(s, tmp):
    h = s.read("housing")
    h.loc[10, "dwellings"] = -5
    s.put("housing", h)


@case("missing_required_count", errors=[("layers.zones", "broken_zones.gpkg", "layer 'zones'",
                                         "field 'jobs'", "missing", "row")])
def _(s, tmp):
    z = s.read("zones")
    z.loc[5, "jobs"] = np.nan
    s.put("zones", z)


@case("invalid_role", errors=[("layers.zones", "broken_zones.gpkg", "layer 'zones'", "field 'role'",
                               "boss", "row")])
def _(s, tmp):
    z = s.read("zones")
    z.loc[2, "role"] = "boss"
    s.put("zones", z)


@case("unknown_district_id", errors=[("layers.zones", "broken_zones.gpkg", "layer 'zones'",
                                      "field 'district_id'", "NOWHERE", "row")])
def _(s, tmp):
    z = s.read("zones")
    z.loc[4, "district"] = "NOWHERE"
    s.put("zones", z)


@case("chains_only_separators", errors=[("layers.innovation_districts", "broken_innovation_districts.gpkg",
                                         "field 'chains'", "missing", "row I")])
def _(s, tmp):
    i = s.read("innovation_districts")
    i.loc[0, "chains"] = " ;; 、"
    s.put("innovation_districts", i)


@case("three_problems_in_three_layers", errors=[
    ("layers.zones", "field 'jobs'", "negative", "row"),
    ("layers.housing", "field 'housing_id'", "duplicate"),
    ("layers.innovation_districts", "innov_typo.gpkg", "not found")])
def _(s, tmp):
    z = s.read("zones")
    z.loc[0, "jobs"] = -1
    s.put("zones", z)
    h = s.read("housing")
    h.loc[3, "id"] = h.loc[2, "id"]
    s.put("housing", h)
    s.point("innovation_districts", "innov_typo.gpkg")


# --- rasters ---------------------------------------------------------------------

def _copy_raster(s: Study, name: str, file: str, **changes) -> None:
    import rasterio

    src_path = s.root / s.cfg["layers"][name]["path"]
    with rasterio.open(src_path) as src:
        profile, data = src.profile, src.read()
    profile.update(changes)
    with rasterio.open(s.root / "layers" / file, "w", **profile) as dst:
        dst.write(data)
    s.cfg["layers"][name]["path"] = f"layers/{file}"
    s.save()


@case("raster_without_crs", errors=[("layers.population", "pop_nocrs.tif", "no CRS")])
def _(s, tmp):
    _copy_raster(s, "population", "pop_nocrs.tif", crs=None)


@case("raster_with_undeclared_nodata", errors=[("layers.population", "pop_9999.tif", "negative population",
                                                "-9999", "gdal_edit -a_nodata -9999")])
def _(s, tmp):
    import rasterio

    src_path = s.root / s.cfg["layers"]["population"]["path"]
    with rasterio.open(src_path) as src:
        profile, data = src.profile, src.read()
    data = data.astype("float32")
    data[:, :3, :] = -9999.0        # an ArcGIS export with nodata written but not declared
    profile.update(dtype="float32", nodata=None)
    with rasterio.open(s.root / "layers" / "pop_9999.tif", "w", **profile) as dst:
        dst.write(data)
    s.cfg["layers"]["population"]["path"] = "layers/pop_9999.tif"
    s.save()


def test_undeclared_nodata_hint_gives_the_exact_value_and_only_for_a_sentinel():
    from geo.layers._raster import _undeclared_nodata

    data = np.array([[1.0, -2147483647.0, -2147483647.0], [5.0, 2.0, -2147483647.0]])
    assert "gdal_edit -a_nodata -2147483647 FILE" in _undeclared_nodata(data, data < 0)
    one_cell = np.array([[1.0, -0.37], [2.0, 3.0]])
    assert _undeclared_nodata(one_cell, one_cell < 0) == ""        # a bad value, not a nodata
    mixed = np.array([[-9999.0, -9999.0], [-5.0, 3.0]])
    assert _undeclared_nodata(mixed, mixed < 0) == ""


@case("raster_not_overlapping", errors=[("layers.landuse", "landuse_far.tif", "does not overlap")])
def _(s, tmp):
    import rasterio
    from affine import Affine

    with rasterio.open(s.root / "layers/landuse.tif") as src:
        t = src.transform
    _copy_raster(s, "landuse", "landuse_far.tif", transform=Affine(t.a, t.b, t.c + 300_000, t.d, t.e, t.f))


# --- text encodings (issue 21) -----------------------------------------------------

_ZONE_FIELDS = {"zone_id": "id", "name": "name", "district_id": "district", "chain": "chain", "jobs": "jobs"}


@case("gbk_geojson_without_encoding", warning=("layers.zones", "zones_gbk.geojson", "GBK",
                                               "encoding: gbk"), counted=False)
def _(s, tmp):
    zones = s.read("zones")
    s.text("zones", "zones_gbk.geojson", zones.to_json(ensure_ascii=False).encode("gbk"))


@case("big5_geojson_backslash_trail_bytes", warning=("layers.zones", "zones_big5.geojson", "BIG5"),
      counted=False)
def _(s, tmp):
    # Big5 trail bytes include 0x5C ('\\'): GDAL alone cannot even parse such JSON
    zones = s.read("zones")
    zones["name"] = [f"示範許功蓋園區{i}" for i in range(len(zones))]   # 許功蓋: trail byte 0x5C
    zones["chain"] = zones["chain"].map({"生物医药": "生物醫藥", "电子信息": "電子資訊",
                                         "文化创意": "文化創意", "现代物流": "現代物流"})
    s.text("zones", "zones_big5.geojson", zones.to_json(ensure_ascii=False).encode("big5"))


@case("gbk_shapefile_whose_cpg_says_utf8", warning=("layers.zones", "zones_gbk.shp", "not valid UTF-8",
                                                    "GBK", "field 'name'", "rows"))
def _(s, tmp):
    zones = s.read("zones")[["id", "name", "district", "chain", "jobs", "geometry"]]
    pyogrio.write_dataframe(zones, s.root / "layers" / "zones_gbk.shp", encoding="gbk")
    (s.root / "layers" / "zones_gbk.cpg").write_text("UTF-8", encoding="ascii")
    s.point("zones", "zones_gbk.shp", fields=_ZONE_FIELDS)


@case("gb18030_csv_housing", warning=("layers.housing", "housing.csv", "GB18030"), counted=False)
def _(s, tmp):
    h = s.read("housing")
    xy = shapely.get_coordinates(h.geometry.values.to_numpy())
    # 住宅 alone is valid UTF-8 by accident (D7A1 D5AC); 𠀀 needs GB18030's four-byte form
    lines = ["id,dwellings,WKT"] + [f'示例住宅𠀀小区{i},{d},"POINT ({x} {y})"'
                                     for i, d, (x, y) in zip(h["id"], h["dwellings"], xy)]
    s.text("housing", "housing.csv", ("\n".join(lines) + "\n").encode("gb18030"), crs="EPSG:4544")


def _sqlite_set_text(path: Path, sql: str, *params) -> None:
    """Raw bytes into a GeoPackage text field (what a broken export leaves behind)."""
    import sqlite3

    con = sqlite3.connect(path)
    for fn in ("ST_IsEmpty", "ST_MinX", "ST_MaxX", "ST_MinY", "ST_MaxY"):   # rtree triggers
        con.create_function(fn, 1, lambda g: 0)
    con.execute(sql, params)
    con.commit()
    con.close()


@case("gpkg_with_unreadable_bytes", errors=[("layers.zones", "broken_zones.gpkg", "field 'chain'",
                                             "not valid UTF-8", "row 7", "encoding")])
def _(s, tmp):
    path = s.put("zones", s.read("zones"))
    _sqlite_set_text(path, "UPDATE zones SET chain = CAST(X'FF00FEFF' AS TEXT) WHERE fid = 7")


@case("gpkg_with_a_few_gbk_values", warning=("layers.zones", "broken_zones.gpkg", "field 'name'",
                                             "rows 3, 5", "GBK"))
def _(s, tmp):
    path = s.put("zones", s.read("zones"))
    _sqlite_set_text(path, "UPDATE zones SET name = CAST(? AS TEXT) WHERE fid IN (3, 5)",
                     "示例高新技术产业园区".encode("gbk"))


# --- names (issue 21) ------------------------------------------------------------

@case("chain_names_differing_by_case_width_and_invisible_characters",
      warning=("chain names", "merged", "'ＡＩ'", "'ai'", "-> 'AI'", "innovation_districts"))
def _(s, tmp):
    z = s.read("zones")
    z.loc[0, "chain"], z.loc[1, "chain"], z.loc[2, "chain"], z.loc[3, "chain"] = "AI", "AI", "ai", "ＡＩ"
    z.loc[4, "chain"] = "AI\u200b"
    s.put("zones", z)
    i = s.read("innovation_districts")
    i.loc[0, "chains"] = "ai；" + i.loc[0, "chains"]
    s.put("innovation_districts", i)


@case("invisible_characters_in_ids", warning=("layers.housing", "field 'housing_id'", "invisible",
                                              "fids 1, 2"))
def _(s, tmp):
    h = s.read("housing")
    h.loc[0, "id"] = "\ufeff" + h.loc[0, "id"]
    h.loc[1, "id"] = h.loc[1, "id"] + "\u200b"
    s.put("housing", h)


# --- multi-part geometries (issue 21) --------------------------------------------

@case("multipoint_housing", warning=("housing:", "MultiPoint", "member points", "equally"))
def _(s, tmp):
    h = s.read("housing")
    g = h.geometry.values.to_numpy().copy()
    g[0] = shapely.multipoints([g[0], g[1], g[2]])
    s.put("housing", h.set_geometry(gpd.GeoSeries(g, crs=h.crs)))


@case("geometry_collections_in_zones", warning=("layers.zones", "GeometryCollections", "polygon parts"))
def _(s, tmp):
    z = s.read("zones")
    g = z.geometry.values.to_numpy().copy()
    g[2] = shapely.GeometryCollection([g[2], shapely.LineString([(0, 0), (1, 1)])])
    pyogrio.write_dataframe(z.set_geometry(gpd.GeoSeries(g, crs=z.crs)), s.root / "layers" / "gc.gpkg",
                            layer="zones", geometry_type="Unknown")
    s.point("zones", "gc.gpkg")


@case("lines_in_a_polygon_layer", errors=[("layers.zones", "lines_zones.gpkg", "LineString", "row",
                                           "Lines to Polygons")])
def _(s, tmp):
    z = s.read("zones")
    g = z.geometry.values.to_numpy().copy()
    g[5] = g[5].exterior
    pyogrio.write_dataframe(z.set_geometry(gpd.GeoSeries(g, crs=z.crs)), s.root / "layers" / "lines_zones.gpkg",
                            layer="zones", geometry_type="Unknown")
    s.point("zones", "lines_zones.gpkg")


# --- CRS (issue 21) ----------------------------------------------------------------

@case("distorting_working_crs", warning=("crs.working", "EPSG:3857", "x1.16", "EPSG:4544"), counted=False)
def _(s, tmp):
    s.cfg["crs"]["working"] = "EPSG:3857"
    s.save()


@case("study_across_the_antimeridian", warning=("layers.districts", "180° meridian", "rows"))
def _(s, tmp):
    for i, name in enumerate(("districts", "zones", "innovation_districts", "housing", "firms", "employment", "roads")):
        f = s.read(name).to_crs(4326)
        moved = shapely.transform(f.geometry.values.to_numpy(),
                                  lambda xy: np.column_stack([(xy[:, 0] + 75 + 180) % 360 - 180, xy[:, 1]]))
        f = f.set_geometry(gpd.GeoSeries(moved, crs=4326))
        pyogrio.write_dataframe(f, s.root / "layers" / "fiji.gpkg", layer=name, append=i > 0)
        s.cfg["layers"][name]["path"] = "layers/fiji.gpkg"
    for raster in ("population", "landuse"):
        s.cfg["layers"].pop(raster)
    for other in ("roads", "commuting"):   # not moved: left out (this case is about the polygons)
        s.cfg["layers"].pop(other, None)
    s.cfg.get("balance", {}).pop("reach", None)   # default: euclidean without roads
    s.cfg["crs"] = {}
    s.save()


@case("landuse_with_undeclared_nodata", warning=("layers.landuse", "nodata", "-3.40282e+38"))
def _(s, tmp):
    import rasterio

    with rasterio.open(s.root / "layers/landuse.tif") as src:
        profile, data = src.profile, src.read(1, masked=True)
    values = data.astype("float32").filled(-3.4028235e38)
    profile.update(dtype="float32", nodata=None)
    with rasterio.open(s.root / "layers/landuse_f32.tif", "w", **profile) as dst:
        dst.write(values, 1)
    s.cfg["layers"]["landuse"]["path"] = "layers/landuse_f32.tif"
    s.save()


# --- observed commuting (layers.commuting, a CSV table in the sample) ---------------

def _od(s: Study) -> pd.DataFrame:
    return pd.read_csv(s.root / "layers" / "commuting.csv")


@case("commuting_columns_misnamed", errors=[("layers.commuting", "od.csv", "home_x", "home_y", "missing",
                                             "'lon_h'", "'lat_h'")])
def _(s, tmp):
    od = _od(s).rename(columns={"home_lon": "lon_h", "home_lat": "lat_h"})
    s.text("commuting", "od.csv", od.to_csv(index=False),
           fields={"work_x": "work_lon", "work_y": "work_lat", "commuters": "commuters"})


@case("commuting_negative_commuters", errors=[("layers.commuting", "od.csv", "field 'commuters'", "negative",
                                               "line 4", "-7")])
def _(s, tmp):
    od = _od(s)
    od.loc[2, "commuters"] = -7
    s.text("commuting", "od.csv", od.to_csv(index=False))


@case("commuting_text_in_commuters", errors=[("layers.commuting", "od.csv", "field 'commuters'", "not a number",
                                              "'many'", "line 6")])
def _(s, tmp):
    od = _od(s).astype({"commuters": object})
    od.loc[4, "commuters"] = "many"
    s.text("commuting", "od.csv", od.to_csv(index=False))


@case("commuting_lat_lon_swapped", errors=[("layers.commuting", "od.csv", "swapped", "lines 2, 3, 4")])
def _(s, tmp):
    od = _od(s)
    s.text("commuting", "od.csv", od.to_csv(index=False),
           fields={"home_x": "home_lat", "home_y": "home_lon", "work_x": "work_lat", "work_y": "work_lon",
                   "commuters": "commuters"})


@case("commuting_home_lat_lon_swapped_in_some_rows",
      errors=[("layers.commuting", "od.csv", "swapped", "lines 2, 3, 4")])
def _(s, tmp):
    od = _od(s)
    od.loc[:2, ["home_lon", "home_lat"]] = od.loc[:2, ["home_lat", "home_lon"]].to_numpy()
    s.text("commuting", "od.csv", od.to_csv(index=False))


@case("commuting_table_without_crs", errors=[("layers.commuting", "od.csv", "no CRS", "layers.commuting.crs")])
def _(s, tmp):
    s.cfg["layers"]["commuting"].pop("crs")
    s.text("commuting", "od.csv", _od(s).to_csv(index=False))


@case("commuting_end_outside_study", errors=[("layers.commuting", "od.csv", "outside the study area", "line 3")])
def _(s, tmp):
    od = _od(s)
    od.loc[1, "work_lon"] += 4.0   # about 400 km east: still valid longitude, far from the study
    s.text("commuting", "od.csv", od.to_csv(index=False))


def _od_lines(od: pd.DataFrame) -> list[str]:
    return od.to_csv(index=False).splitlines()


@case("commuting_ragged_csv_line", errors=[("layers.commuting", "od.csv", "cannot read the file as CSV",
                                            "line 7 has 6 values but the header has 5")])
def _(s, tmp):
    """pandas' own parser error: the line of the file, as a text editor or Excel shows it."""
    lines = _od_lines(_od(s))
    lines[6] += ",9"
    s.text("commuting", "od.csv", "\n".join(lines) + "\n")


@case("commuting_first_row_has_one_value_more", errors=[("layers.commuting", "od.csv", "cannot read the file as CSV",
                                                       "line 4 has 6 values but the header has 5")])
def _(s, tmp):
    """pandas reads a first row with one value more than the header silently, its first
    value as the index and every column shifted left (the home longitude read as its
    latitude, the commuters as work latitudes); refused, naming the line (blank lines count)."""
    lines = _od_lines(_od(s))
    lines[1] += ",9"
    s.text("commuting", "od.csv", "\n".join(lines[:1] + ["", ""] + lines[1:]) + "\n")


@case("commuting_bad_value_after_blank_lines", errors=[("layers.commuting", "od.csv", "field 'commuters'",
                                                        "not a number", "'many'", "line 8")])
def _(s, tmp):
    """Blank lines count as lines (the parser skips them): the message names the line of
    the file, not the data row (5)."""
    od = _od(s).astype({"commuters": object})
    od.loc[4, "commuters"] = "many"
    lines = _od_lines(od)
    s.text("commuting", "od.csv", "\n".join(lines[:3] + ["", ""] + lines[3:]) + "\n")


@case("commuting_gbk_csv_with_chinese_header", warning=("layers.commuting", "od_gbk.csv", "gbk"), counted=False)
def _(s, tmp):
    od = _od(s).rename(columns={"commuters": "通勤人数", "home_lon": "居住地经度"})
    (s.root / "layers" / "od_gbk.csv").write_bytes(od.to_csv(index=False).encode("gbk"))
    fields = dict(s.cfg["layers"]["commuting"]["fields"], commuters="通勤人数", home_x="居住地经度")
    s.point("commuting", "od_gbk.csv", fields=fields)


def _sheet(s: Study, file: str, rows: dict[int, list]) -> None:
    """An .xlsx OD table (openpyxl) with the given sheet rows (1-based; rows not given stay empty)."""
    from openpyxl import Workbook

    book = Workbook()
    for r, values in rows.items():
        for c, v in enumerate(values, start=1):
            book.active.cell(row=r, column=c, value=v)
    book.save(s.root / "layers" / file)
    s.point("commuting", file)


def _ods(path: Path, rows: list[list | int]) -> None:
    """A hand-written .ods sheet: a list is a row of cells, an int that many empty rows
    (one ``table:number-rows-repeated`` row, as LibreOffice saves them)."""
    import zipfile
    from xml.sax.saxutils import escape

    def cell(v) -> str:
        if isinstance(v, (int, float)):
            return f'<table:table-cell office:value-type="float" office:value="{v!r}"><text:p>{v}</text:p></table:table-cell>'
        return f'<table:table-cell office:value-type="string"><text:p>{escape(str(v))}</text:p></table:table-cell>'

    body = "".join(f'<table:table-row table:number-rows-repeated="{r}"><table:table-cell/></table:table-row>'
                   if isinstance(r, int) else "<table:table-row>" + "".join(map(cell, r)) + "</table:table-row>"
                   for r in rows)
    ns = ('xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
          'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
          'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"')
    content = (f'<?xml version="1.0" encoding="UTF-8"?><office:document-content {ns} office:version="1.2">'
               f'<office:body><office:spreadsheet><table:table table:name="OD">{body}</table:table>'
               "</office:spreadsheet></office:body></office:document-content>")
    manifest = ('<?xml version="1.0" encoding="UTF-8"?><manifest:manifest xmlns:manifest="urn:oasis:names:tc:'
                'opendocument:xmlns:manifest:1.0" manifest:version="1.2"><manifest:file-entry manifest:full-path="/" '
                'manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/><manifest:file-entry '
                'manifest:full-path="content.xml" manifest:media-type="text/xml"/></manifest:manifest>')
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet", compress_type=zipfile.ZIP_STORED)
        z.writestr("content.xml", content)
        z.writestr("META-INF/manifest.xml", manifest)


@case("commuting_xlsx_rows_as_the_sheet_numbers_them",
      errors=[("layers.commuting", "od.xlsx", "field 'commuters'", "not a number", "'many'", "row 9")])
def _(s, tmp):
    """A title on row 1, the header on row 3, an empty row inside the data: the message names
    row 9 as Excel / WPS show it (the 5th data row; GDAL read the title as a header)."""
    od = _od(s).head(20)
    values = od.to_numpy().tolist()
    values[4][4] = "many"
    rows = {1: ["2023年手机信令职住OD"], 3: list(od.columns)}
    rows.update({4 + i + (i >= 3): v for i, v in enumerate(values)})   # row 7 left empty
    _sheet(s, "od.xlsx", rows)


@case("commuting_xlsx_header_on_row_1_empty_rows_inside",
      errors=[("layers.commuting", "od.xlsx", "field 'commuters'", "negative", "rows 4, 8")])
def _(s, tmp):
    """GDAL takes row 1 for the header; the empty rows 5 and 6 are skipped (as a CSV's
    blank lines), not reported as flows without coordinates."""
    od = _od(s).head(10)
    od.loc[[2, 4], "commuters"] = -3
    values = od.to_numpy().tolist()
    rows = {1: list(od.columns)}
    rows.update({2 + i + 2 * (i >= 3): v for i, v in enumerate(values)})
    _sheet(s, "od.xlsx", rows)


@case("commuting_ods_empty_rows_above_and_inside",
      errors=[("layers.commuting", "od.ods", "field 'commuters'", "not a number", "'x'", "row 8")])
def _(s, tmp):
    """LibreOffice's .ods: two empty rows above the header (row 3) and two inside the data."""
    od = _od(s).head(6)
    values = od.to_numpy().tolist()
    values[2][4] = "x"
    _ods(s.root / "layers" / "od.ods", [2, list(od.columns), *values[:2], 2, *values[2:], 1000])
    s.point("commuting", "od.ods")


@case("commuting_xlsx_header_of_two_merged_rows",
      errors=[("layers.commuting", "od.xlsx", "header", "rows 1 and 2", "merged", "single header row")])
def _(s, tmp):
    from openpyxl import load_workbook

    od = _od(s).head(5)
    rows = {1: ["居住地", None, "工作地", None, "人数"], 2: ["经度", "纬度", "经度", "纬度"]}
    rows.update({3 + i: v for i, v in enumerate(od.to_numpy().tolist())})
    _sheet(s, "od.xlsx", rows)
    book = load_workbook(s.root / "layers" / "od.xlsx")
    for cells in ("A1:B1", "C1:D1", "E1:E2"):
        book.active.merge_cells(cells)
    book.save(s.root / "layers" / "od.xlsx")
    s.point("commuting", "od.xlsx", fields={"home_x": "经度", "home_y": "纬度", "work_x": "经度",
                                            "work_y": "纬度", "commuters": "人数"})


@case("commuting_xlsx_totals_row_under_the_flows",
      errors=[("layers.commuting", "od.xlsx", "sheet '通勤OD'", "row 12 looks like a totals row", "'合 计'",
               "equal the sum of the other rows", "delete it")])
def _(s, tmp):
    """A 合计 row under the flows (one error, not four about its missing coordinates), in a
    workbook of two sheets chosen by layers.commuting.layer."""
    from openpyxl import load_workbook

    od = _od(s).head(10)
    rows = {1: list(od.columns), **{2 + i: v for i, v in enumerate(od.to_numpy().tolist())},
            12: ["合 计", None, None, None, int(od["commuters"].sum())]}
    _sheet(s, "od.xlsx", rows)
    book = load_workbook(s.root / "layers" / "od.xlsx")
    book.active.title = "通勤OD"
    book.create_sheet("说明").append(["数据来源：运营商手机信令"])
    book.save(s.root / "layers" / "od.xlsx")
    s.cfg["layers"]["commuting"]["layer"] = "通勤OD"   # (Study.point's own argument is named layer)
    s.save()


@case("commuting_csv_sum_row_without_a_label",
      errors=[("layers.commuting", "od.csv", "line 8 looks like a totals row", "equal the sum of the other rows")])
def _(s, tmp):
    """Excel's SUM under every column, saved as CSV: no label, each value the column's sum."""
    od = _od(s).head(6)
    lines = _od_lines(pd.concat([od, od.sum().to_frame().T], ignore_index=True))
    s.text("commuting", "od.csv", "\n".join(lines) + "\n")


@case("commuting_workbook_of_several_sheets",
      errors=[("layers.commuting", "od.xlsx", "the workbook holds several sheets ('Sheet', '说明')",
               "layers.commuting.layer")])
def _(s, tmp):
    from openpyxl import load_workbook

    od = _od(s).head(5)
    _sheet(s, "od.xlsx", {1: list(od.columns), **{2 + i: v for i, v in enumerate(od.to_numpy().tolist())}})
    book = load_workbook(s.root / "layers" / "od.xlsx")
    book.create_sheet("说明").append(["数据来源：运营商手机信令"])
    book.create_sheet("Sheet3")   # empty: not a sheet GDAL lists
    book.save(s.root / "layers" / "od.xlsx")


_SAME_NAMES = {"home_x": "经度", "home_y": "纬度", "work_x": "经度", "work_y": "纬度", "commuters": "人数"}


@case("commuting_csv_header_repeats_names",
      errors=[("layers.commuting", "od.csv", "the header has '经度' twice (columns 1 and 3 from the left)"),
              ("layers.commuting", "od.csv", "the header has '纬度' twice (columns 2 and 4")])
def _(s, tmp):
    """经度, 纬度, 经度, 纬度: pandas renamed the second pair 经度.1, 纬度.1 and the mapping read
    the home end as the work end too (every commute 0 m, exit 0)."""
    od = _od(s)
    od.columns = ["经度", "纬度", "经度", "纬度", "人数"]
    s.text("commuting", "od.csv", od.to_csv(index=False), fields=_SAME_NAMES)


@case("commuting_xlsx_header_repeats_names",
      errors=[("layers.commuting", "od.xlsx", "the header has '经度' twice (columns A and C)"),
              ("layers.commuting", "od.xlsx", "the header has '纬度' twice (columns B and D)")])
def _(s, tmp):
    """The same in a sheet (GDAL keeps both names): it was an internal error (exit 1)."""
    od = _od(s).head(20)
    _sheet(s, "od.xlsx", {1: ["经度", "纬度", "经度", "纬度", "人数"],
                          **{2 + i: v for i, v in enumerate(od.to_numpy().tolist())}})
    s.point("commuting", "od.xlsx", fields=_SAME_NAMES)


@case("commuting_one_column_mapped_to_two_coordinates",
      errors=[("layers.commuting", "od.csv", "maps home_x and work_x to the same column 'home_lon'")])
def _(s, tmp):
    fields = dict(s.cfg["layers"]["commuting"]["fields"], work_x="home_lon")
    s.text("commuting", "od.csv", _od(s).to_csv(index=False), fields=fields)


# --- config and output -----------------------------------------------------------

@case("yaml_syntax_error", errors=[("config.yaml", "line 4", "YAML")])
def _(s, tmp):
    # a tab in the indentation of line 4
    lines = s.config.read_text(encoding="utf-8").splitlines()
    head = ["study:", "  name: x", "balance:", "\tradius_m: 5000"]
    s.config.write_text("\n".join(head + lines) + "\n", encoding="utf-8")


@case("config_does_not_exist", errors=[("no_such_config.yaml",)], args=("-c", "{root}/no_such_config.yaml"))
def _(s, tmp):
    pass


@case("unknown_config_key", errors=[("balance.raduis_m", "radius_m")])
def _(s, tmp):
    s.cfg["balance"]["raduis_m"] = 4000
    s.save()


@case("negative_radius", errors=[("balance", "radius_m", "-5000")])
def _(s, tmp):
    s.cfg["balance"]["radius_m"] = -5000
    s.save()


@case("radii_not_ascending", errors=[("balance", "radii_m", "ascending")])
def _(s, tmp):
    s.cfg["balance"]["radii_m"] = [5000, 3000, 10000]
    s.save()


@case("invalid_core_share", errors=[("core_periphery", "core_share", "1.5")])
def _(s, tmp):
    s.cfg["core_periphery"]["core_share"] = 1.5
    s.save()


@case("output_parent_is_a_file", errors=[("not_a_folder",)], args=("-o", "{tmp}/not_a_folder/maps"))
def _(s, tmp):
    (tmp / "not_a_folder").write_text("a regular file", encoding="utf-8")


@case("inputs_inside_the_output_folder", errors=[("qgis/sample.gpkg", "inside the output folder")],
      args=("-o", "{root}"))
def _(s, tmp):
    # a run replaces qgis/ of its output folder: an input stored there would be lost
    (s.root / "qgis").mkdir()
    shutil.move(s.root / GPKG, s.root / "qgis" / "sample.gpkg")
    for name in ("districts", "zones", "innovation_districts", "housing"):
        s.cfg["layers"][name]["path"] = "qgis/sample.gpkg"
    s.save()


# ---------------------------------------------------------------------------
# the test


@pytest.fixture(scope="session")
def good_outputs(small_study, tmp_path_factory) -> Path:
    """The outputs of one good run through the CLI (copied per case as 'previous outputs')."""
    out = tmp_path_factory.mktemp("good_run") / "maps"
    proc = run_cli("run", "-c", small_study, "-o", out, "-q")
    assert proc.returncode == 0, proc.stderr
    return out


def _match_lines(lines: list[str], expected: list[tuple[str, ...]]) -> None:
    """Each expected tuple matches a distinct line (greedy is enough for these specs)."""
    free = list(lines)
    for parts in expected:
        hit = next((ln for ln in free if all(p.lower() in ln.lower() for p in parts)), None)
        assert hit is not None, f"no error line contains all of {parts}:\n" + "\n".join(lines)
        free.remove(hit)


#: Cases run through the real ``zoneatlas`` command (a child process), one of each kind:
#: a file, a config and a CRS problem, several layers at once, text that tries to forge
#: an ``error:`` line, a repair (exit 0 with a warning) and a roads problem
#: (tests/test_bad_input_roads.py); every other case runs in-process.
SUBPROCESS_CASES = frozenset({
    "empty_geojson_file", "unknown_config_key", "raster_without_crs", "three_problems_in_three_layers",
    "newlines_in_values_cannot_forge_error_lines", "gbk_shapefile_without_cpg", "road_speed_not_positive",
})


def test_corpus_is_large_enough():
    assert len(CASES) >= 30
    assert len({c.name for c in CASES}) == len(CASES)
    assert SUBPROCESS_CASES & {c.name for c in CASES} == SUBPROCESS_CASES - {"road_speed_not_positive"}


@pytest.mark.parametrize("bad", CASES, ids=[c.name for c in CASES])
def test_bad_input(bad: Case, small_study_copy, good_outputs, tmp_path, cli_in_process):
    study = Study(small_study_copy)
    work = tmp_path / "work"
    work.mkdir()
    bad.breaks(study, work)
    inputs_before = tree_digest(study.root)
    out = tmp_path / "maps"
    shutil.copytree(good_outputs, out)
    outputs_before = tree_digest(out)

    args = {"-c": str(study.config), "-o": str(out)}
    extra = list(bad.args or ())
    for flag, value in zip(extra[::2], extra[1::2]):
        args[flag] = value.format(tmp=work, root=study.root)
    runner = run_cli if bad.name in SUBPROCESS_CASES else cli_in_process
    proc = runner("run", *[x for kv in args.items() for x in kv], "-q")

    assert "Traceback" not in proc.stderr and "Traceback" not in proc.stdout, proc.stderr
    assert "internal error" not in proc.stderr, proc.stderr
    assert tree_digest(study.root) == inputs_before, "input files must not change"
    errors = [ln[len("error: "):] for ln in proc.stderr.splitlines() if ln.startswith("error: ")]
    if bad.warning is not None:
        assert proc.returncode == 0, proc.stderr
        assert errors == []
        manifest = json.loads((out / "run.json").read_text(encoding="utf-8"))
        hits = [w for w in manifest["warnings"] if all(p in w for p in bad.warning)]
        assert len(hits) == 1, manifest["warnings"]
        if bad.counted:
            assert re.search(r"\b[1-9]\d*\b", hits[0]), "the warning must count the repaired features"
        if bad.name == "gbk_shapefile_without_cpg":   # and the Chinese text came out right
            zones = pd.read_csv(out / "tables" / "zones.csv", encoding="utf-8-sig", dtype=str)
            assert set(zones["name"]) == set(study.read("zones")["name"])
        return
    assert proc.returncode == 2, proc.stderr
    assert len(errors) == len(bad.errors), proc.stderr
    _match_lines(errors, bad.errors)
    for line in errors:   # an id listed once, however often it occurs
        listed = re.findall(r"ids there: (.*)", line)
        assert not listed or len(set(listed[0].split(", "))) == len(listed[0].split(", ")), line
    if "-o" not in dict(zip(extra[::2], extra[1::2])):
        assert tree_digest(out) == outputs_before, "the previous outputs must stay intact"
    assert not [*out.parent.glob(f"{STAGING_PREFIX}*"), *out.glob(f"{STAGING_PREFIX}*")], \
        "no staging folder left behind"


def test_user_files_in_output_subfolders_are_not_lost(small_study, tmp_path):
    out = tmp_path / "project"
    (out / "tables").mkdir(parents=True)
    (out / "tables" / "budget.xlsx").write_bytes(b"the planner's own spreadsheet")
    (out / "notes.txt").write_text("kept", encoding="utf-8")
    proc = run_cli("run", "-c", small_study, "-o", out, "-q")
    # the run writes only its own files, so it succeeds beside the planner's files
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    assert (out / "notes.txt").read_text(encoding="utf-8") == "kept"
    assert (out / "tables" / "budget.xlsx").read_bytes() == b"the planner's own spreadsheet"
    assert (out / "tables" / "balance_workplaces.csv").is_file() and (out / "run.json").is_file()


VALIDATE_CASES = ["duplicate_ids", "three_problems_in_three_layers", "raster_without_crs", "unknown_config_key",
                  "gpkg_with_unreadable_bytes", "lines_in_a_polygon_layer", "commuting_xlsx_rows_as_the_sheet_numbers_them",
                  "commuting_ods_empty_rows_above_and_inside"]


@pytest.mark.parametrize("name", VALIDATE_CASES)
def test_validate_reports_the_same_problems_and_writes_nothing(name, small_study_copy, tmp_path,
                                                              cli_in_process):
    bad = next(c for c in CASES if c.name == name)
    study = Study(small_study_copy)
    bad.breaks(study, tmp_path)
    before = tree_digest(tmp_path)
    proc = (run_cli if name in SUBPROCESS_CASES else cli_in_process)("validate", "-c", study.config)
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    errors = [ln[len("error: "):] for ln in proc.stderr.splitlines() if ln.startswith("error: ")]
    assert len(errors) == len(bad.errors), proc.stderr
    _match_lines(errors, bad.errors)
    assert tree_digest(tmp_path) == before


def test_in_process_cli_leaves_logging_and_warnings_as_they_were(cli_in_process, tmp_path):
    """geo.cli.main configures the 'geo' logger and captures warnings; the runner undoes it,
    and what it returns matches the child process's exit code and error lines."""
    import logging

    geo_log = logging.getLogger("geo")
    before = (geo_log.handlers[:], geo_log.level, geo_log.propagate, warnings.showwarning)
    missing = tmp_path / "nope.yaml"
    proc = cli_in_process("validate", "-c", missing)
    child = run_cli("validate", "-c", missing)
    assert (proc.returncode, child.returncode) == (2, 2)
    assert proc.stderr == child.stderr and proc.stderr.startswith("error: ") and "nope.yaml" in proc.stderr
    assert (geo_log.handlers[:], geo_log.level, geo_log.propagate, warnings.showwarning) == before
    assert cli_in_process("--version").returncode == 0    # argparse's SystemExit(0) is a return code
    with pytest.raises(UserWarning):                      # filterwarnings = error still applies
        warnings.warn("still an error", UserWarning)
