"""``layers.commuting``: observed home -> work flows, read into plain coordinate arrays.

Two forms (docs/input-data.md):

* a **table** (CSV, TSV, an OGR table without geometry such as a GeoPackage attribute
  table or a spreadsheet, or a plain Parquet file) with ``home_x, home_y, work_x, work_y``
  in the layer's ``crs`` (a table has no CRS of its own, so ``crs:`` is required) and
  ``commuters``;
* a **line layer** (first vertex = home, last vertex = work) with ``commuters``.

A million flows is an ordinary mobile-signalling table, so nothing here builds a shapely
geometry per flow: CSVs are parsed by pandas' C reader (GDAL's CSV driver is eight
times slower and reads every value as text), coordinates stay numpy arrays, and the
checks, the GCJ-02 / BD-09 conversion and the reprojection are vectorised.
"""

from __future__ import annotations

import codecs
import io
import logging
import re
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import pyogrio
import shapely
from pyproj import CRS

from geo import schema as sch
from geo._coords import bd09_to_wgs84, gcj02_to_wgs84
from geo._crs import transformer
from geo._errors import format_rows
from geo._types import LayerSource
from geo.layers._crs import _inverse_projection
from geo.layers._csvlines import DATA_ROW, csv_head, csv_lines, parser_message, too_many_values
from geo.layers._encoding import looks_like_legacy, transcode_text_file
from geo.layers._fields import _resolve_fields
from geo.layers._read import _check_path, _files_of, choose_layer
from geo.layers._report import _Ctx, _list, _one_line, _Report, _shown_path
from geo.layers._sheets import SHEET_SUFFIXES, column_letter, read_sheet
from geo.layers._values import parse_counts

if TYPE_CHECKING:
    from geo.settings import VectorLayerSettings

logger = logging.getLogger(__name__)

NAME = "commuting"
_CSV_SUFFIXES = (".csv", ".tsv", ".txt")
_PARQUET_SUFFIXES = (".parquet", ".geoparquet")
#: ends farther than this outside the zones' bounding box are errors (wrong CRS or swapped axes)
STUDY_MARGIN_M = 100_000.0


@dataclass
class _Flows:
    """One flow table while it is loaded: coordinates in ``crs`` (then in the working CRS)."""

    ctx: _Ctx
    source: LayerSource
    xy: np.ndarray            # (n, 4): home_x, home_y, work_x, work_y
    commuters: np.ndarray
    rows: np.ndarray          # 1-based rows in the file
    labels: np.ndarray | None  # flow_id when given (messages)
    crs: CRS | None
    ok: bool = True            # coordinates and CRS usable
    values_ok: bool = True     # commuters usable
    #: a CSV's rows by their line in the file (None: not a CSV); see geo.layers._csvlines
    lines: np.ndarray | None = None
    row_word: str = "row"
    #: a GeoPackage table's rows by their fid (None: the format keeps none)
    fids: np.ndarray | None = None

    def keep(self, mask: np.ndarray) -> None:
        """Only the rows of ``mask`` from here on."""
        self.xy, self.commuters, self.rows = self.xy[mask], self.commuters[mask], self.rows[mask]
        if self.labels is not None:
            self.labels = self.labels[mask]
        if self.lines is not None:
            self.lines = self.lines[mask]
        if self.fids is not None:
            self.fids = self.fids[mask]

    def rows_text(self, mask: np.ndarray) -> str:
        if self.labels is not None:
            return format_rows(self.labels[mask]) + " (flow_id)"
        if self.lines is not None:
            return format_rows(self.lines[mask], word="line")
        if self.fids is not None:
            return format_rows(self.fids[mask], word="fid")
        return format_rows(self.rows[mask], word=self.row_word)


