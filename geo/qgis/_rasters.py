"""The input rasters beside the GeoPackage (``qgis/population.tif``, ``qgis/landuse.tif``)
and their layers in the project.

Each raster is written as the analysis read it (working CRS, nodata as NaN / a nodata
code) to a deflate-compressed GeoTIFF, so the package is complete without the study's
input folder. Population-like rasters get the web maps' sequential ramp on quantile
classes; the land-use raster a palette with the configured class names.

:data:`RASTERS` is the registry (study attribute → file and kind); to add a raster,
add one line.
"""

from __future__ import annotations

import hashlib
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from pyproj import CRS

from geo import styles
from geo._types import Raster, Study
from geo.i18n import fmt_number, label


@dataclass(frozen=True)
class RasterKind:
    file: str
    classes: bool     # land-use classes (palette) or a quantity (graduated ramp)
    title: tuple[str, str]   # zh, en


#: study attribute → the GeoTIFF written and how it is drawn
RASTERS: dict[str, RasterKind] = {
    "population": RasterKind("population.tif", False, ("人口栅格（每格人数）", "Population raster (persons per cell)")),
    "landuse": RasterKind("landuse.tif", True, ("用地类型栅格", "Land-use raster")),
    "employment_raster": RasterKind("employment.tif", False, ("就业栅格（每格岗位）", "Employment raster (jobs per cell)")),
}

#: Land-use class colours (conventional planning colours), by configured class name.
LANDUSE_COLORS = {"residential": "#f6d365", "office": "#e377c2", "industrial": "#b07aa1", "retail": "#d62728",
                  "commercial": "#d62728", "public": "#ff9da7", "green": "#59a14f", "water": "#4e79a7",
                  "transport": "#9c9c9c", "agricultural": "#c5e0a5", "mixed": "#f28e2b"}
LANDUSE_ZH = {"residential": "居住", "office": "办公", "industrial": "工业", "retail": "商业", "commercial": "商业",
              "public": "公共服务", "green": "绿地", "water": "水域", "transport": "交通", "agricultural": "农业",
              "mixed": "混合"}


@dataclass(frozen=True)
class RasterLayer:
    name: str            # study attribute
    file: str            # file name beside the project
    title: str
    crs: CRS
    bounds: tuple[float, float, float, float]
    pipe: ET.Element     # the <pipe> with its renderer

    @property
    def layer_id(self) -> str:
        digest = hashlib.sha1(self.file.encode()).hexdigest()
        return f"raster_{self.name}_{digest[:8]}_{digest[8:12]}_{digest[12:16]}_{digest[16:20]}_{digest[20:32]}"


def _write_tif(path: Path, raster: Raster, classes: bool) -> None:
    import rasterio

    data = raster.data
    finite = np.isfinite(data)
    if classes:
        values = data[finite]
        lo, hi = (float(values.min()), float(values.max())) if values.size else (0.0, 0.0)
        dtype, nodata = ("int16", -32768) if lo > -32768 and hi < 32767 else ("int32", -2147483648)
        out = np.where(finite, np.round(np.nan_to_num(data)), nodata).astype(dtype)
    else:
        dtype, nodata = "float32", float("nan")
        out = data.astype("float32")
    profile = {"driver": "GTiff", "height": out.shape[0], "width": out.shape[1], "count": 1, "dtype": dtype,
               "crs": raster.crs.to_wkt(), "transform": raster.transform, "nodata": nodata,
               "compress": "deflate", "tiled": out.shape[0] >= 256 and out.shape[1] >= 256}
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(out, 1)


def _bounds(raster: Raster) -> tuple[float, float, float, float]:
    t = raster.transform
    h, w = raster.data.shape
    xs = [t.c, t.c + w * t.a + h * t.b]
    ys = [t.f, t.f + w * t.d + h * t.e]
    return min(xs), min(ys), max(xs), max(ys)


def _renderer_base(pipe: ET.Element, type_: str) -> ET.Element:
    provider = ET.SubElement(pipe, "provider")
    ET.SubElement(provider, "resampling", {"enabled": "false", "maxOversampling": "2",
                                           "zoomedInResamplingMethod": "nearestNeighbour",
                                           "zoomedOutResamplingMethod": "nearestNeighbour"})
    renderer = ET.SubElement(pipe, "rasterrenderer", {"type": type_, "band": "1", "opacity": "1",
                                                      "alphaBand": "-1", "nodataColor": ""})
    mmo = ET.SubElement(renderer, "minMaxOrigin")
    for key, value in (("limits", "None"), ("extent", "WholeRaster"), ("statAccuracy", "Estimated"),
                       ("cumulativeCutLower", "0.02"), ("cumulativeCutUpper", "0.98"), ("stdDevFactor", "2")):
        ET.SubElement(mmo, key).text = value
    return renderer


