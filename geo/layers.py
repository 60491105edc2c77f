"""Read, check, normalise and reproject every input layer of a study.

:func:`load_study` is the one entry point: it reads every configured vector layer
(any OGR format through pyogrio, GeoParquet through pyarrow), renames the user's
columns to the canonical fields of :mod:`geo.schema`, checks geometries, CRSs and
attributes, repairs what can be repaired safely (each repair a counted warning), and
reprojects everything once to the working CRS. All problems of all layers are
collected and raised together as one :class:`~geo._errors.InputError`.

Decisions worth knowing
-----------------------
* Unknown zone ``role`` values are an **error** (listing rows and the allowed values):
  a role drives the collaboration pair types, so guessing would give silently wrong
  answers. Role names in Chinese (研发, 制造, 终端, 配套, 综合) and English labels are
  accepted and normalised.
* Counts stored as text are parsed ("1,200", "1.2万", "3亿", full-width digits) with a
  counted warning; "-", "—", "/", "无", "N/A" and blanks mean *missing*. A comma that
  does not separate groups of three digits ("1,5", "1,2万") is an error, not a guess.
* Missing ``name`` values fall back to the feature's id (counted warning). Missing
  ids, chains, or required counts are errors.
* Every canonical column is present in the output frames; optional fields absent from
  the file are all-missing (NaN), never 0.
* A Shapefile with neither a ``.cpg`` nor ``encoding:`` whose text does not look like
  Latin-1 is decoded as UTF-8 or GBK when that decodes cleanly (counted warning that
  names the setting to make it explicit).
* ``crs:`` in the config is used only when the file has no CRS (a differing file CRS
  wins, with a warning). Exception: GeoJSON, whose CRS is implied WGS84 when absent, so
  a configured ``crs:`` is the only way to read projected GeoJSON from older tools.
"""

from __future__ import annotations

import codecs
import difflib
import logging
import os
import re
import warnings
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from pyproj import CRS, Transformer

from geo import schema as sch
from geo._coords import bd09_to_wgs84, gcj02_to_wgs84, transform_geometries
from geo._crs import choose_working_crs, require_projected_metres
from geo._errors import CRSError, InputError, format_rows
from geo._types import LayerSource, Raster, Study

if TYPE_CHECKING:
    from geo.settings import RasterLayerSettings, Settings, VectorLayerSettings

__all__ = ["load_study", "parse_counts", "split_chains"]

logger = logging.getLogger(__name__)

_PARQUET_SUFFIXES = (".parquet", ".geoparquet")
_SHAPEFILE_SIDECARS = (".shp", ".shx", ".dbf", ".prj", ".cpg", ".qix", ".sbn", ".sbx", ".shp.xml")
_CHAIN_SEP = re.compile(r"[;；、]")
_CJK = re.compile(r"[\u3400-\u9fff]")
_LATIN1_LETTER = re.compile(r"[\u00c0-\u024f]")
_UTF8_DRIVERS = {"GPKG", "GeoJSON", "GeoJSONSeq", "FlatGeobuf", "Parquet"}
_NUMBER = re.compile(r"^([+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)(万|亿|千)?$")
_UNITS = {"千": 1e3, "万": 1e4, "亿": 1e8}
_GROUPED = re.compile(r"[+-]?\d{1,3}(?:,\d{3})+(?:\.\d*)?\s*(?:万|亿|千)?")
_MISSING_MARKS = {"-", "--", "—", "——", "–", "/", "无", "na", "n/a", "null", "none", "nan"}
_TYPE_NAMES = {0: "Point", 1: "LineString", 2: "LinearRing", 3: "Polygon", 4: "MultiPoint",
               5: "MultiLineString", 6: "MultiPolygon", 7: "GeometryCollection"}
_POINT_IDS = {0, 4}
_POLYGON_IDS = {3, 6}
#: layers whose extent must overlap the zones' extent enlarged by this margin
_STUDY_MARGIN_M = 100_000.0


def _role_lookup() -> dict[str, str]:
    from geo.i18n import TERMS

    out = {}
    for role in sch.ROLES:
        zh, en = TERMS.get(role, (role, role))
        for label in (role, zh, en, en.replace("&", "")):
            out[label.strip().lower()] = role
    out.update({"r&d": "rd", "研发型": "rd", "制造型": "manufacturing", "混合": "mixed"})
    return out


_ROLES = _role_lookup()


# ---------------------------------------------------------------------------
# small public helpers


def split_chains(value: str | None) -> list[str]:
    """Split an innovation district's ``chains`` value into chain names.

    Separators are ``;``, the full-width ``；`` and the enumeration comma ``、``;
    blanks are dropped.

    Examples
    --------
    >>> split_chains("电子信息; 生物医药；航空航天、 ")
    ['电子信息', '生物医药', '航空航天']
    >>> split_chains(None)
    []
    """
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return []
    return [p.strip() for p in _CHAIN_SEP.split(str(value)) if p.strip()]