def _read_csv(ctx: _Ctx, cfg: VectorLayerSettings, report: _Report) -> pd.DataFrame | None:
    raw = ctx.path.read_bytes()
    text: str | None = None   # None: the bytes are UTF-8 text
    try:
        raw.decode("utf-8-sig")
        legacy = cfg.encoding is not None and cfg.encoding.replace("-", "").lower() not in ("utf8", "utf8sig")
        utf8 = not (legacy or looks_like_legacy(raw))
    except UnicodeDecodeError:
        utf8 = False
    if not utf8:
        text = transcode_text_file(ctx, raw, cfg.encoding, report)
        if text is None:
            return None
    head = text[:2000] if text is not None else raw[:2000].decode("utf-8", errors="ignore")
    sep = "\t" if ctx.path.suffix.lower() == ".tsv" or ("\t" in head and "," not in head) else ","
    data = text if text is not None else raw
    try:
        # UTF-8 as it is: the C parser reads the bytes (twice as fast as from a str). index_col=False:
        # a first row with more values than the header is not silently read as an index (its
        # values shifted one column left); pandas warns instead, and that is refused below
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", pd.errors.ParserWarning)
            frame = pd.read_csv(io.StringIO(data) if text is not None else io.BytesIO(data), sep=sep,
                                index_col=False, low_memory=False,
                                encoding="utf-8-sig" if text is None else None)
    except Exception as exc:  # noqa: BLE001 - pandas' parser errors name the line
        report.error(f"{ctx.at()} cannot read the file as CSV ({parser_message(_one_line(exc))}); save it "
                     "as UTF-8 CSV with a header row")
        return None
    header, first = csv_head(data, sep)
    if first is not None and first[1] > len(header) and any(
            issubclass(w.category, pd.errors.ParserWarning) for w in caught):
        report.error(f"{ctx.at()} cannot read the file as CSV ({too_many_values(first[0], len(header), first[1])}); "
                     "save it as UTF-8 CSV with a header row")
        return None
    if len(set(header)) < len(header) == frame.shape[1]:
        frame.columns = header   # a repeated name as written (not pandas' x.1): refused when mapped
    # messages name a CSV's rows by their line in the file, as pandas' own errors above do
    frame.attrs["lines"] = csv_lines(data, len(frame), sep)
    return frame


def _read_ogr(ctx: _Ctx, cfg: VectorLayerSettings, report: _Report):
    """``(attributes, geometries or None, crs or None)`` of an OGR layer or table."""
    if ctx.path.suffix.lower() == ".xls":
        report.error(f"{ctx.at()} an Excel 97-2003 workbook (.xls) cannot be read; save it as .xlsx "
                     "(Excel / WPS: Save As, Excel Workbook) or as CSV UTF-8")
        return None
    try:
        layers = pyogrio.list_layers(ctx.path)
    except Exception as exc:  # noqa: BLE001
        report.error(f"{ctx.at()} cannot read the file ({_one_line(exc)}); give a CSV table, an .xlsx or "
                     ".ods sheet or a GIS file (GeoPackage, Shapefile, GeoJSON, FlatGeobuf)")
        return None
    found = choose_layer(ctx, cfg.layer, layers, report)
    if found is None:
        return None
    layer, geom_type = found
    if ctx.path.suffix.lower() in SHEET_SUFFIXES:   # rows named as the sheet numbers them
        named = {*cfg.fields.values(), *sch.LAYERS[NAME].fields}   # configured or canonical names
        if cfg.encoding is not None and codecs.lookup(cfg.encoding).name != "utf-8":
            report.warn(f"{ctx.at()} layers.{NAME}.encoding ({cfg.encoding}) ignored: a {ctx.path.suffix} "
                        "workbook stores its text as Unicode")
        try:
            frame = read_sheet(ctx, layer, named, report)
        except Exception as exc:  # noqa: BLE001
            report.error(f"{ctx.at()} cannot read the sheet ({_one_line(exc)})")
            return None
        return None if frame is None else (frame, None, None)
    has_geometry = geom_type is not None
    try:
        # with the fids where the format keeps them (a GeoPackage table): messages name the
        # rows by them, as QGIS's attribute table shows them
        fids = bool(pyogrio.read_info(ctx.path, layer=layer).get("fid_column"))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            frame = pyogrio.read_dataframe(ctx.path, layer=layer, read_geometry=has_geometry,
                                           encoding=cfg.encoding, use_arrow=True, fid_as_index=fids)
    except Exception as exc:  # noqa: BLE001
        report.error(f"{ctx.at()} cannot read the layer ({_one_line(exc)})")
        return None
    fid_values = frame.index.to_numpy() if fids else None
    frame = frame.reset_index(drop=True)
    if has_geometry:
        crs = frame.crs
        geoms = frame.geometry.to_numpy()
        attrs = pd.DataFrame(frame.drop(columns=frame.geometry.name))
    else:
        crs, geoms, attrs = None, None, pd.DataFrame(frame)
    if fid_values is not None:
        attrs.attrs["fids"] = fid_values
    return attrs, geoms, crs


