"""The QGIS hand-over package: ``qgis/zoneatlas.gpkg`` and ``qgis/zoneatlas.qgz``.

The GeoPackage (version 1.2, so QGIS 3.22 LTR opens it without warnings) holds the
input layers and every result layer and table in ``crs.export``, plus a
``layer_styles`` table in the layout QGIS itself creates, with one default QML style
per spatial layer (and a few alternative styles, e.g. the core–periphery score).
The project references the GeoPackage by a relative path, groups the layers
(inputs, one group per analysis), carries the same styles, field aliases in the
study language and the configured basemap as an XYZ tile layer; one map theme and
one print layout per analysis; the ellipsoid of the CRS (true measurements); the
input rasters beside it.

Colours, class breaks and line widths come from :mod:`geo.styles`, labels from
:mod:`geo.i18n`; nothing here needs QGIS installed.

Examples
--------
>>> from geo.qgis import write_qgis_package                       # doctest: +SKIP
>>> gpkg, qgz = write_qgis_package(out / "qgis", study, results, settings)  # doctest: +SKIP

Modules
-------
``_layers``   what goes into the package (inputs, then each analysis's tables)
``_gpkg``     the GeoPackage and its ``layer_styles`` table
``_styles``   the QML styles of each layer; ``_qml`` the QML building blocks
``_project``  the ``.qgz`` project (groups, styles, aliases, basemap tile layer, ellipsoid)
``_derived``  layers the web maps derive for display (housing density, catchments, poles, territories)
``_rasters``  the input rasters as GeoTIFFs beside the project, with their styles
``_themes``   one map theme per analysis (the web page's initial view)
``_layouts``  one print layout per theme (map, title, legend, scale bar, north arrow, source)
``_views``    filtered views of a table (the recommended pairs, the top flows) as the web pages open
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

from pyproj import CRS

from geo import styles
from geo._types import AnalysisResult, Study
from geo.analysis.chains import opening_chain
from geo.i18n import study_display_name
from geo.qgis._commuting_styles import mark_commute_length
from geo.qgis._network_styles import mark_closed_roads
from geo.qgis._derived import LEGEND_SUMMARIES, derived_frames
from geo.qgis._gpkg import package_timestamp, write_geopackage, write_layer_styles
from geo.qgis._layers import (
    BOUNDARIES,
    BOUNDARIES_ABSTRACT,
    INPUT_LAYERS,
    ExportLayer,
    collect_layers,
    group_titles,
    initially_visible,
    layer_bounds,
    wkb_type,
)
from geo.qgis._project import ProjectLayer, write_project
from geo.qgis._rasters import write_rasters
from geo.qgis._styles import layer_styles_for, layer_title, zone_chain_colors
from geo.qgis._views import CHAIN_VIEW_LAYERS, split_views
from geo.settings import Settings

__all__ = ["GPKG_NAME", "QGZ_NAME", "WrittenInputs", "write_qgis_inputs", "write_qgis_package"]

logger = logging.getLogger(__name__)


GPKG_NAME = "zoneatlas.gpkg"
QGZ_NAME = "zoneatlas.qgz"


def layout_texts(settings: Settings, crs: CRS) -> dict[str, str]:
    """The words of the print layouts: study title, source line, legend title, km."""
    from geo import __version__

    zh = settings.study.language == "zh"
    name = study_display_name(settings.study.name, settings.study.language)
    auth = crs.to_authority()
    code = f"{auth[0]}:{auth[1]}" if auth else crs.name
    source = (f"数据：{name} · 制图：zoneatlas {__version__} · 坐标系：{crs.name}（{code}）" if zh else
              f"Data: {name} · Made with zoneatlas {__version__} · Coordinates: {crs.name} ({code})")
    return {"study": name, "source": source, "legend": "图例" if zh else "Legend", "km": "公里" if zh else "km"}


def display_crs(export: CRS, study: Study) -> CRS | None:
    """The project's CRS when it differs from the layers': the study's (metric) working CRS
    when ``crs.export`` is in degrees (EPSG:4490), so QGIS draws the map unstretched."""
    if export.is_geographic and study.crs is not None:
        working = CRS.from_user_input(study.crs)
        if working.is_projected:
            return working
    return None


@dataclass
class WrittenInputs:
    """What :func:`write_qgis_inputs` wrote: the input layers' project entries and styles
    (no frames: it travels back from a background process) and the rasters beside them."""

    layers: list[ProjectLayer]
    rasters: list = field(default_factory=list)     # RasterLayer of geo.qgis._rasters


def _project_layer(layer: ExportLayer, language: str) -> ProjectLayer:
    summary = LEGEND_SUMMARIES.get(layer.name, ("", ""))[0 if language == "zh" else 1]
    abstract = BOUNDARIES_ABSTRACT[0 if language == "zh" else 1] if layer.name == BOUNDARIES else ""
    return ProjectLayer(name=layer.name, title=layer_title(layer.name, language), group=layer.group,
                        geometry_kind=layer.geometry_kind, styles=layer.styles,
                        bounds=layer_bounds(layer.frame) if layer.spatial else None,
                        visible=initially_visible(layer), wkb_type=wkb_type(layer), legend_summary=summary,
                        abstract=abstract)


def _export_crs(study: Study, settings: Settings) -> CRS:
    return CRS.from_user_input(settings.crs.export) if settings.crs.export else CRS.from_user_input(study.crs)


def write_qgis_inputs(out_dir: Path, study: Study, settings: Settings) -> WrittenInputs:
    """First part of the package, needing the inputs only: a new ``out_dir/zoneatlas.gpkg``
    holding the input layers (any previous package files removed) and the input rasters
    beside it. A run writes it in a background process while the analyses run;
    :func:`write_qgis_package` given the returned value then appends the rest."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    language = settings.study.language
    layers = collect_layers(study, {}, _export_crs(study, settings))
    chain_colors = zone_chain_colors(study)
    for layer in layers:   # pole colours style result layers only
        layer.styles = layer_styles_for(layer, study=study, language=language, chain_colors=chain_colors,
                                        balanced_range=settings.balance.balanced_range)
    for path in (out_dir / GPKG_NAME, out_dir / QGZ_NAME):
        path.unlink(missing_ok=True)
    if layers:
        write_geopackage(out_dir / GPKG_NAME, layers, timestamp=package_timestamp(study))
    return WrittenInputs([_project_layer(layer, language) for layer in layers],
                         write_rasters(out_dir, study, language))