def parse_counts(values: pd.Series) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Parse a column of counts that may hold numbers written as text.

    Parameters
    ----------
    values : pandas.Series
        Numbers, or text such as ``"1,200"``, ``"1.2万"``, ``"3亿"``, ``"１２"``.

    Returns
    -------
    numbers : numpy.ndarray of float64
        NaN where missing or unparseable.
    from_text : numpy.ndarray of bool
        Values that needed interpretation to become numbers (thousands separators,
        Chinese units, full-width digits); plain numeric text such as ``"12"`` does not.
    bad : numpy.ndarray of bool
        Non-empty values that are not numbers.

    Examples
    --------
    >>> v, t, b = parse_counts(pd.Series(["1,200", "1.2万", "7", "x", None, "-"]))
    >>> v.tolist()[:3], t.tolist(), b.tolist()
    ([1200.0, 12000.0, 7.0], [True, True, False, False, False, False], [False, False, False, True, False, False])
    """
    n = len(values)
    if pd.api.types.is_bool_dtype(values.dtype):
        return np.full(n, np.nan), np.zeros(n, bool), values.notna().to_numpy()
    if pd.api.types.is_numeric_dtype(values.dtype):
        return values.to_numpy(dtype="float64", na_value=np.nan), np.zeros(n, bool), np.zeros(n, bool)
    # text (or mixed objects): work on unique values only
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    text = pd.Series(uniques, dtype="object").map(lambda v: v if isinstance(v, str) else repr(v) if not isinstance(v, (int, float)) else str(v))
    normal = text.astype("str").str.normalize("NFKC").str.strip()
    clean = normal.str.replace(r"[,\s_']", "", regex=True)
    missing = clean.eq("") | clean.str.lower().isin(_MISSING_MARKS)
    parts = clean.str.extract(_NUMBER)
    # a comma separates thousands only between groups of three digits: "1,5" (a decimal
    # comma) or "1,2万" would otherwise silently become 15 or 120000
    misplaced = normal.str.contains(",", regex=False) & ~normal.str.fullmatch(_GROUPED).fillna(False)
    parts.loc[misplaced.to_numpy(bool), 0] = np.nan
    number = pd.to_numeric(parts[0], errors="coerce")
    factor = parts[1].map(_UNITS).astype("float64").fillna(1.0)
    parsed = np.array((number * factor).to_numpy(dtype="float64", na_value=np.nan), copy=True)
    parsed[missing.to_numpy()] = np.nan
    u_bad = ~missing.to_numpy() & np.isnan(parsed)
    # text that needed interpretation (separators, units, full-width digits), not plain "12"
    plain = np.isfinite(pd.to_numeric(text.astype("str").str.strip(), errors="coerce")
                        .to_numpy(dtype="float64", na_value=np.nan))
    u_text = np.isfinite(parsed) & ~plain
    valid = codes >= 0
    out = np.full(n, np.nan)
    out[valid] = parsed[codes[valid]]
    from_text = np.zeros(n, bool)
    from_text[valid] = u_text[codes[valid]]
    bad = np.zeros(n, bool)
    bad[valid] = u_bad[codes[valid]]
    return out, from_text, bad


# ---------------------------------------------------------------------------
# bookkeeping


_CONTROL = re.compile("[\x00-\x1f\x7f\x85\u2028\u2029]")


def _one_line_text(message: str) -> str:
    """Control characters from the data (a newline in an id) escaped: one problem, one line.

    Without this a value such as ``"x\\nerror: ..."`` would print as two ``error:`` lines.
    """
    return _CONTROL.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), message)


class _Report:
    """Problems (errors) and counted warnings of one load, each tagged."""

    def __init__(self) -> None:
        self.problems: list[str] = []
        self.crs_only: list[bool] = []
        self.warnings: list[str] = []

    def error(self, message: str, *, crs: bool = False) -> None:
        self.problems.append(_one_line_text(message))
        self.crs_only.append(crs)

    def warn(self, message: str) -> None:
        message = _one_line_text(message)
        self.warnings.append(message)
        logger.warning(message)

    def raise_if_any(self) -> None:
        if self.problems:
            cls = CRSError if all(self.crs_only) else InputError
            raise cls(self.problems)


@dataclass
class _Ctx:
    """Where a layer comes from, for messages."""

    name: str
    path: Path
    shown: str
    layer: str | None = None          # shown in messages (multi-layer files)
    read_layer: str | None = None     # the layer actually read (recorded in LayerSource)

    def at(self, field_name: str | None = None, column: str | None = None) -> str:
        where = f"layers.{self.name} ({self.shown}"
        if self.layer:
            where += f", layer '{self.layer}'"
        where += ")"
        if field_name:
            where += f", field '{field_name}'"
            if column and column != field_name:
                where += f" (column '{column}')"
        return where + ":"


@dataclass
class _Layer:
    """One vector layer while it is being loaded."""

    ctx: _Ctx
    source: LayerSource
    frame: gpd.GeoDataFrame           # canonical columns, geometry in ``crs``
    rows: np.ndarray                  # 1-based row numbers in the file
    crs: CRS | None
    labels: np.ndarray                # row label for messages (id or row number)
    by_id: bool
    geometry_ok: bool = True
    mapped: set[str] = field(default_factory=set)

    def rows_text(self, mask: np.ndarray) -> str:
        labels = self.labels[mask]
        text = format_rows(labels)
        # numeric ids could be mistaken for row numbers: say which they are
        if self.by_id and all(str(v).isdigit() for v in labels[:10]):
            text += f" ({sch.LAYERS[self.ctx.name].id_field})"
        return text


def _shown_path(path: Path, base: Path | None) -> str:
    if base is not None:
        try:
            return os.path.relpath(path, base) if path.is_relative_to(base) else str(path)
        except ValueError:
            pass
    return str(path)


def _closest(word: str, options, n: int = 1) -> str:
    match = difflib.get_close_matches(str(word), [str(o) for o in options], n=n, cutoff=0.4)
    if not match:
        lowered = {str(o).lower(): str(o) for o in options}
        match = [lowered[str(word).lower()]] if str(word).lower() in lowered else []
    return f" (did you mean '{match[0]}'?)" if match else ""


def _list(values, limit: int = 25) -> str:
    values = [str(v) for v in values]
    more = f" (+{len(values) - limit} more)" if len(values) > limit else ""
    return ", ".join(f"'{v}'" for v in values[:limit]) + more


def _files_of(path: Path) -> list[Path]:
    """Every file GDAL reads for ``path`` (Shapefile sidecars included)."""
    if path.is_dir():
        return sorted(p for p in path.rglob("*") if p.is_file())
    if path.suffix.lower() == ".shp":
        stem = path.name[: -len(path.suffix)].lower()
        found = [p for p in path.parent.iterdir()
                 if p.is_file() and any(p.name.lower() == stem + ext for ext in _SHAPEFILE_SIDECARS)]
        return sorted(found)
    return [path]


# ---------------------------------------------------------------------------
# reading


def _check_path(ctx: _Ctx, report: _Report) -> bool:
    path = ctx.path
    if not path.exists():
        near = ""
        if path.parent.is_dir():
            near = _closest(path.name, [p.name for p in path.parent.iterdir()])
        report.error(f"{ctx.at()} file not found{near}; fix layers.{ctx.name}.path in the config "
                     f"(paths are relative to the config file)")
        return False
    if path.is_file() and path.stat().st_size == 0:
        report.error(f"{ctx.at()} the file is empty (0 bytes); export the layer again")
        return False
    return True


def _guess_shapefile_encoding(path: Path, layer: str | None) -> str | None:
    """UTF-8 or GBK when a .cpg-less shapefile's text only makes sense that way."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sample = pyogrio.read_dataframe(path, layer=layer, read_geometry=False, max_features=2000)
    strings = [str(c) for c in sample.columns]
    for col in sample.columns:
        if pd.api.types.is_string_dtype(sample[col].dtype) or sample[col].dtype == object:
            strings.extend(v for v in sample[col].dropna().unique() if isinstance(v, str))
    raw = [s.encode("latin-1", errors="ignore") for s in strings if any(ord(ch) > 127 for ch in s)]
    if not raw:
        return None
    for enc in ("utf-8", "gb18030"):
        try:
            decoded = [b.decode(enc) for b in raw]
        except UnicodeDecodeError:
            continue
        # accept only when the result is Chinese text, not accidental pairs of Latin-1 bytes
        if all(_CJK.search(t) for t in decoded) and not any(_LATIN1_LETTER.search(t) for t in decoded):
            return "utf-8" if enc == "utf-8" else "gbk"
    return None


_Read = tuple[pd.DataFrame, np.ndarray, "CRS | None", list[str]]