def _read_parquet(ctx: _Ctx, report: _Report):
    import pyarrow.parquet as pq

    try:
        meta = pq.read_schema(ctx.path).metadata or {}
        if b"geo" in meta:
            import geopandas as gpd

            frame = gpd.read_parquet(ctx.path)
            return pd.DataFrame(frame.drop(columns=frame.geometry.name)), frame.geometry.to_numpy(), frame.crs
        return pd.read_parquet(ctx.path), None, None
    except Exception as exc:  # noqa: BLE001
        report.error(f"{ctx.at()} cannot read the Parquet file ({_one_line(exc)})")
        return None


def _line_ends(ctx: _Ctx, geoms: np.ndarray, report: _Report) -> tuple[np.ndarray, np.ndarray] | None:
    """First and last vertex of each line: ``(xy (n, 4), bad mask)``."""
    kinds = shapely.get_type_id(geoms)
    lines = np.isin(kinds, (1, 5))    # LineString, MultiLineString
    if not lines.any():
        found = sorted({str(t) for t in shapely.get_type_id(geoms[:100])})
        report.error(f"{ctx.at()} expected lines (first vertex home, last vertex work) or a table with "
                     f"home_x, home_y, work_x, work_y; the layer holds geometry type ids {', '.join(found)}")
        return None
    coords, owner = shapely.get_coordinates(geoms, return_index=True)
    n = len(geoms)
    counts = np.bincount(owner, minlength=n)
    xy = np.full((n, 4), np.nan)
    has = counts >= 2
    first = np.concatenate([[0], np.cumsum(counts)[:-1]])
    last = first + counts - 1
    xy[has, 0:2] = coords[first[has]]
    xy[has, 2:4] = coords[last[has]]
    bad = ~has | ~lines
    return xy, bad


def _read(ctx: _Ctx, cfg: VectorLayerSettings, report: _Report):
    suffix = ctx.path.suffix.lower()
    if suffix in _CSV_SUFFIXES and ctx.path.is_file():
        if cfg.layer is not None:
            report.warn(f"{ctx.at()} layers.{ctx.name}.layer ({cfg.layer!r}) is ignored: a {suffix} table "
                        "has no layers (a layer name is for a GeoPackage or a shapefile folder)")
        attrs = _read_csv(ctx, cfg, report)
        return None if attrs is None else (attrs, None, None)
    if suffix in _PARQUET_SUFFIXES:
        return _read_parquet(ctx, report)
    return _read_ogr(ctx, cfg, report)


def _distinct_columns(ctx: _Ctx, mapping: dict[str, str], columns: list[str], sheet: bool,
                      report: _Report) -> bool:
    """Each mapped column is one column of the file, and the four coordinates four columns
    (a header of 经度, 纬度, 经度, 纬度 would read the home end twice: every commute 0 m)."""
    repeated = set()
    for col in dict.fromkeys(mapping.values()):
        at = [i for i, c in enumerate(columns) if c == col]
        if len(at) > 1:
            repeated.add(col)
            where = " and ".join(column_letter(i) if sheet else str(i + 1) for i in at)
            report.error(f"{ctx.at()} the header has '{col}' {'twice' if len(at) == 2 else f'{len(at)} times'} "
                         f"(columns {where}{'' if sheet else ' from the left'}); give each column its own name "
                         f"(e.g. home_{col} and work_{col}) and map it in layers.{NAME}.fields")
    coords = [c for c in sch.FLOW_COORDINATES if c in mapping]
    same = False
    for col in dict.fromkeys(mapping[c] for c in coords):
        fields = [c for c in coords if mapping[c] == col]
        if len(fields) > 1 and col not in repeated:
            report.error(f"{ctx.at()} layers.{NAME}.fields maps {' and '.join(fields)} to the same column "
                         f"'{col}'; each coordinate needs its own column")
            same = True
    return not (repeated or same)


