"""Reading one vector layer: formats, layers inside a file, encodings.

Any OGR format through pyogrio (GeoPackage, Shapefile, GeoJSON, FlatGeobuf, ...) and
GeoParquet through pyarrow; an OpenStreetMap extract as ``layers.roads`` through
:mod:`geo.layers._osm`. Only the columns the field mapping needs are read; the
geometry comes back as a shapely array in the file's CRS.
"""

from __future__ import annotations

import codecs
import logging
import re
import shutil
import tempfile
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from pyproj import CRS

from geo import schema as sch
from geo._errors import format_rows
from geo.layers._encoding import (fix_text_columns, looks_like_legacy, transcode_text_file,
                                  detect_encoding, field_names_encoding, utf8_despite_declared)
from geo.layers._fields import _rename, _resolve_fields
from geo.layers._csvlines import DATA_ROW, csv_lines, csv_separator, extra_values
from geo.layers._osm import is_osm, read_osm_roads
from geo.layers._report import _closest, _Ctx, _forward_warnings, _list, _one_line, _Report
from geo.layers._sheets import SHEET_SUFFIXES

if TYPE_CHECKING:
    from geo.settings import VectorLayerSettings

logger = logging.getLogger(__name__)


_PARQUET_SUFFIXES = (".parquet", ".geoparquet")
_SHAPEFILE_SIDECARS = (".shp", ".shx", ".dbf", ".prj", ".cpg", ".qix", ".sbn", ".sbx", ".shp.xml")


_CJK = re.compile(r"[\u3400-\u9fff]")
_LATIN1_LETTER = re.compile(r"[\u00c0-\u024f]")
#: formats that are plain text: read from a UTF-8 copy when saved in a legacy encoding
_TEXT_SUFFIXES = (".geojson", ".json", ".geojsonl", ".geojsons", ".csv", ".tsv", ".txt")
_TEXT_SIDECARS = (".prj", ".csvt", ".vrt")
_UTF8_DRIVERS = {"GPKG", "GeoJSON", "GeoJSONSeq", "FlatGeobuf", "Parquet"}


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


def _check_path(ctx: _Ctx, report: _Report) -> bool:
    path = ctx.path
    if not path.exists():
        near = ""
        if path.parent.is_dir():
            # not the config or other YAML beside the layers: they are never a layer
            near = _closest(path.name, [p.name for p in path.parent.iterdir()
                                        if p.suffix.lower() not in (".yaml", ".yml", ".md", ".html")
                                        or p.suffix.lower() == path.suffix.lower()])
        windows = ("; it is a Windows drive or network path, which this machine does not have: put the data "
                   "beside the config and give a relative path"
                   if re.search(r"(^|/)([A-Za-z]:[\\/]|\\\\)", str(path)) else "")
        report.error(f"{ctx.at()} file not found{near}; fix layers.{ctx.name}.path in the config "
                     f"(paths are relative to the config file){windows}")
        return False
    if path.is_file() and path.stat().st_size == 0:
        report.error(f"{ctx.at()} the file is empty (0 bytes); export the layer again")
        return False
    return True


_CODEPAGES = {"936": "gbk", "54936": "gb18030", "950": "big5", "65001": "utf-8", "1252": "cp1252",
               "20936": "gb2312"}


def _cpg_encoding(path: Path) -> str | None:
    """The Python codec a shapefile's ``.cpg`` names (``GBK``, ``936``, ``UTF-8``), or None."""
    if path.suffix.lower() != ".shp":
        return None
    want = (path.stem + ".cpg").lower()
    cpg = next((p for p in path.parent.iterdir() if p.name.lower() == want and p.is_file()), None)
    if cpg is None:
        return None
    try:
        text = cpg.read_text(encoding="ascii", errors="ignore").strip()
    except OSError:
        return None
    name = _CODEPAGES.get(text.removeprefix("CP").removeprefix("cp"), text)
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def _guess_shapefile_encoding(path: Path, layer: str | None) -> str | None:
    """UTF-8, GBK or Big5 when a .cpg-less shapefile's text only makes sense that way."""
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
    if _reads_as_chinese(raw, "utf-8"):
        return "utf-8"
    # GBK or Big5: the one in which the text reads as common Chinese characters (almost any
    # bytes decode as GB18030, so decoding alone would read Big5 as GBK nonsense); with no
    # clear winner (short values such as "A1地块" read well both ways) GBK, the usual
    # encoding of a Chinese shapefile, when it gives Chinese text throughout
    return detect_encoding(raw) or ("gbk" if _reads_as_chinese(raw, "gbk") else None)