def write_qgis_package(out_dir: Path, study: Study, results: dict[str, AnalysisResult],
                       settings: Settings, inputs: WrittenInputs | None = None) -> tuple[Path, Path]:
    """Write ``out_dir/zoneatlas.gpkg`` and ``out_dir/zoneatlas.qgz``.

    Parameters
    ----------
    out_dir
        The run's ``qgis`` folder (created if missing; existing package files are
        replaced).
    study
        The validated inputs (working CRS, canonical fields).
    results
        Analysis name → result; any analysis may be absent. Each result's ``tables``
        become GeoPackage layers (GeoDataFrame) or attribute-only tables (DataFrame),
        in order.
    settings
        The run's settings: ``crs.export``, ``study.language`` and ``map.basemap``
        are used.
    inputs
        What :func:`write_qgis_inputs` returned for the same ``out_dir``, study and
        settings: the input layers are in the GeoPackage already and only the result
        layers are appended, after the input layers ``inputs`` lacks (given then as
        ``None``: the roads, which a run's road graph rewrites once the others are
        loaded). ``None``: write them first (the same package).

    Returns
    -------
    tuple of Path
        ``(gpkg, qgz)``.
    """
    out_dir = Path(out_dir)
    if inputs is None:
        inputs = write_qgis_inputs(out_dir, study, settings)
    crs = _export_crs(study, settings)
    language = settings.study.language
    written = {layer.name for layer in inputs.layers}
    layers = collect_layers(study, results, crs, derived_frames(study, results, settings),
                            inputs={name for name in INPUT_LAYERS if name not in written})
    chain_colors = zone_chain_colors(study)
    cp = results.get("core_periphery")
    pole_colors = (styles.pole_colors(cp.tables["core_periphery_zones"])
                   if cp is not None and "core_periphery_zones" in cp.tables else None)
    for layer in layers:   # pole colours style result layers only (as in write_qgis_inputs)
        layer.styles = layer_styles_for(layer, study=study, language=language, chain_colors=chain_colors,
                                        balanced_range=settings.balance.balanced_range,
                                        pole_colors=None if layer.group == "inputs" else pole_colors)
    gpkg = out_dir / GPKG_NAME
    qgz = out_dir / QGZ_NAME
    stamp = package_timestamp(study)
    if layers or not inputs.layers:
        write_geopackage(gpkg, layers, timestamp=stamp, append=bool(inputs.layers))
    project_layers = [*inputs.layers, *(_project_layer(layer, language) for layer in layers)]
    if "commuting" in results:    # which length mean_commute_m measures: road network or straight line
        mark_commute_length(project_layers, results["commuting"].summary.get("commute_m_kind"), language)
    mark_closed_roads(project_layers, settings.network.no_access, language)
    write_layer_styles(gpkg, project_layers, timestamp=stamp)
    # the pairs and flows as the web pages open on them (after the styles: one per table)
    project_layers = split_views(project_layers, results, int(settings.commuting.top_flows), language,
                                 {layer.name: layer.frame for layer in layers if layer.name in CHAIN_VIEW_LAYERS})
    texts = layout_texts(settings, crs)
    if any(layer.name in CHAIN_VIEW_LAYERS and layer.subset for layer in project_layers):
        texts["part:chains"] = opening_chain(results.get("chains"))   # the chain the theme shows
    write_project(qgz, gpkg_name=GPKG_NAME, layers=project_layers, crs=crs, settings=settings,
                  group_titles=group_titles(language), timestamp=stamp,
                  layout_texts=texts, rasters=inputs.rasters,
                  display_crs=display_crs(crs, study))
    logger.info("QGIS package: %s (%d layers), %s", gpkg, len(project_layers), qgz)
    return gpkg, qgz