def _read_table(ctx: _Ctx, cfg: VectorLayerSettings, report: _Report) -> _Read | None:
    """Read the needed columns and the geometry (as shapely) of one layer.

    Returns ``(attributes, geometries, crs, columns_in_file)`` or None after reporting.
    """
    schema = sch.LAYERS[ctx.name]
    path = ctx.path
    if path.suffix.lower() in _PARQUET_SUFFIXES:
        return _read_parquet(ctx, cfg, report)
    try:
        layers = pyogrio.list_layers(path)
    except Exception as exc:  # noqa: BLE001 - any GDAL failure means "cannot read"
        report.error(f"{ctx.at()} cannot read the file ({_one_line(exc)}); it must be a GIS "
                     "file: GeoPackage, Shapefile, GeoJSON, FlatGeobuf or GeoParquet")
        return None
    names = [str(n) for n in layers[:, 0]] if len(layers) else []
    if not names:
        report.error(f"{ctx.at()} the file holds no layers; export the layer again")
        return None
    if cfg.layer is not None:
        if cfg.layer not in names:
            report.error(f"{ctx.at()} layer '{cfg.layer}' not found{_closest(cfg.layer, names)}; "
                         f"layers in the file: {_list(names)}; fix layers.{ctx.name}.layer")
            return None
        layer = cfg.layer
    elif len(names) == 1:
        layer = names[0]
    elif ctx.name in names:
        layer = ctx.name
    else:
        report.error(f"{ctx.at()} the file holds several layers ({_list(names)}) and none is "
                     f"named '{ctx.name}'; choose one with layers.{ctx.name}.layer")
        return None
    ctx.layer = layer if (cfg.layer is not None or len(names) > 1) else None
    ctx.read_layer = layer
    geom_type = layers[names.index(layer), 1]
    if geom_type is None:
        hint = ("; for a CSV with coordinate columns, save it as a GeoPackage or GeoJSON first"
                if path.suffix.lower() in (".csv", ".xlsx", ".xls") else "")
        report.error(f"{ctx.at()} layer '{layer}' is a table without geometry; a "
                     f"{'/'.join(schema.geometry)} layer is expected{hint}")
        return None

    encoding = cfg.encoding
    try:
        info = pyogrio.read_info(path, layer=layer)
        if encoding is not None and info.get("driver") in _UTF8_DRIVERS:
            if codecs.lookup(encoding).name != "utf-8":
                report.warn(f"{ctx.at()} layers.{ctx.name}.encoding ({encoding}) ignored: "
                            f"{info['driver']} files are always UTF-8")
            encoding = None
        elif encoding is not None:
            info = pyogrio.read_info(path, layer=layer, encoding=encoding)
        if (encoding is None and info.get("driver") == "ESRI Shapefile"
                and info.get("encoding") == "ISO-8859-1"):
            guess = _guess_shapefile_encoding(path, layer)
            if guess is not None:
                encoding = guess
                report.warn(f"{ctx.at()} shapefile without .cpg and no encoding configured; "
                            f"its text decodes as {guess.upper()}, so it was read as {guess} "
                            f"(set layers.{ctx.name}.encoding: {guess} to make this explicit)")
                info = pyogrio.read_info(path, layer=layer, encoding=encoding)
    except Exception as exc:  # noqa: BLE001
        report.error(f"{ctx.at()} cannot read the layer ({_one_line(exc)})")
        return None
    if info.get("features") == 0:
        report.error(f"{ctx.at()} the layer has no features (0 rows); export the layer again")
        return None
    columns = [str(c) for c in info["fields"]]
    fid_col = info.get("fid_column") or None
    if fid_col and fid_col not in columns:
        columns.append(fid_col)   # e.g. GeoPackage 'fid': usable as an id
    mapping = _resolve_fields(ctx, cfg, columns, report)
    if mapping is None:
        return None
    wanted = list(dict.fromkeys(mapping.values()))
    with_fids = fid_col in wanted
    if with_fids:
        wanted.remove(fid_col)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            meta, table = pyogrio.read_arrow(path, layer=layer, columns=wanted, encoding=encoding,
                                             return_fids=with_fids)
        _forward_warnings(ctx, caught, report)
        geom_col = meta.get("geometry_name") or "wkb_geometry"
        if geom_col not in table.column_names:
            report.error(f"{ctx.at()} layer '{layer}' has no geometry column")
            return None
        wkb = table.column(geom_col).to_numpy(zero_copy_only=False)
        attrs = table.drop_columns([geom_col]).to_pandas()
    except Exception as exc:  # noqa: BLE001
        report.error(f"{ctx.at()} cannot read the layer ({_one_line(exc)})")
        return None
    geoms = shapely.from_wkb(wkb, on_invalid="ignore")
    broken = pd.notna(wkb) & pd.isna(geoms)
    if broken.any():
        geoms[broken] = shapely.from_wkb(wkb[broken], on_invalid="fix")
        report.warn(f"{ctx.at()} {int(broken.sum())} geometries with unclosed or too short rings "
                    f"were closed ({format_rows(np.flatnonzero(broken) + 1)})")
    crs = CRS.from_user_input(meta["crs"]) if meta.get("crs") else None
    if cfg.crs is not None and info.get("driver") in ("GeoJSON", "GeoJSONSeq"):
        # GeoJSON without a "crs" member is WGS84 by definition and GDAL cannot tell an
        # explicit CRS from the implied one, so a configured crs: wins here
        logger.info("%s GeoJSON: using layers.%s.crs %s", ctx.at(), ctx.name, cfg.crs)
        crs = None
    return _rename(attrs, mapping), geoms, crs, columns


def _read_parquet(ctx: _Ctx, cfg: VectorLayerSettings, report: _Report) -> _Read | None:
    import pyarrow.parquet as pq

    try:
        pq_schema = pq.read_schema(ctx.path)
    except Exception as exc:  # noqa: BLE001
        report.error(f"{ctx.at()} cannot read the Parquet file ({_one_line(exc)})")
        return None
    meta = pq_schema.metadata or {}
    if b"geo" not in meta:
        report.error(f"{ctx.at()} a Parquet table without GeoParquet geometry metadata; a "
                     f"{'/'.join(sch.LAYERS[ctx.name].geometry)} layer is expected")
        return None
    import json

    geo_meta = json.loads(meta[b"geo"])
    geom_col = geo_meta.get("primary_column", "geometry")
    columns = [c for c in pq_schema.names if c not in geo_meta.get("columns", {})]
    mapping = _resolve_fields(ctx, cfg, columns, report)
    if mapping is None:
        return None
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            gdf = gpd.read_parquet(ctx.path, columns=list(dict.fromkeys(mapping.values())) + [geom_col])
        _forward_warnings(ctx, caught, report)
    except Exception as exc:  # noqa: BLE001
        report.error(f"{ctx.at()} cannot read the GeoParquet file ({_one_line(exc)})")
        return None
    attrs = pd.DataFrame(gdf.drop(columns=gdf.geometry.name))
    return _rename(attrs, mapping), gdf.geometry.values.to_numpy(), gdf.crs, columns


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


def _forward_warnings(ctx: _Ctx, caught, report: _Report) -> None:
    counts = Counter(" ".join(str(w.message).split()) for w in caught
                     if not issubclass(w.category, (DeprecationWarning, ResourceWarning)))
    for text, n in counts.items():
        if "Non closed ring" in text:
            continue  # reported with counts after parsing
        report.warn(f"{ctx.at()} while reading: {text}" + (f" ({n} times)" if n > 1 else ""))


def _resolve_fields(ctx: _Ctx, cfg: VectorLayerSettings, columns: list[str], report: _Report) -> dict[str, str] | None:
    """canonical field -> column in the file; reports missing fields."""
    schema = sch.LAYERS[ctx.name]
    if not columns:   # one problem, not one per field
        dbf = " (is the .dbf next to the .shp?)" if ctx.path.suffix.lower() == ".shp" else ""
        report.error(f"{ctx.at()} the layer has no attribute columns at all{dbf}; it needs at least "
                     f"{', '.join(schema.required)}")
        return None
    mapping: dict[str, str] = {}
    ok = True
    lower = {}
    for c in columns:
        lower.setdefault(c.lower(), []).append(c)
    for canon in schema.fields:
        if canon in cfg.fields:
            col = cfg.fields[canon]
            if col in columns:
                mapping[canon] = col
            else:
                report.error(f"{ctx.at(canon)} column '{col}' (from layers.{ctx.name}.fields.{canon}) "
                             f"not found{_closest(col, columns)}; columns in the file: {_list(columns)}")
                ok = False
        elif canon in columns:
            mapping[canon] = canon
        elif len(lower.get(canon, [])) == 1:
            mapping[canon] = lower[canon][0]
        elif canon in schema.required:
            report.error(f"{ctx.at(canon)} required field not found: no column '{canon}'"
                         f"{_closest(canon, columns)}; columns in the file: {_list(columns)}; map "
                         f"it with layers.{ctx.name}.fields: {{{canon}: <column>}}")
            ok = False
    for group in schema.one_of:
        if not any(g in mapping for g in group) and not any(g in cfg.fields for g in group):
            report.error(f"{ctx.at()} needs one of the fields {', '.join(group)} but the file has "
                         f"none of them; columns in the file: {_list(columns)}; map one with "
                         f"layers.{ctx.name}.fields: {{{group[0]}: <column>}}")
            ok = False
    return mapping if ok else None