def _reads_as_chinese(raw: list[bytes], encoding: str) -> bool:
    """Every value decodes and holds Chinese, none accidental pairs of Latin-1 letters."""
    try:
        decoded = [b.decode(encoding) for b in raw]
    except UnicodeDecodeError:
        return False
    return all(_CJK.search(t) for t in decoded) and not any(_LATIN1_LETTER.search(t) for t in decoded)


_Read = tuple[pd.DataFrame, np.ndarray, "CRS | None", list[str]]


def _read_table(ctx: _Ctx, cfg: VectorLayerSettings, report: _Report) -> _Read | None:
    """Read the needed columns and the geometry (as shapely) of one layer.

    Returns ``(attributes, geometries, crs, columns_in_file)`` or None after reporting.
    """
    if ctx.path.suffix.lower() in _PARQUET_SUFFIXES:
        return _read_parquet(ctx, cfg, report)
    if ctx.name == "roads" and is_osm(ctx.path):
        return read_osm_roads(ctx, cfg, report)
    if ctx.path.suffix.lower() in _TEXT_SUFFIXES and ctx.path.is_file():
        raw = ctx.path.read_bytes()
        if not _is_utf8(raw) or (cfg.encoding is None and looks_like_legacy(raw)):
            text = transcode_text_file(ctx, raw, cfg.encoding, report)
            if text is None:
                return None
            with tempfile.TemporaryDirectory(prefix="zoneatlas-text-") as tmp:
                copy = Path(tmp) / ctx.path.name
                copy.write_text(text, encoding="utf-8")
                for side in _TEXT_SIDECARS:   # e.g. a CSV's .prj / .csvt
                    other = ctx.path.with_name(ctx.path.stem + side)
                    if other.is_file():
                        shutil.copyfile(other, copy.with_name(copy.stem + side))
                return _read_ogr(ctx, cfg, report, copy, transcoded=True)
    return _read_ogr(ctx, cfg, report, ctx.path)


def _is_utf8(raw: bytes) -> bool:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def choose_layer(ctx: _Ctx, configured: str | None, layers: np.ndarray,
                 report: _Report) -> tuple[str, str | None] | None:
    """The layer to read from ``pyogrio.list_layers`` output: the configured one, the only
    one, or the one named like the canonical layer (``ctx.name``); ``(name, geometry type
    or None for a table)``, and ``ctx.layer`` / ``ctx.read_layer`` set. None after reporting."""
    names = [str(n) for n in layers[:, 0]] if len(layers) else []
    sheets = ctx.path.suffix.lower() in SHEET_SUFFIXES   # a workbook's layers are its sheets (not empty)
    kind, file = ("sheet", "workbook") if sheets else ("layer", "file")
    if not names:
        report.error(f"{ctx.at()} the {file} holds no {kind}s" + ("; fill in the table" if sheets else
                                                                   "; export the layer again"))
        return None
    if configured is not None:
        if configured not in names:
            report.error(f"{ctx.at()} {kind} '{configured}' not found{_closest(configured, names)}; "
                         f"{kind}s in the {file}: {_list(names)}; fix layers.{ctx.name}.layer")
            return None
        layer = configured
    elif len(names) == 1:
        layer = names[0]
    elif ctx.name in names:
        layer = ctx.name
    else:
        report.error(f"{ctx.at()} the {file} holds several {kind}s ({_list(names)}) and none is "
                     f"named '{ctx.name}'; choose one with layers.{ctx.name}.layer (e.g. layer: {names[0]})")
        return None
    ctx.layer_word = kind
    ctx.layer = layer if (configured is not None or len(names) > 1) else None
    ctx.read_layer = layer
    return layer, layers[names.index(layer), 1]