def _pipe_tail(pipe: ET.Element) -> None:
    ET.SubElement(pipe, "brightnesscontrast", {"brightness": "0", "contrast": "0", "gamma": "1"})
    ET.SubElement(pipe, "huesaturation", {
        "colorizeBlue": "128", "colorizeGreen": "128", "colorizeOn": "0", "colorizeRed": "255",
        "colorizeStrength": "100", "grayscaleMode": "0", "invertColors": "0", "saturation": "0"})
    ET.SubElement(pipe, "rasterresampler", {"maxOversampling": "2"})
    ET.SubElement(pipe, "resamplingStage").text = "resamplingFilter"


def _ramp_pipe(raster: Raster, language: str) -> ET.Element:
    """Quantile classes of the positive cells in the sequential ramp (empty cells transparent)."""
    pipe = ET.Element("pipe")
    renderer = _renderer_base(pipe, "singlebandpseudocolor")
    values = raster.data[np.isfinite(raster.data) & (raster.data > 0)]
    breaks = styles.graduated_breaks(values) if values.size else []
    colors = styles.ramp(len(breaks) + 1)
    top = float(values.max()) if values.size else 1.0
    renderer.set("classificationMin", "0")
    renderer.set("classificationMax", repr(top))
    shader = ET.SubElement(ET.SubElement(renderer, "rastershader"), "colorrampshader", {
        "colorRampType": "DISCRETE", "clip": "0", "classificationMode": "1", "labelPrecision": "0",
        "minimumValue": "0", "maximumValue": repr(top)})
    # zero cells transparent, then one item per class (upper limit; the last open-ended)
    ET.SubElement(shader, "item", {"value": "0", "color": "#ffffff", "alpha": "0", "label": "0"})
    lows = [0.0, *breaks]
    for i, color in enumerate(colors):
        upper = breaks[i] if i < len(breaks) else float("inf")
        text = (f"{fmt_number(lows[i], 'int', language)} – {fmt_number(upper, 'int', language)}"
                if i < len(breaks) else f"> {fmt_number(lows[i], 'int', language)}")
        ET.SubElement(shader, "item", {"value": "inf" if upper == float("inf") else repr(float(upper)),
                                       "color": color.lower(), "alpha": "200", "label": text})
    _pipe_tail(pipe)
    return pipe


def _palette_pipe(raster: Raster, classes: dict[int, str], language: str) -> ET.Element:
    pipe = ET.Element("pipe")
    renderer = _renderer_base(pipe, "paletted")
    palette = ET.SubElement(renderer, "colorPalette")
    present = sorted({int(v) for v in np.unique(raster.data[np.isfinite(raster.data)])})
    names = {code: classes.get(code, str(code)) for code in present}
    fallback = styles.category_colors([n for n in names.values() if n not in LANDUSE_COLORS])
    for code in present:
        name = names[code]
        text = LANDUSE_ZH.get(name, label(name, language)) if language == "zh" else label(name, language)
        ET.SubElement(palette, "paletteEntry", {"value": str(code), "alpha": "255", "label": text,
                                                "color": LANDUSE_COLORS.get(name, fallback.get(name, "#bbbbbb"))})
    _pipe_tail(pipe)
    return pipe


def write_rasters(out_dir: Path, study: Study, language: str) -> list[RasterLayer]:
    """Write the study's rasters beside the project; their project layers, in registry order."""
    layers = []
    for name, kind in RASTERS.items():
        raster = getattr(study, name, None)
        if not isinstance(raster, Raster) or raster.data.size == 0:
            continue
        path = Path(out_dir) / kind.file
        _write_tif(path, raster, kind.classes)
        pipe = (_palette_pipe(raster, study.landuse_classes, language) if kind.classes
                else _ramp_pipe(raster, language))
        title = kind.title[0] if language == "zh" else kind.title[1]
        layers.append(RasterLayer(name, kind.file, title, CRS.from_user_input(raster.crs), _bounds(raster), pipe))
    return layers