def _rename(attrs: pd.DataFrame, mapping: dict[str, str]) -> pd.DataFrame:
    out = pd.DataFrame(index=pd.RangeIndex(len(attrs)))
    for canon, col in mapping.items():
        out[canon] = attrs[col].to_numpy() if not isinstance(attrs[col].dtype, pd.StringDtype) else attrs[col].array
    out.attrs["mapping"] = dict(mapping)
    return out


# ---------------------------------------------------------------------------
# attributes


def _to_text(values: pd.Series) -> pd.Series:
    """Text (pandas ``str``), stripped; blanks -> NaN; integral floats without '.0'."""
    if pd.api.types.is_float_dtype(values.dtype):
        v = values.to_numpy(dtype="float64", na_value=np.nan)
        out = np.full(len(v), None, dtype=object)
        finite = np.isfinite(v)
        integral = finite & (np.abs(v) < 2**53) & (v == np.trunc(v))
        out[integral] = v[integral].astype(np.int64).astype(str)
        out[finite & ~integral] = v[finite & ~integral].astype(str)
        return pd.Series(out, dtype="str")
    if pd.api.types.is_integer_dtype(values.dtype) or pd.api.types.is_bool_dtype(values.dtype):
        return values.astype("str")
    text = values.astype("str").str.strip()
    return text.where(text.ne(""), np.nan)


def _check_ids(layer_name: str, ctx: _Ctx, ids: pd.Series, rows: np.ndarray, report: _Report) -> bool:
    id_field = sch.LAYERS[layer_name].id_field
    ok = True
    missing = ids.isna().to_numpy()
    if missing.any():
        report.error(f"{ctx.at(id_field)} missing ids in {format_rows(rows[missing])}; every "
                     "feature needs a unique id")
        ok = False
    lowered = ids.str.lower()
    if lowered.is_unique:   # the common case: one hash pass, no exact or case duplicates
        return ok
    dup = ids.duplicated(keep=False).to_numpy() & ~missing
    if not dup.any() and ok:
        case = lowered.duplicated(keep=False).to_numpy() & ~missing
        report.warn(f"{ctx.at(id_field)} {int(case.sum())} ids differ only in upper/lower case "
                    f"({_list(ids[case].head(6))}); they are kept as different ids")
    if dup.any():
        groups = pd.Series(rows[dup]).groupby(ids[dup].to_numpy()).agg(list)
        shown = "; ".join(f"'{k}' in rows {', '.join(map(str, v))}" for k, v in list(groups.items())[:10])
        more = f" (+{len(groups) - 10} more ids)" if len(groups) > 10 else ""
        report.error(f"{ctx.at(id_field)} duplicate ids (surrounding spaces ignored): {shown}{more}; "
                     "ids must be unique")
        ok = False
    return ok


def _attributes(layer: _Layer, attrs: pd.DataFrame, report: _Report) -> pd.DataFrame:
    """Canonical attribute frame: ids/text as str, counts as float64; reports problems."""
    ctx, schema = layer.ctx, sch.LAYERS[layer.ctx.name]
    mapping = attrs.attrs.get("mapping", {})
    out = pd.DataFrame(index=attrs.index)
    n = len(attrs)
    numeric = set(schema.numeric)

    ids = _to_text(attrs[schema.id_field])
    ids_ok = _check_ids(ctx.name, ctx, ids, layer.rows, report)
    if ids_ok:
        layer.labels = ids.to_numpy(dtype=object)
        layer.by_id = True
    out[schema.id_field] = ids

    for canon in schema.fields:
        if canon == schema.id_field:
            continue
        col = mapping.get(canon)
        if canon not in attrs.columns:
            out[canon] = np.full(n, np.nan) if canon in numeric else pd.Series(np.full(n, None, object), dtype="str")
            continue
        if canon in numeric:
            out[canon] = _counts(layer, canon, col, attrs[canon], report)
        elif canon == "role":
            out[canon] = _roles(layer, col, attrs[canon], report)
        else:
            text = _to_text(attrs[canon])
            if canon == "chains":   # only separators (";;", "、") names no chain: missing
                text = text.where(text.str.replace(_CHAIN_SEP, "", regex=True).str.strip().ne(""), np.nan)
            miss = text.isna().to_numpy()
            if miss.any() and canon == "name":
                text = text.fillna(ids)
                report.warn(f"{ctx.at(canon, col)} {int(miss.sum())} features without a name were "
                            f"given their id as name ({layer.rows_text(miss)})")
            elif miss.any() and canon in schema.required:
                report.error(f"{ctx.at(canon, col)} missing values in {layer.rows_text(miss)}; "
                             f"fill in '{col}' for these features")
            if canon == "chains":
                commas = (text.str.contains(r"[,，]", regex=True) & ~text.str.contains(r"[;；、]", regex=True)
                          ).fillna(False).to_numpy(bool)
                if commas.any():
                    report.warn(f"{ctx.at(canon, col)} {int(commas.sum())} values contain commas but "
                                f"no ';' ({layer.rows_text(commas)}); chains are separated by ';', "
                                "'；' or '、', so each of these is read as ONE chain name")
            out[canon] = text

    for group in schema.one_of:
        present = [g for g in group if g in attrs.columns]
        if present:
            none = np.logical_and.reduce([np.isnan(out[g].to_numpy()) for g in present])
            if none.any():
                report.error(f"{ctx.at(present[0], mapping.get(present[0]))} missing "
                             f"{' and '.join(present)} in {layer.rows_text(none)}; each feature "
                             f"needs {' or '.join(group)}")
    return out


def _counts(layer: _Layer, canon: str, col: str | None, values: pd.Series, report: _Report) -> np.ndarray:
    ctx, schema = layer.ctx, sch.LAYERS[layer.ctx.name]
    v, from_text, bad = parse_counts(values)
    if bad.any():
        examples = _list(pd.Series(values[bad]).astype("str").unique()[:5])
        report.error(f"{ctx.at(canon, col)} not a number: {examples} in {layer.rows_text(bad)}; "
                     "use plain numbers")
    if from_text.any():
        text = pd.Series(values[from_text]).astype("str")
        ex = ", ".join(f"'{t}' -> {x:g}" for t, x in zip(text.head(3), v[from_text][:3]))
        report.warn(f"{ctx.at(canon, col)} {int(from_text.sum())} numbers written as text were "
                    f"interpreted ({ex})")
    inf = np.isinf(v)
    if inf.any():
        report.error(f"{ctx.at(canon, col)} infinite values in {layer.rows_text(inf)}")
    neg = v < 0
    if neg.any():
        report.error(f"{ctx.at(canon, col)} negative values in {layer.rows_text(neg)}: "
                     f"{', '.join(f'{x:g}' for x in np.unique(v[neg])[:5])}; counts must be >= 0")
    nan = np.isnan(v) & ~bad
    if nan.any() and canon in schema.required:
        report.error(f"{ctx.at(canon, col)} missing (empty or NaN) values in "
                     f"{layer.rows_text(nan)}; '{canon}' is required for every feature")
    v = v.copy()
    v[bad | inf] = np.nan
    return v