def _names_encoding(ctx: _Ctx, path: Path, layer: str, configured: str | None, report: _Report,
                    names_read: tuple[str | None, list[str]] | None = None) -> str | None:
    """The encoding to read a file whose field names are not UTF-8 (though GDAL took them
    for it): the configured one, else the legacy Chinese encoding they read in; None after
    an error when neither applies (names cut inside a UTF-8 character included).
    ``names_read``: :func:`field_names_encoding` of the file when already called."""
    if configured is not None and codecs.lookup(configured).name != "utf-8":
        return configured
    found, names = names_read or field_names_encoding(path, layer)
    if found == "utf-8-cut":
        report.error(f"{ctx.at()} field names are UTF-8 cut inside a character ({', '.join(names)}): a "
                     "shapefile keeps 10 bytes of a name, 3 Chinese characters and a third of one; "
                     "rename these fields to at most 3 Chinese characters (QGIS: Layer Properties → "
                     "Fields) or save the layer as a GeoPackage, which keeps whole names")
        return None
    if found is None:
        report.error(f"{ctx.at()} field names are not UTF-8 ({', '.join(names)}) and their encoding "
                     f"could not be recognised; set layers.{ctx.name}.encoding (e.g. gbk or big5)")
        return None
    said = "the .cpg says UTF-8 but " if _cpg_encoding(path) == "utf-8" else ""
    report.warn(f"{ctx.at()} {said}the field names read as {found.upper()} ({', '.join(names[:5])}), so the "
                f"layer was read as {found} (set layers.{ctx.name}.encoding: {found} to make this explicit)")
    return found


def _legacy_names(path: Path, layer: str) -> str | None:
    """The legacy Chinese encoding a shapefile's field names read in (None: another format,
    or no clear one)."""
    if path.suffix.lower() != ".shp":
        return None
    found = field_names_encoding(path, layer)[0]
    return None if found in (None, "utf-8-cut") else found


def _not_in_configured_encoding(ctx: _Ctx, path: Path, layer: str, configured: str, report: _Report) -> None:
    """The error for field names GDAL could not read in ``layers.<name>.encoding``, naming the
    encoding they do read in when there is one."""
    found, names = (field_names_encoding(path, layer) if path.suffix.lower() == ".shp" else (None, []))
    if found in (None, "utf-8-cut"):
        others = ", ".join(e for e in ("gbk", "big5", "utf-8") if codecs.lookup(e).name != codecs.lookup(configured).name)
        report.error(f"{ctx.at()} the field names are not {configured} text (layers.{ctx.name}.encoding); "
                     f"set the encoding the file was saved in (e.g. {others})")
        return
    report.error(f"{ctx.at()} the field names are not {configured} text (layers.{ctx.name}.encoding); "
                 f"read as {found} they are {_list([n for n in names if not n.isascii()])}: set "
                 f"layers.{ctx.name}.encoding: {found} (or remove it: the encoding is then detected)")