def _numbers(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Coordinates as float: ``(values, bad)``; bad = present but not a number."""
    if pd.api.types.is_numeric_dtype(values.dtype) and not pd.api.types.is_bool_dtype(values.dtype):
        return values.to_numpy(dtype="float64", na_value=np.nan), np.zeros(len(values), bool)
    text = values.astype("string").str.strip()
    v = pd.to_numeric(text, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
    bad = (text.notna() & text.ne("")).to_numpy(bool) & np.isnan(v)
    return v, bad


def load_flows(cfg: VectorLayerSettings, base: Path | None, report: _Report) -> _Flows | None:
    """Read and check ``layers.commuting`` in its own CRS (every problem reported)."""
    ctx = _Ctx(name=NAME, path=Path(cfg.path), shown=_shown_path(Path(cfg.path), base))
    if not _check_path(ctx, report):
        return None
    read = _read(ctx, cfg, report)
    if read is None:
        return None
    attrs, geoms, file_crs = read
    is_csv = "lines" in attrs.attrs
    lines = attrs.attrs.pop("lines", None)
    sheet_rows = attrs.attrs.pop("rows", None)   # a spreadsheet's rows as the sheet numbers them
    fids = attrs.attrs.pop("fids", None)         # a GeoPackage's rows by their fid
    attrs.columns = [str(c) for c in attrs.columns]
    columns = list(attrs.columns)
    n = len(attrs)
    if n == 0:
        report.error(f"{ctx.at()} the table has no rows")
        return None
    mapping = _resolve_fields(ctx, cfg, columns, report)
    if mapping is None or not _distinct_columns(ctx, mapping, columns, sheet_rows is not None, report):
        return None
    source = LayerSource(name=NAME, path=ctx.path, layer=ctx.read_layer, files=_files_of(ctx.path),
                         aliases=dict(mapping), feature_count=n)
    rows = np.arange(1, n + 1) if sheet_rows is None else sheet_rows
    labels = attrs[mapping["flow_id"]].astype(str).to_numpy(dtype=object) if "flow_id" in mapping else None
    flows = _Flows(ctx=ctx, source=source, xy=np.full((n, 4), np.nan), commuters=np.zeros(n), rows=rows,
                   labels=labels, crs=None, lines=lines, row_word=DATA_ROW if is_csv else "row", fids=fids)

    if geoms is None:   # a table of coordinates
        missing = [c for c in sch.FLOW_COORDINATES if c not in mapping]
        if missing:
            report.error(f"{ctx.at()} a table of flows needs the columns {', '.join(sch.FLOW_COORDINATES)} "
                         f"(and commuters); missing: {', '.join(missing)}; columns in the file: "
                         f"{_list(columns)}; map them with layers.{NAME}.fields (e.g. "
                         f"{{{missing[0]}: <column>}}), or give a line layer (home -> work)")
            return None
        totals = _totals_rows(flows, attrs, mapping, report)
        if totals.any():   # reported; the other rows are checked without it
            attrs = attrs.loc[~totals].reset_index(drop=True)
            flows.keep(~totals)
        for k, canon in enumerate(sch.FLOW_COORDINATES):
            v, bad = _numbers(attrs[mapping[canon]])
            col = mapping[canon]
            if bad.any():
                ex = _list(pd.Series(attrs[col].to_numpy()[bad]).astype(str).unique()[:5])
                report.error(f"{ctx.at(canon, col)} not a number: {ex} in {flows.rows_text(bad)}; "
                             "use plain decimal coordinates")
                flows.ok = False
            miss = np.isnan(v) & ~bad
            if miss.any():
                report.error(f"{ctx.at(canon, col)} missing coordinates in {flows.rows_text(miss)}")
                flows.ok = False
            flows.xy[:, k] = v
        if cfg.crs is None:
            report.error(f"{ctx.at()} a table of flows has no CRS of its own; add layers.{NAME}.crs "
                         "(e.g. crs: EPSG:4326 for longitude/latitude, or the projected CRS of "
                         "the coordinates)", crs=True)
            flows.ok = False
        else:
            flows.crs = CRS.from_user_input(cfg.crs)
    else:
        ends = _line_ends(ctx, np.asarray(geoms, dtype=object), report)
        if ends is None:
            return None
        flows.xy, bad = ends
        if bad.any():
            report.error(f"{ctx.at()} {int(bad.sum())} features are not lines of at least two vertices "
                         f"({flows.rows_text(bad)}); each flow is a line from home to work")
            flows.ok = False
        if file_crs is not None:
            flows.crs = CRS.from_user_input(file_crs)
        elif cfg.crs is not None:
            flows.crs = CRS.from_user_input(cfg.crs)
        else:
            report.error(f"{ctx.at()} the layer has no CRS; add layers.{NAME}.crs", crs=True)
            flows.ok = False

    _commuters(flows, attrs[mapping["commuters"]], mapping["commuters"], report)
    if flows.ok and flows.crs is not None:
        _check_range(flows, report)
    if flows.ok and cfg.coordinates != "wgs84":
        if not flows.crs.is_geographic:
            report.error(f"{ctx.at()} coordinates: {cfg.coordinates} needs longitude/latitude "
                         f"(EPSG:4326 or EPSG:4490) but the layer is in {flows.crs.to_string()}; "
                         f"remove layers.{NAME}.coordinates or fix the CRS", crs=True)
            flows.ok = False
        else:
            func = gcj02_to_wgs84 if cfg.coordinates == "gcj02" else bd09_to_wgs84
            for a in (0, 2):
                flows.xy[:, a], flows.xy[:, a + 1] = func(flows.xy[:, a], flows.xy[:, a + 1])
    return flows


#: the label of a totals row (合计, 总计, Total ...), once blanks and a closing colon are removed
_TOTALS = re.compile(r"(合计|总计|小计|共计|汇总|总和|total|totals|grandtotal|subtotal|sum)[:：]?",
                     re.IGNORECASE)


def _totals_rows(flows: _Flows, attrs: pd.DataFrame, mapping: dict[str, str], report: _Report) -> np.ndarray:
    """A first or last row of a table of flows that is its total (a 合计 label, or commuters
    and coordinates each the sum of the other rows', coordinates possibly missing), reported."""
    n = len(attrs)
    totals = np.zeros(n, bool)
    if n < 3:
        return totals
    counts = parse_counts(attrs[mapping["commuters"]])[0]
    xy = np.column_stack([_numbers(attrs[mapping[c]])[0] for c in sch.FLOW_COORDINATES])
    for i in sorted({0, n - 1}):
        words = [v.strip() for v in attrs.iloc[i] if isinstance(v, str) and _TOTALS.fullmatch(re.sub(r"\s", "", v))]
        others = np.arange(n) != i
        summed = _is_sum(counts[i], counts[others]) and all(
            np.isnan(xy[i, k]) or _is_sum(xy[i, k], xy[others, k]) for k in range(4))
        if not (words or summed):
            continue
        totals[i] = True
        why = [f"'{words[0]}'"] if words else []
        if summed:
            why.append(f"its commuters, {counts[i]:,.0f}, equal the sum of the other rows")
        report.error(f"{flows.ctx.at()} {flows.rows_text(np.arange(n) == i)} looks like a totals row "
                     f"({'; '.join(why)}), not a flow; delete it from the table")
    return totals


def _is_sum(value: float, rest: np.ndarray) -> bool:
    """``value`` is the sum of ``rest`` (to rounding: half a unit or a millionth)."""
    total = float(np.nansum(rest))
    return bool(np.isfinite(value) and total > 0 and abs(value - total) <= max(0.5, 1e-6 * total))


def _commuters(flows: _Flows, values: pd.Series, col: str, report: _Report) -> None:
    at = flows.ctx.at("commuters", col)
    v, from_text, bad = parse_counts(values)
    if bad.any():
        ex = _list(pd.Series(values.to_numpy()[bad]).astype(str).unique()[:5])
        report.error(f"{at} not a number: {ex} in {flows.rows_text(bad)}; use plain numbers")
        flows.values_ok = False
    if from_text.any():   # with examples, as for every other layer
        text = pd.Series(values.to_numpy()[from_text]).astype("str")
        distinct = dict(zip(text[:1000], v[from_text][:1000]))
        ex = ", ".join(f"'{t}' -> {x:g}" for t, x in list(distinct.items())[:3])
        report.warn(f"{at} {int(from_text.sum())} numbers written as text were interpreted "
                    f"({ex}; {flows.rows_text(from_text)})")
    neg = v < 0
    if neg.any():
        report.error(f"{at} negative values in {flows.rows_text(neg)}: "
                     f"{', '.join(f'{x:g}' for x in np.unique(v[neg])[:5])}; commuters must be >= 0")
        flows.values_ok = False
    inf = np.isinf(v)
    miss = np.isnan(v) & ~bad
    if inf.any() or miss.any():
        report.error(f"{at} missing or infinite values in {flows.rows_text(inf | miss)}; every flow "
                     "needs its number of commuters")
        flows.values_ok = False
    elif len(v) and not bad.any() and not neg.any() and not (v > 0).any():
        report.warn(f"{at} every flow has 0 commuters: the commuting indicators, flows and sheds are empty; "
                    "check that layers.commuting.fields.commuters names the column of counts")
    flows.commuters = v


def _check_range(flows: _Flows, report: _Report) -> None:
    """Coordinates outside the CRS's valid range (swapped lat/lon, degrees as metres)."""
    ctx, crs, xy = flows.ctx, flows.crs, flows.xy
    x, y = xy[:, [0, 2]], xy[:, [1, 3]]
    if crs.is_geographic:
        end_bad = (np.abs(x) > 180) | (np.abs(y) > 90)
        bad = end_bad.any(1)
        if bad.any():
            # every bad end of the row reads as (lat, lon): often only the home or work columns
            end_swapped = end_bad & (np.abs(y) <= 180) & (np.abs(x) <= 90)
            swapped = bad & (end_swapped == end_bad).all(1)
            hint = ("; these look like latitude/longitude swapped (x must be longitude, y latitude): "
                    "swap the columns in layers.commuting.fields" if swapped.sum() * 2 >= bad.sum()
                    else "; the coordinates may be projected metres: check layers.commuting.crs")
            report.error(f"{ctx.at()} coordinates outside the valid longitude/latitude range for "
                         f"{crs.to_string()} in {flows.rows_text(bad)}{hint}")
            flows.ok = False
        zero = ~bad & ((x == 0) & (y == 0)).any(1)
        if zero.any():
            report.error(f"{ctx.at()} flows with an end at longitude 0, latitude 0 (a missing location) "
                         f"in {flows.rows_text(zero)}; fix or delete them")
            flows.ok = False
        return
    area = crs.area_of_use
    if area is None:
        return
    to_ll = _inverse_projection(crs.to_wkt())
    with np.errstate(all="ignore"):
        lon, lat = to_ll.transform(x.ravel(), y.ravel(), errcheck=False)
    lon, lat = np.asarray(lon).reshape(-1, 2), np.asarray(lat).reshape(-1, 2)
    margin = 5.0
    bad = (~np.isfinite(lon) | ~np.isfinite(lat) | (lon < area.west - margin) | (lon > area.east + margin)
           | (lat < area.south - margin) | (lat > area.north + margin)).any(1)
    if bad.any():
        degrees = bool(np.all(np.abs(x[bad]) <= 180) and np.all(np.abs(y[bad]) <= 90))
        hint = ("; the numbers look like degrees: set layers.commuting.crs: EPSG:4326" if degrees
                else "; check layers.commuting.crs and the order of x and y")
        report.error(f"{ctx.at()} coordinates fall outside the area where {crs.to_string()} is valid "
                     f"in {flows.rows_text(bad)}{hint}")
        flows.ok = False


def finish_flows(flows: _Flows, working: CRS, study_bounds: np.ndarray | None,
                 report: _Report) -> pd.DataFrame | None:
    """Reproject the flow ends to the working CRS and check them against the study extent.

    Returns the ``Study.commuting`` frame (``home_x, home_y, work_x, work_y, commuters,
    row``) or None after reporting.
    """
    if not flows.ok:
        return None
    xy = flows.xy.copy()
    if not flows.crs.equals(working, ignore_axis_order=True):
        tr = transformer(flows.crs, working)
        for a in (0, 2):
            with np.errstate(all="ignore"):
                xy[:, a], xy[:, a + 1] = tr.transform(xy[:, a], xy[:, a + 1], errcheck=False)
    finite = np.isfinite(xy).all(1)
    if not finite.all():
        report.error(f"{flows.ctx.at()} {int((~finite).sum())} flows cannot be projected to the working "
                     f"CRS {working.to_string()} ({flows.rows_text(~finite)}); check layers.commuting.crs")
        return None
    if study_bounds is not None:
        s, m = study_bounds, STUDY_MARGIN_M
        far = np.zeros(len(xy), bool)
        for a in (0, 2):
            far |= ((xy[:, a] < s[0] - m) | (xy[:, a] > s[2] + m) | (xy[:, a + 1] < s[1] - m)
                    | (xy[:, a + 1] > s[3] + m))
        if far.any():
            report.error(f"{flows.ctx.at()} {int(far.sum())} flows have an end more than "
                         f"{m / 1000:g} km outside the study area of the zones layer "
                         f"({flows.rows_text(far)}); check layers.commuting.crs, the order of x and "
                         "y, or layers.commuting.coordinates")
            return None
    if not flows.values_ok:
        return None
    frame = pd.DataFrame({"home_x": xy[:, 0], "home_y": xy[:, 1], "work_x": xy[:, 2], "work_y": xy[:, 3],
                          "commuters": flows.commuters.astype("float64"), "row": flows.rows})
    logger.info("%s %d flows, %g commuters", flows.ctx.at(), len(frame), float(frame["commuters"].sum()))
    return frame