def _roles(layer: _Layer, col: str | None, values: pd.Series, report: _Report) -> pd.Series:
    text = _to_text(values)
    mapped = text.str.lower().map(_ROLES)
    unknown = (text.notna() & mapped.isna()).to_numpy()
    if unknown.any():
        report.error(f"{layer.ctx.at('role', col)} unknown roles {_list(text[unknown].unique()[:6])} "
                     f"in {layer.rows_text(unknown)}; allowed: {', '.join(sch.ROLES)} "
                     "(or 研发, 制造, 终端, 配套, 综合)")
    return pd.Series(mapped.to_numpy(dtype=object), dtype="str")


# ---------------------------------------------------------------------------
# geometry


def _type_names(ids) -> str:
    return " or ".join(_TYPE_NAMES.get(int(i), str(i)) for i in ids)


def _clean_geometry(layer: _Layer, geoms: np.ndarray, report: _Report) -> tuple[np.ndarray, np.ndarray]:
    """Check and repair geometries; returns ``(geoms, keep)``.

    Drops (with warnings) missing and empty geometries; drops Z/M; reports wrong and
    mixed types and non-finite coordinates; repairs invalid polygons.
    """
    ctx = layer.ctx
    schema = sch.LAYERS[ctx.name]
    polygonal = set(schema.geometry) <= {"Polygon", "MultiPolygon"}
    keep = np.ones(len(geoms), bool)

    missing = pd.isna(geoms)
    empty = ~missing
    empty[~missing] = shapely.is_empty(geoms[~missing])
    if missing.any() or empty.any():
        report.warn(f"{ctx.at()} {int(missing.sum() + empty.sum())} features without geometry "
                    f"(missing or empty) were dropped ({layer.rows_text(missing | empty)})")
        keep &= ~(missing | empty)

    zm = np.zeros(len(geoms), bool)
    zm[keep] = shapely.has_z(geoms[keep])
    if hasattr(shapely, "has_m"):   # shapely >= 2.1
        zm[keep] |= shapely.has_m(geoms[keep])
    if zm.any():
        geoms = geoms.copy()
        geoms[zm] = shapely.force_2d(geoms[zm])
        report.warn(f"{ctx.at()} {int(zm.sum())} geometries had Z or M values; they were dropped "
                    "(analyses are 2D)")

    coords = shapely.get_coordinates(geoms[keep])
    if len(coords):
        per = shapely.get_num_coordinates(geoms[keep])
        owner = np.repeat(np.flatnonzero(keep), per)
        bad_xy = ~np.isfinite(coords).all(axis=1)
        if bad_xy.any():
            bad = np.zeros(len(geoms), bool)
            bad[np.unique(owner[bad_xy])] = True
            report.error(f"{ctx.at()} NaN or infinite coordinates in {layer.rows_text(bad)}; fix or "
                         "delete these features")
            keep &= ~bad
            layer.geometry_ok = False

    types = np.full(len(geoms), -1)
    types[keep] = shapely.get_type_id(geoms[keep])
    allowed = _POLYGON_IDS if polygonal else (_POLYGON_IDS | _POINT_IDS)
    wrong = keep & ~np.isin(types, list(allowed))
    kinds_found, kind_counts = np.unique(types[keep], return_counts=True)
    found = {_TYPE_NAMES.get(int(t), str(t)): int(c) for t, c in zip(kinds_found, kind_counts)}
    if wrong.any():
        kinds = ", ".join(f"{k}: {v}" for k, v in sorted(found.items()))
        mixed = "mixed geometry types" if len(found) > 1 else "wrong geometry type"
        report.error(f"{ctx.at()} {mixed} ({kinds}); expected {' or '.join(schema.geometry)}; "
                     f"{_type_names(np.unique(types[wrong]))} in {layer.rows_text(wrong)}")
        keep &= ~wrong
        layer.geometry_ok = False
    elif not polygonal and np.isin(types[keep], list(_POINT_IDS)).any() and np.isin(types[keep], list(_POLYGON_IDS)).any():
        pts = keep & np.isin(types, list(_POINT_IDS))
        report.error(f"{ctx.at()} mixed geometry types: {int(pts.sum())} points and "
                     f"{int((keep & ~pts).sum())} polygons; use one kind per layer (e.g. polygon "
                     f"centroids), points in {layer.rows_text(pts)}")
        layer.geometry_ok = False

    poly = keep & np.isin(types, list(_POLYGON_IDS))
    invalid = np.zeros(len(geoms), bool)
    invalid[poly] = ~shapely.is_valid(geoms[poly])
    if invalid.any():
        geoms = geoms.copy()
        geoms[invalid] = _polygonal(shapely.make_valid(geoms[invalid]))
        report.warn(f"{ctx.at()} {int(invalid.sum())} invalid polygons (self-intersections, bad "
                    f"rings) repaired with make_valid ({layer.rows_text(invalid)})")
        gone = invalid & shapely.is_empty(geoms)
        if gone.any():
            report.warn(f"{ctx.at()} {int(gone.sum())} polygons had no area left after repair and "
                        f"were dropped ({layer.rows_text(gone)})")
            keep &= ~gone
    return geoms, keep


def _polygonal(geoms: np.ndarray) -> np.ndarray:
    """Keep only the polygonal parts of (possibly mixed) geometries, as (Multi)Polygons."""
    out = geoms.copy()
    types = shapely.get_type_id(geoms)
    other = ~np.isin(types, [3, 6])
    if not other.any():
        return out
    parts, idx = shapely.get_parts(geoms[other], return_index=True)
    # collections may nest multipolygons: flatten once more
    sub, sub_idx = shapely.get_parts(parts, return_index=True)
    owner = idx[sub_idx]
    is_poly = shapely.get_type_id(sub) == 3
    collected = np.full(int(other.sum()), None, dtype=object)
    if is_poly.any():
        collected = shapely.multipolygons(sub[is_poly], indices=owner[is_poly], out=collected)
    single = shapely.get_num_geometries(collected) == 1
    collected[single] = shapely.get_geometry(collected[single], 0)
    collected[pd.isna(collected)] = shapely.Polygon()
    out[other] = collected
    return out


@lru_cache(maxsize=32)
def _inverse_projection(wkt: str) -> Transformer:
    """Projected -> its own geographic CRS (no datum search: fast, enough for range checks)."""
    crs = CRS.from_wkt(wkt)
    return Transformer.from_crs(crs, crs.geodetic_crs, always_xy=True)