def _read_ogr(ctx: _Ctx, cfg: VectorLayerSettings, report: _Report, path: Path,
              transcoded: bool = False) -> _Read | None:
    """Read one layer through pyogrio from ``path`` (the user's file or a UTF-8 copy)."""
    schema = sch.LAYERS[ctx.name]
    try:
        layers = pyogrio.list_layers(path)
    except ImportError:
        raise
    except Exception as exc:  # noqa: BLE001 - any GDAL failure means "cannot read"
        if ctx.path.suffix.lower() in (".geojson", ".json", ".geojsonl", ".geojsons"):
            report.error(f"{ctx.at()} cannot read the file as GeoJSON ({_one_line(exc)}); fix it "
                         "at that position or export it again (numbers such as 1e309, NaN or "
                         "Infinity are not valid JSON)")
        else:
            report.error(f"{ctx.at()} cannot read the file ({_one_line(exc)}); it must be a GIS "
                         "file: GeoPackage, Shapefile, GeoJSON, FlatGeobuf or GeoParquet")
        return None
    found = choose_layer(ctx, cfg.layer, layers, report)
    if found is None:
        return None
    layer, geom_type = found
    if geom_type is None:
        hint = ("; for a CSV with coordinate columns, save it as a GeoPackage or GeoJSON first"
                if path.suffix.lower() in (".csv", ".xlsx", ".xls") else "")
        report.error(f"{ctx.at()} layer '{layer}' is a table without geometry; a "
                     f"{'/'.join(schema.geometry)} layer is expected{hint}")
        return None

    encoding = None if transcoded else cfg.encoding
    legacy = None   # a configured encoding GDAL does not apply: used for non-UTF-8 text
    try:
        if (ctx.path.suffix.lower() == ".shp" and (encoding is None or codecs.lookup(encoding).name == "utf-8")
                and _cpg_encoding(path) in (None, "utf-8")):
            names_read = field_names_encoding(path, layer)
            if names_read[0] == "utf-8-cut":     # the error, before GDAL garbles the names
                _names_encoding(ctx, path, layer, None, report, names_read)
                return None
        try:
            info = pyogrio.read_info(path, layer=layer)
        except UnicodeDecodeError:
            # field names GDAL took for UTF-8 (a .cpg saying UTF-8) that are not
            encoding = _names_encoding(ctx, path, layer, encoding, report)
            if encoding is None:
                return None
            info = pyogrio.read_info(path, layer=layer, encoding=encoding)
        if encoding is not None and info.get("driver") in _UTF8_DRIVERS:
            if codecs.lookup(encoding).name != "utf-8":
                legacy = encoding
            encoding = None
        elif encoding is not None:
            try:
                info = pyogrio.read_info(path, layer=layer, encoding=encoding)
            except UnicodeDecodeError:   # field names that are not text in the configured encoding
                found = _legacy_names(path, layer) if codecs.lookup(encoding).name == "utf-8" else None
                if found is None:
                    _not_in_configured_encoding(ctx, path, layer, encoding, report)
                    return None
                # encoding: utf-8 on GBK / Big5 text: read in the encoding it fits, as for values
                report.warn(f"{ctx.at()} layers.{ctx.name}.encoding is utf-8 but the field names are not "
                            f"UTF-8; they read as {found}, so the layer was read as {found} (set "
                            f"layers.{ctx.name}.encoding: {found} to make this explicit)")
                encoding = found
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
        declared = _cpg_encoding(path) if info.get("driver") == "ESRI Shapefile" else None
        if (encoding is None and declared and codecs.lookup(declared).name not in ("utf-8", "latin-1")
                and utf8_despite_declared(path, layer, declared)):
            encoding = "utf-8"
            report.warn(f"{ctx.at()} the .cpg says {declared} but the text is UTF-8 Chinese, so "
                        f"it was read as utf-8 (fix the .cpg, or set layers.{ctx.name}.encoding: "
                        "utf-8 to make this explicit)")
            info = pyogrio.read_info(path, layer=layer, encoding=encoding)
    except ImportError:
        raise   # a broken package: the CLI names the pip command (exit 1)
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
    if fid_col in wanted:
        wanted.remove(fid_col)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            # the fids too where the format keeps them (a GeoPackage's 'fid'): messages name
            # the features by them, as QGIS shows them (a row number drifts once features
            # were deleted)
            meta, table = pyogrio.read_arrow(path, layer=layer, columns=wanted, encoding=encoding,
                                             return_fids=fid_col is not None)
        _forward_warnings(ctx, caught, report)
        geom_col = meta.get("geometry_name") or "wkb_geometry"
        if geom_col not in table.column_names:
            report.error(f"{ctx.at()} layer '{layer}' has no geometry column")
            return None
        wkb = table.column(geom_col).to_numpy(zero_copy_only=False)
        text = table.drop_columns([geom_col])
        fields = {column: canon for canon, column in mapping.items()}
        fixed = fix_text_columns(ctx, text, legacy or encoding, fields, report)
        if fixed is None:
            return None
        if legacy is not None and fixed is text:
            report.warn(f"{ctx.at()} layers.{ctx.name}.encoding ({legacy}) ignored: the text of "
                        f"this {info['driver']} file is valid UTF-8")
        attrs = fixed.to_pandas()
        fids = None
        if fid_col is not None and fid_col in attrs.columns:
            fids = attrs[fid_col].to_numpy()
            if fid_col not in mapping.values():
                attrs = attrs.drop(columns=[fid_col])
    except ImportError:
        raise
    except Exception as exc:  # noqa: BLE001
        report.error(f"{ctx.at()} cannot read the layer ({_one_line(exc)})")
        return None
    csv_file, lines, extra = _csv_file_lines(path, info, len(attrs))
    if extra is not None:
        report.error(f"{ctx.at()} cannot read the file as CSV ({extra}); put such values in quotes "
                     "or save the table again as CSV from a GIS or spreadsheet")
        return None

    def rows_of(mask: np.ndarray) -> str:
        if fids is not None:
            return format_rows(fids[mask], word="fid")
        if csv_file and lines is not None:
            return format_rows(lines[mask], word="line")
        return format_rows(np.flatnonzero(mask) + 1, word=DATA_ROW if csv_file else "row")
    # NaN coordinates make numpy warn "invalid value encountered in from_wkb"; they are
    # reported as errors, one line per layer, by the geometry checks (_geometry.py)
    with np.errstate(invalid="ignore"):
        geoms = shapely.from_wkb(wkb, on_invalid="ignore")
        if not hasattr(shapely, "has_m"):   # shapely < 2.1 drops M values without a trace
            measured = _wkb_has_m(wkb)
            if measured.any():
                report.warn(f"{ctx.at()} {int(measured.sum())} geometries had M values; they were "
                            f"dropped (analyses are 2D) ({rows_of(measured)})")
        broken = pd.notna(wkb) & pd.isna(geoms)
        if broken.any():
            geoms[broken] = shapely.from_wkb(wkb[broken], on_invalid="fix")
    if broken.any():
        report.warn(f"{ctx.at()} {int(broken.sum())} geometries with unclosed or too short rings "
                    f"were closed ({rows_of(broken)})")
    crs = CRS.from_user_input(meta["crs"]) if meta.get("crs") else None
    if cfg.crs is not None and info.get("driver") in ("GeoJSON", "GeoJSONSeq"):
        # GeoJSON without a "crs" member is WGS84 by definition and GDAL cannot tell an
        # explicit CRS from the implied one, so a configured crs: wins here
        logger.info("%s GeoJSON: using layers.%s.crs %s", ctx.at(), ctx.name, cfg.crs)
        crs = None
    out = _rename(attrs, mapping)
    if csv_file:   # messages name its rows by their line (geo.layers._csvlines; None: unknown)
        out.attrs["lines"] = lines
    elif fids is not None:   # and a GeoPackage's by their fid
        out.attrs["fids"] = fids
    return out, geoms, crs, columns


def _csv_file_lines(path: Path, info: dict, n: int) -> tuple[bool, np.ndarray | None, str | None]:
    """``(is a CSV file, the line of each of its n rows or None, its rows with more values
    than the header or None)`` (geo.layers._csvlines)."""
    if info.get("driver") != "CSV":
        return False, None, None
    raw = path.read_bytes()   # UTF-8 (a legacy-encoded CSV is read from a UTF-8 copy)
    sep = csv_separator(raw[:4000].decode("utf-8", errors="ignore"), path.suffix)
    return True, csv_lines(raw, n, sep), extra_values(raw, sep)


def _wkb_has_m(wkb: np.ndarray) -> np.ndarray:
    """Which WKB values carry M (ISO type 2xxx/3xxx, or the EWKB M flag)."""
    out = np.zeros(len(wkb), bool)
    for i, w in enumerate(wkb):   # header only; used with shapely < 2.1
        if w is None or len(w) < 5:
            continue
        code = int.from_bytes(w[1:5], "little" if w[0] == 1 else "big")
        out[i] = (code & 0x40000000) != 0 or (code & 0x0FFFFFFF) // 1000 in (2, 3)
    return out


def _read_parquet(ctx: _Ctx, cfg: VectorLayerSettings, report: _Report) -> _Read | None:
    import pyarrow.parquet as pq

    try:
        pq_schema = pq.read_schema(ctx.path)
    except ImportError:
        raise
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
    except ImportError:
        raise
    except Exception as exc:  # noqa: BLE001
        report.error(f"{ctx.at()} cannot read the GeoParquet file ({_one_line(exc)})")
        return None
    attrs = pd.DataFrame(gdf.drop(columns=gdf.geometry.name))
    return _rename(attrs, mapping), gdf.geometry.values.to_numpy(), gdf.crs, columns