def _check_coordinate_range(layer: _Layer, geoms: np.ndarray, keep: np.ndarray, report: _Report) -> None:
    """Coordinates outside the valid range of the CRS, swapped lat/lon, (0, 0)."""
    ctx, crs = layer.ctx, layer.crs
    if crs is None or not keep.any():
        return
    b = np.full((len(geoms), 4), np.nan)
    b[keep] = shapely.bounds(geoms[keep])
    if crs.is_geographic:
        bad = keep & ((b[:, 0] < -180) | (b[:, 2] > 180) | (b[:, 1] < -90) | (b[:, 3] > 90))
        if bad.any():
            swapped = bad & (np.abs(b[:, 0]) <= 90) & (np.abs(b[:, 2]) <= 90) & (np.abs(b[:, 1]) <= 180) & (np.abs(b[:, 3]) <= 180)
            hint = ("; these look like latitude/longitude swapped (x must be longitude, y "
                    "latitude)" if swapped.sum() * 2 >= bad.sum() else
                    "; the coordinates may be projected metres: check the CRS "
                    f"(layers.{ctx.name}.crs)")
            report.error(f"{ctx.at()} coordinates outside the valid longitude/latitude range "
                         f"(x in -180..180, y in -90..90) for {crs.to_string()} in "
                         f"{layer.rows_text(bad)}{hint}")
            layer.geometry_ok = False
        zero = keep & ~bad & (b[:, 0] == 0) & (b[:, 1] == 0) & (b[:, 2] == 0) & (b[:, 3] == 0)
        if zero.any():
            report.error(f"{ctx.at()} features at longitude 0, latitude 0 (a missing location) in "
                         f"{layer.rows_text(zero)}; fix or delete them")
            layer.geometry_ok = False
        return
    area = crs.area_of_use
    if area is None:
        return
    margin = 5.0
    to_ll = _inverse_projection(crs.to_wkt())

    def outside(xy_min, xy_max) -> np.ndarray:
        with np.errstate(all="ignore"):
            x0, y0 = to_ll.transform(xy_min[:, 0], xy_min[:, 1], errcheck=False)
            x1, y1 = to_ll.transform(xy_max[:, 0], xy_max[:, 1], errcheck=False)
        lon = np.column_stack([x0, x1])
        lat = np.column_stack([y0, y1])
        return (~np.isfinite(lon).all(1) | ~np.isfinite(lat).all(1)
                | (lon.min(1) < area.west - margin) | (lon.max(1) > area.east + margin)
                | (lat.min(1) < area.south - margin) | (lat.max(1) > area.north + margin))

    total = np.array([[np.nanmin(b[:, 0]), np.nanmin(b[:, 1])]]), np.array([[np.nanmax(b[:, 2]), np.nanmax(b[:, 3])]])
    if not outside(*total)[0]:
        return
    bad = np.zeros(len(geoms), bool)
    bad[keep] = outside(b[keep, :2], b[keep, 2:])
    if bad.any():
        degrees = bool(np.all(np.abs(b[bad][:, [0, 2]]) <= 180) and np.all(np.abs(b[bad][:, [1, 3]]) <= 90))
        hint = (f"; the numbers look like degrees: the file's CRS is probably wrong (set it, or "
                f"layers.{ctx.name}.crs: EPSG:4326)" if degrees else "; check the CRS of the file")
        report.error(f"{ctx.at()} coordinates fall outside the area where {crs.to_string()} "
                     f"({crs.name}) is valid (lon {area.west:g}..{area.east:g}, lat "
                     f"{area.south:g}..{area.north:g}) in {layer.rows_text(bad)}{hint}")
        layer.geometry_ok = False


def _resolve_crs(ctx: _Ctx, file_crs: CRS | None, cfg: VectorLayerSettings, report: _Report) -> CRS | None:
    if file_crs is not None:
        if cfg.crs is not None:
            configured = CRS.from_user_input(cfg.crs)
            if not configured.equals(file_crs, ignore_axis_order=True):
                report.warn(f"{ctx.at()} the file has CRS {file_crs.to_string()}; "
                            f"layers.{ctx.name}.crs ({cfg.crs}) is used only for files without "
                            "a CRS and was ignored")
        return file_crs
    if cfg.crs is not None:
        return CRS.from_user_input(cfg.crs)
    report.error(f"{ctx.at()} the layer has no CRS (no .prj or CRS metadata); add "
                 f"layers.{ctx.name}.crs to the config, e.g. crs: EPSG:4326 for longitude/latitude "
                 "or the projected CRS the data was made in", crs=True)
    return None


# ---------------------------------------------------------------------------
# one vector layer


def _load_vector(name: str, cfg: VectorLayerSettings, base: Path | None,
                 report: _Report) -> _Layer | None:
    ctx = _Ctx(name=name, path=Path(cfg.path), shown=_shown_path(Path(cfg.path), base))
    if not _check_path(ctx, report):
        return None
    read = _read_table(ctx, cfg, report)
    if read is None:
        return None
    attrs, geoms, file_crs, _columns = read
    n = len(attrs)
    source = LayerSource(name=name, path=ctx.path, layer=ctx.read_layer, files=_files_of(ctx.path),
                         aliases=dict(attrs.attrs.get("mapping", {})))
    if n == 0:
        report.error(f"{ctx.at()} the layer has no features (0 rows)")
        return None
    rows = np.arange(1, n + 1)
    layer = _Layer(ctx=ctx, source=source, frame=None, rows=rows, crs=None,  # type: ignore[arg-type]
                   labels=rows.astype(str).astype(object), by_id=False)
    layer.mapped = set(attrs.columns)
    canon = _attributes(layer, attrs, report)
    layer.crs = _resolve_crs(ctx, file_crs, cfg, report)
    if layer.crs is None:
        layer.geometry_ok = False
    geoms, keep = _clean_geometry(layer, np.asarray(geoms, dtype=object), report)
    _check_coordinate_range(layer, geoms, keep, report)

    if cfg.coordinates != "wgs84" and layer.crs is not None:
        if not layer.crs.is_geographic:
            report.error(f"{ctx.at()} coordinates: {cfg.coordinates} needs longitude/latitude "
                         f"data (EPSG:4326 or EPSG:4490) but the layer is in "
                         f"{layer.crs.to_string()}; remove layers.{name}.coordinates or fix the CRS",
                         crs=True)
            layer.geometry_ok = False
        elif layer.geometry_ok:
            func = gcj02_to_wgs84 if cfg.coordinates == "gcj02" else bd09_to_wgs84
            geoms = geoms.copy()
            geoms[keep] = transform_geometries(geoms[keep], func)
            logger.info("%s converted from %s to WGS84", ctx.at(), cfg.coordinates.upper())

    frame = gpd.GeoDataFrame(canon, geometry=gpd.GeoSeries(geoms, crs=layer.crs), crs=layer.crs)
    frame = frame.loc[keep].reset_index(drop=True)
    layer.rows = rows[keep]
    layer.labels = layer.labels[keep]
    layer.frame = frame
    source.feature_count = len(frame)
    if len(frame) == 0:
        if layer.geometry_ok:   # otherwise the geometry problem is already reported
            report.error(f"{ctx.at()} no usable features left (all were empty or invalid)")
        layer.geometry_ok = False
    return layer


# ---------------------------------------------------------------------------
# cross-layer steps


def _working_crs(settings: Settings, layers: dict[str, _Layer], report: _Report) -> CRS | None:
    if settings.crs.working:
        crs = CRS.from_user_input(settings.crs.working)
        why = require_projected_metres(crs)
        if why:
            report.error(f"config crs.working: {why}; use e.g. a CGCS2000 Gauss-Krüger zone "
                         "(EPSG:4534-4554) or a UTM zone, or leave crs.working out", crs=True)
            return None
        return crs
    for name in ("zones", "districts", "innovation_districts", "housing"):
        layer = layers.get(name)
        if layer is not None and layer.geometry_ok and layer.crs is not None and len(layer.frame):
            ll = layer.frame.geometry.to_crs(4326).total_bounds
            lon, lat = (ll[0] + ll[2]) / 2, (ll[1] + ll[3]) / 2
            if np.isfinite([lon, lat]).all():
                crs = choose_working_crs(lon, lat)
                logger.info("working CRS %s (%s) chosen from the %s layer", crs.to_string(), crs.name, name)
                return crs
    return None


def _largest_overlap(geoms: np.ndarray, districts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Index of the district overlapping each geometry most (-1: none) and that area."""
    tree = shapely.STRtree(districts)
    gi, di = tree.query(geoms, predicate="intersects")
    best = np.full(len(geoms), -1)
    best_area = np.zeros(len(geoms))
    if len(gi) == 0:
        return best, best_area
    area = shapely.area(shapely.intersection(geoms[gi], districts[di]))
    order = np.lexsort((di, -area, gi))        # per geometry: largest area first, ties by district order
    gi, di, area = gi[order], di[order], area[order]
    first = np.ones(len(gi), bool)
    first[1:] = gi[1:] != gi[:-1]
    sel = first & (area > 0)
    best[gi[sel]] = di[sel]
    best_area[gi[sel]] = area[sel]
    return best, best_area


def _derive_districts(layer: _Layer, districts: _Layer | None, configured: bool,
                      report: _Report) -> None:
    ctx, frame = layer.ctx, layer.frame
    given = "district_id" in layer.mapped
    col = layer.source.aliases.get("district_id")
    have = frame["district_id"].notna().to_numpy()
    if districts is None and configured:
        return  # the districts layer failed to load: already reported
    if districts is None:
        if ctx.name != "zones" and not have.all():
            # optional for innovation districts (DESIGN.md): they still count as workplaces,
            # only the district totals of the balance analysis leave them out
            report.warn(f"{ctx.at('district_id', col if given else None)} no district for "
                        f"{int((~have).sum())} features and no districts layer configured to derive "
                        "it; they are left out of the district totals of the balance analysis")
            return
        if not given:
            report.error(f"{ctx.at('district_id')} district_id missing and no districts layer "
                         f"configured; map a district column with layers.{ctx.name}.fields."
                         "district_id, or configure layers.districts to derive it")
        elif not have.all():
            report.error(f"{ctx.at('district_id', col)} missing values in "
                         f"{layer.rows_text(~have)} and no districts layer configured to derive them")
        return
    if not (layer.geometry_ok and districts.geometry_ok):
        return
    d_ids = districts.frame["district_id"].to_numpy(dtype=object)
    best, _ = _largest_overlap(frame.geometry.values.to_numpy(), districts.frame.geometry.values.to_numpy())
    outside = best < 0
    if outside.any():
        report.error(f"{ctx.at()} {int(outside.sum())} features lie outside every district "
                     f"({layer.rows_text(outside)}); check their location and the districts layer")
    derived = np.where(outside, None, d_ids[np.maximum(best, 0)])
    if not given:
        frame["district_id"] = pd.Series(derived, dtype="str")
        layer.source.aliases.pop("district_id", None)
        logger.info("%s district_id derived from the districts layer (largest overlap)", ctx.at())
        return
    known = frame["district_id"].isin(set(d_ids)).to_numpy()
    unknown = have & ~known
    if unknown.any():
        vals = _list(frame["district_id"][unknown].unique()[:6])
        report.error(f"{ctx.at('district_id', col)} district ids not in the districts layer: {vals} "
                     f"in {layer.rows_text(unknown)}; district ids there: {_list(pd.unique(d_ids), 12)}")
    fill = ~have & ~outside
    if fill.any():
        frame.loc[fill, "district_id"] = derived[fill]
        report.warn(f"{ctx.at('district_id', col)} {int(fill.sum())} missing district ids were "
                    f"filled from the district of largest overlap ({layer.rows_text(fill)})")
    differ = have & known & ~outside & (frame["district_id"].to_numpy(dtype=object) != derived)
    if differ.any():
        report.warn(f"{ctx.at('district_id', col)} {int(differ.sum())} features lie mostly in "
                    f"another district than their district_id says ({layer.rows_text(differ)}); "
                    "their district_id was kept")


def _check_extent(layer: _Layer, study_bounds: np.ndarray, report: _Report) -> None:
    b = layer.frame.total_bounds
    s = study_bounds
    m = _STUDY_MARGIN_M
    if b[0] > s[2] + m or b[2] < s[0] - m or b[1] > s[3] + m or b[3] < s[1] - m:
        report.error(f"{layer.ctx.at()} the layer lies far outside the study area of the zones "
                     f"layer (more than {m / 1000:g} km away); check its CRS "
                     f"(layers.{layer.ctx.name}.crs), lat/lon order, or "
                     f"layers.{layer.ctx.name}.coordinates")
        layer.geometry_ok = False


# ---------------------------------------------------------------------------
# rasters


def _load_raster(name: str, cfg: RasterLayerSettings, working: CRS | None, study_bounds: np.ndarray | None,
                 base: Path | None, report: _Report) -> tuple[Raster | None, LayerSource | None]:
    import rasterio
    from rasterio.transform import array_bounds
    from rasterio.warp import Resampling, calculate_default_transform, reproject

    ctx = _Ctx(name=name, path=Path(cfg.path), shown=_shown_path(Path(cfg.path), base))
    if not _check_path(ctx, report):
        return None, None
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            with rasterio.open(ctx.path) as src:
                files = [Path(f) for f in (src.files or [ctx.path])]
                if cfg.band > src.count:
                    report.error(f"{ctx.at()} band {cfg.band} requested but the raster has "
                                 f"{src.count}; fix layers.{name}.band")
                    return None, None
                data = src.read(cfg.band, masked=True).astype("float64").filled(np.nan)
                transform, src_crs = src.transform, src.crs
                georeferenced = not transform.is_identity
        caught = [w for w in caught if "NotGeoreferenced" not in type(w.message).__name__]
        _forward_warnings(ctx, caught, report)
    except Exception as exc:  # noqa: BLE001
        report.error(f"{ctx.at()} cannot read the raster ({_one_line(exc)}); it must be a "
                     "single-band GeoTIFF or another GDAL raster")
        return None, None
    source = LayerSource(name=name, path=ctx.path, files=files, feature_count=int(np.isfinite(data).sum()))
    if not georeferenced:
        report.error(f"{ctx.at()} the raster is not georeferenced (no geotransform); "
                     "export it as a GeoTIFF with coordinates", crs=True)
        return None, source
    crs = CRS.from_user_input(src_crs.to_wkt()) if src_crs else None
    if crs is None:
        if cfg.crs is None:
            report.error(f"{ctx.at()} the raster has no CRS; add layers.{name}.crs to the "
                         "config (e.g. crs: EPSG:4544)", crs=True)
            return None, source
        crs = CRS.from_user_input(cfg.crs)
    if name == "population":
        neg = np.nan_to_num(data) < 0
        if neg.any():
            report.error(f"{ctx.at()} {int(neg.sum())} cells with negative population; persons "
                         "per cell must be >= 0")
    else:
        finite = np.isfinite(data)
        frac = finite & (data != np.round(data))
        if frac.any():
            report.error(f"{ctx.at()} {int(frac.sum())} cells hold non-integer values; a landuse "
                         "raster holds integer class codes")
        else:
            codes = np.unique(data[finite]).astype(int)
            unknown = [c for c in codes if c not in cfg.classes]
            if unknown:
                cells = int(np.isin(data, unknown).sum())
                report.warn(f"{ctx.at()} {cells} cells hold class codes not in "
                            f"layers.landuse.classes ({', '.join(map(str, unknown[:10]))}); they "
                            "count as unclassified")
    if working is None:
        return None, source
    h, w = data.shape
    same_crs = crs.equals(working, ignore_axis_order=True) or (
        crs.to_epsg() is not None and crs.to_epsg() == working.to_epsg())
    if not (same_crs and transform.b == 0 and transform.d == 0):
        from rasterio.crs import CRS as RioCRS

        src_rio, dst_rio = RioCRS.from_wkt(crs.to_wkt()), RioCRS.from_wkt(working.to_wkt())
        left, bottom, right, top = array_bounds(h, w, transform)
        resampling = Resampling.sum if name == "population" else Resampling.nearest
        with warnings.catch_warnings():
            # rasterio's own use of affine's deprecated '*' operator
            warnings.simplefilter("ignore", PendingDeprecationWarning)
            dst_transform, dw, dh = calculate_default_transform(src_rio, dst_rio, w, h, left,
                                                                bottom, right, top)
            out = np.full((dh, dw), np.nan)
            reproject(source=data, destination=out, src_transform=transform, src_crs=src_rio,
                      src_nodata=np.nan, dst_transform=dst_transform, dst_crs=dst_rio,
                      dst_nodata=np.nan, resampling=resampling)
        if name == "population":
            before, after = np.nansum(data), np.nansum(out)
            if before > 0 and abs(after - before) > 0.01 * before:
                report.warn(f"{ctx.at()} reprojecting to {working.to_string()} changed the total "
                            f"population from {before:,.0f} to {after:,.0f}")
        logger.info("%s reprojected from %s to %s", ctx.at(), crs.to_string(), working.to_string())
        data, transform = out, dst_transform
    raster = Raster(data=data, transform=transform, crs=working, path=ctx.path)
    if study_bounds is not None:
        left, bottom, right, top = array_bounds(*data.shape, transform)
        s = study_bounds
        if left > s[2] or right < s[0] or bottom > s[3] or top < s[1]:
            report.error(f"{ctx.at()} the raster does not overlap the study area (zones extent "
                         f"{s[0]:.0f}, {s[1]:.0f} .. {s[2]:.0f}, {s[3]:.0f} in "
                         f"{working.to_string()}); check its CRS and extent")
            return None, source
    return raster, source


# ---------------------------------------------------------------------------
# entry point


def load_study(settings: Settings, *, progress: bool = False) -> Study:
    """Read, check, normalise and reproject every configured layer and raster.

    Parameters
    ----------
    settings : geo.settings.Settings
        Validated settings; paths are absolute.
    progress : bool, default False
        Show a progress bar (one step per layer).

    Returns
    -------
    geo._types.Study
        Every layer in the working CRS (projected, metres) with canonical columns:
        ids and text as ``str`` (stripped), counts as float64 (NaN where missing), a
        RangeIndex. ``zones`` and ``innovation_districts`` always carry ``district_id``.
        Repairs are listed (with counts) in ``Study.warnings``.

    Raises
    ------
    geo._errors.InputError
        With every problem of every layer, each naming config key, file, layer, field,
        rows, what was found and the fix. :class:`~geo._errors.CRSError` (a subclass)
        when all problems concern CRSs.

    Notes
    -----
    Input files are only read, never written.
    """
    from tqdm import tqdm

    report = _Report()
    cfg_layers = settings.layers
    base = settings.config_path.parent if getattr(settings, "config_path", None) else None
    names = [n for n in sch.VECTOR_LAYERS if getattr(cfg_layers, n) is not None]
    rasters = [n for n in sch.RASTER_LAYERS if getattr(cfg_layers, n) is not None]
    bar = tqdm(total=len(names) + len(rasters) + 1, disable=not progress, desc="loading layers",
               unit="layer", leave=False)
    layers: dict[str, _Layer] = {}
    try:
        for name in names:
            bar.set_postfix_str(name)
            layer = _load_vector(name, getattr(cfg_layers, name), base, report)
            if layer is not None:
                layers[name] = layer
            bar.update()

        working = _working_crs(settings, layers, report)
        if working is None and not settings.crs.working and "zones" in layers and not report.problems:
            report.error("the working CRS cannot be chosen: no layer with usable geometry; set "
                         "crs.working in the config", crs=True)
        if working is not None:
            for layer in layers.values():
                if layer.crs is not None and layer.geometry_ok:
                    try:
                        if layer.frame.crs is not None and layer.frame.crs.equals(working, ignore_axis_order=True):
                            # already there (e.g. GeoParquet's PROJJSON of the same CRS): no transform
                            layer.frame = layer.frame.set_crs(working, allow_override=True)
                        else:
                            layer.frame = layer.frame.to_crs(working)
                    except Exception as exc:  # noqa: BLE001 - e.g. a local engineering CRS
                        report.error(f"{layer.ctx.at()} cannot reproject from "
                                     f"{layer.crs.to_string()} to {working.to_string()} "
                                     f"({_one_line(exc)}); check the layer's CRS", crs=True)
                        layer.geometry_ok = False
                        continue
                    finite = np.isfinite(shapely.bounds(layer.frame.geometry.values.to_numpy())).all(1)
                    if not finite.all():
                        report.error(f"{layer.ctx.at()} {int((~finite).sum())} features cannot be "
                                     f"projected to the working CRS {working.to_string()} "
                                     f"({layer.rows_text(~finite)}); check the layer's CRS")
                        layer.geometry_ok = False
                else:
                    layer.geometry_ok = False
        study_bounds = None
        zones = layers.get("zones")
        if working is not None and zones is not None and zones.geometry_ok:
            study_bounds = zones.frame.total_bounds
            for name, layer in layers.items():
                if name != "zones" and layer.geometry_ok:
                    _check_extent(layer, study_bounds, report)
        for name in ("zones", "innovation_districts"):
            if name in layers and (working is not None or "districts" not in layers):
                _derive_districts(layers[name], layers.get("districts"),
                                  cfg_layers.districts is not None, report)
        bar.update()

        raster_out: dict[str, Raster | None] = {}
        sources = {name: layer.source for name, layer in layers.items()}
        for name in rasters:
            bar.set_postfix_str(name)
            raster, source = _load_raster(name, getattr(cfg_layers, name), working, study_bounds,
                                          base, report)
            raster_out[name] = raster
            if source is not None:
                sources[name] = source
            bar.update()
    finally:
        bar.close()

    report.raise_if_any()
    if working is None or zones is None:  # pragma: no cover - always reported above
        raise InputError("layers.zones: no usable zones layer")

    def frame(name: str) -> gpd.GeoDataFrame | None:
        layer = layers.get(name)
        return None if layer is None else layer.frame

    landuse_cfg = cfg_layers.landuse
    return Study(
        crs=working,
        zones=frame("zones"),
        districts=frame("districts"),
        innovation_districts=frame("innovation_districts"),
        housing=frame("housing"),
        population=raster_out.get("population"),
        landuse=raster_out.get("landuse"),
        landuse_classes=dict(landuse_cfg.classes) if landuse_cfg is not None else {},
        sources=sources,
        warnings=list(report.warnings),
    )
