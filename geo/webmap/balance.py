"""balance.html: jobs–housing balance of workplaces, catchments, housing density, districts."""

from __future__ import annotations

import itertools
import logging
import weakref

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo import styles
from geo._types import AnalysisResult, Study
from geo.settings import Settings
from geo.i18n import fmt_number
from geo.webmap._base import (
    MapContext,
    add_layer,
    categorical_index,
    district_entry,
    district_outlines,
    finish_map,
    graduated_index,
    graduated_rows,
    map_title,
    new_map,
    value_names,
    with_names,
)
from geo.webmap._briefing import (
    display_names,
    district_labels,
    label_items,
)
from geo.webmap._controls import (
    LayerGroup,
    LayerItem,
    LegendSection,
    line_row,
    swatch_row,
)
from geo.webmap._layers import hex_size_for, hexagon_grid
from geo.webmap._roads import add_roads

log = logging.getLogger(__name__)


#: id(study) -> (weak reference to the study, inputs, result) of :func:`housing_hexagons`.
_HEXAGONS: dict[int, tuple] = {}


def housing_hexagons(study: Study, settings: Settings) -> tuple[gpd.GeoDataFrame, float] | None:
    """Resident workers of the housing layer (or population raster) summed into hexagons.

    Workers = dwellings × ``workers_per_dwelling`` (population × ``employment_rate`` where
    dwellings are missing), as in the balance analysis. Returns the occupied cells
    (``workers``, ``points``) in the working CRS and the hexagon circumradius in metres,
    or ``None`` when the study has no housing.

    A run asks three times (QGIS package, print figure, web map): the cells of a study are
    kept while the study lives (for the same housing frame, raster and settings) and each
    caller gets its own copy.
    """
    b = settings.balance
    inputs = (id(study.housing), id(study.population), b.workers_per_dwelling, b.employment_rate)
    entry = _HEXAGONS.get(id(study))
    if entry is None or entry[0]() is not study or entry[1] != inputs:
        result = _housing_hexagons(study, settings)
        key = id(study)
        _HEXAGONS[key] = (weakref.ref(study, lambda _ref, k=key: _HEXAGONS.pop(k, None)), inputs, result)
    else:
        result = entry[2]
    return None if result is None else (result[0].copy(), result[1])


def _housing_hexagons(study: Study, settings: Settings) -> tuple[gpd.GeoDataFrame, float] | None:
    """Resident workers of the housing layer (or population raster) summed into hexagons.

    Workers = dwellings × ``workers_per_dwelling`` (population × ``employment_rate`` where
    dwellings are missing), as in the balance analysis. Returns the occupied cells
    (``workers``, ``points``) in the working CRS and the hexagon circumradius in metres,
    or ``None`` when the study has no housing.
    """
    b = settings.balance
    housing = study.housing
    if housing is not None and len(housing):
        geoms = np.asarray(housing.geometry.values, dtype=object)
        if not (shapely.get_type_id(geoms) == 0).all():
            geoms = shapely.point_on_surface(geoms)
        x, y = shapely.get_x(geoms), shapely.get_y(geoms)
        workers = np.full(len(housing), np.nan)
        if "dwellings" in housing:
            workers = pd.to_numeric(housing["dwellings"], errors="coerce").to_numpy(float) * b.workers_per_dwelling
        if "population" in housing:
            pop = pd.to_numeric(housing["population"], errors="coerce").to_numpy(float) * b.employment_rate
            workers = np.where(np.isfinite(workers), workers, pop)
        workers = np.where(np.isfinite(workers), workers, 0.0)
    elif study.population is not None:
        x, y, values = study.population.cell_centres()
        workers = values * b.employment_rate
    else:
        return None
    ok = np.isfinite(x) & np.isfinite(y)
    x, y, workers = x[ok], y[ok], workers[ok]
    if not len(x):
        return None
    size = hex_size_for(x, y)
    polys, totals, counts = hexagon_grid(x, y, workers, size_m=size)
    cells = gpd.GeoDataFrame({"workers": totals, "points": counts}, geometry=polys, crs=study.crs)
    return cells[cells["workers"] > 0].reset_index(drop=True), size


#: Workplaces that get a name label (the most unbalanced; the label layer hides collisions).
LABELLED_WORKPLACES = 30


def build_balance_map(ctx: MapContext, result: AnalysisResult) -> folium.Map:
    """The folium map of the balance analysis (not yet written)."""
    title = map_title(ctx, "balance")
    m = new_map(ctx, title)
    t = ctx.text
    legend: list[LegendSection] = []
    analysis, context = LayerGroup(t["analysis"]), LayerGroup(t["context"])
    district_outlines(m, ctx)

    hexes = housing_hexagons(ctx.study, ctx.settings)
    if hexes is not None and len(hexes[0]):
        cells, size = hexes
        breaks = styles.graduated_breaks(cells["workers"])
        colors = styles.ramp(len(breaks) + 1)
        style_list = [{"stroke": False, "fillColor": c, "fillOpacity": 0.55} for c in colors]
        name = "居住就业人口密度" if ctx.lang == "zh" else "Resident workers (density)"
        tip = ctx.fields([("workers", ctx.label("workers", "balance_housing_density"), "people"), ("points", "居住点数" if ctx.lang == "zh" else "Housing features", "int")])
        add_layer(m, ctx, "housing_density", cells, label_text=name, styles_list=style_list,
                  style_index=graduated_index(cells["workers"], breaks), props=["workers", "points"],
                  tooltip=tip, pane="zaBack", canvas=True, tolerance_m=0)
        across = fmt_number(size * np.sqrt(3), "km", ctx.lang)
        note = (f"六边形网格（宽 {across}），每格居住就业人口" if ctx.lang == "zh"
                else f"Hexagons {across} across; resident workers per cell")
        legend.append(LegendSection(name, graduated_rows(cells["workers"], breaks, colors, "people", ctx.lang,
                                                         row=lambda s, c: swatch_row(s, c, c, opacity=0.55)),
                                    ["housing_density"], note))
        context.items.append(LayerItem("housing_density", name))

    districts = result.tables.get("balance_districts")
    if isinstance(districts, gpd.GeoDataFrame) and len(districts):
        breaks = list(styles.JHR_BREAKS)
        style_list = [{"color": styles.DISTRICT_OUTLINE, "weight": 1, "fillColor": c, "fillOpacity": 0.6}
                      for c in styles.JHR_COLORS] + [{"color": styles.DISTRICT_OUTLINE, "weight": 1,
                                                      "fillColor": "#cccccc", "fillOpacity": 0.4}]
        fields = ctx.fields(["name", "district_id", "jobs", "workers", "jhr", "balance_class"], districts,
                            table="balance_districts")
        name = ctx.label("balance_districts")
        add_layer(m, ctx, "balance_districts", districts, label_text=name, styles_list=style_list,
                  style_index=graduated_index(districts["jhr"], breaks), props=[f[0] for f in fields],
                  popup=fields, tooltip=fields[:1] + [f for f in fields if f[0] == "jhr"], title_field=None,
                  show=False, pane="zaBack", tolerance_m=20.0)
        rows = [swatch_row(text, c, styles.DISTRICT_OUTLINE, opacity=0.6)
                for text, c in zip(styles.jhr_class_texts(breaks), styles.JHR_COLORS)]
        legend.append(LegendSection(f"{name} — {ctx.label('jhr')}", rows, ["balance_districts"]))
        context.items.append(LayerItem("balance_districts", name))

    labels: list[dict | None] = [district_labels(ctx)]
    workplaces = result.tables.get("balance_workplaces")
    if isinstance(workplaces, gpd.GeoDataFrame) and len(workplaces):
        classes = list(styles.BALANCE_CLASSES)
        kinds = ["zone", "innovation_district"]
        style_list = []
        for cls in [*classes, None]:
            for kind in kinds:
                style_list.append({"color": styles.ZONE_OUTLINE if kind == "zone" else styles.INNOVATION_COLOR,
                                   "weight": 1 if kind == "zone" else 2.5,
                                   "fillColor": styles.BALANCE_CLASS_COLORS.get(cls, "#cccccc"),
                                   "fillOpacity": 0.85})
        # lead with the measure that answers the question: the area around the workplace
        lead = "area_class" if "area_class" in workplaces.columns else "balance_class"
        cls_idx = categorical_index(workplaces.get(lead, pd.Series([None] * len(workplaces))), classes)
        kind_idx = (workplaces.get("kind", pd.Series(["zone"] * len(workplaces))).astype(str)
                    == "innovation_district").to_numpy().astype(int)
        radii = [c for c in workplaces.columns if c.startswith("workers_") and c.removeprefix("workers_").isdigit()]
        minutes = [c for c in workplaces.columns if c.startswith("workers_") and c.endswith("min")]
        if "name" in workplaces:
            workplaces = workplaces.assign(label_name=display_names(workplaces, ctx.study.districts, ctx.lang,
                                                                    short=True).to_numpy(),
                                           name=display_names(workplaces, ctx.study.districts, ctx.lang).to_numpy())
        # labels: the most unbalanced workplaces first (|ln jobs-housing ratio|), then the districts
        jhr = pd.to_numeric(workplaces.get("jhr", pd.Series(np.nan, workplaces.index)), errors="coerce")
        extreme = np.abs(np.log(jhr.where(jhr > 0).to_numpy(float)))
        top = np.argsort(-np.nan_to_num(extreme, nan=-1.0), kind="stable")[:LABELLED_WORKPLACES]
        lab = workplaces.iloc[top]
        if "name" in lab:
            labels.append({"id": "workplaces", "layer": "workplaces", "kind": "zone",
                           "items": label_items(ctx, lab, lab["label_name"].tolist(),
                                                [100.0 + float(np.nan_to_num(v)) for v in extreme[top]])})
        area_jobs = [c for c in workplaces.columns if c.startswith("area_jobs_")]
        area_jhr = [c for c in workplaces.columns if c.startswith("area_jhr_")]
        by_minutes = ctx.settings.balance_reach == "network" and bool(minutes)
        if by_minutes:   # the primary measure first: minutes, then the straight line
            radii = [*minutes, *radii]
            area_jobs = sorted(area_jobs, key=lambda c: not c.endswith("min"))
            area_jhr = sorted(area_jhr, key=lambda c: not c.endswith("min"))
        else:
            radii = [*radii, *minutes]
        workplaces = with_names(workplaces, "district_id", value_names(ctx.study.districts, "district_id"),
                                "district_name")
        fields = ctx.fields(["name", "workplace_id", "kind", ("district_name", ctx.label("districts"), "text"),
                             "area_jhr", "area_class", "balance_minute", "balance_radius_m", "jobs", "workers",
                             *radii,
                             *area_jobs, *area_jhr, "jhr", "balance_class", "workers_shared", "jhr_shared",
                             "landuse_entropy", "residential_share"], workplaces)
        tip = ctx.fields([lead, "area_jhr", "balance_minute" if by_minutes else "balance_radius_m", "jobs",
                          "workers"], workplaces)
        name = ctx.label("balance_workplaces")
        add_layer(m, ctx, "workplaces", workplaces, label_text=name, styles_list=style_list,
                  style_index=cls_idx * 2 + kind_idx, props=[f[0] for f in fields], popup=fields, tooltip=tip,
                  title_field="name", search_field="name", id_field="workplace_id", on_click="catchment")
        rows = [swatch_row(styles.balance_class_text(c, ctx.lang, ctx.settings.balance.balanced_range),
                           styles.BALANCE_CLASS_COLORS[c], styles.ZONE_OUTLINE, opacity=0.85) for c in classes]
        rows.append(swatch_row(ctx.label("innovation_district"), "none", styles.INNOVATION_COLOR, weight=2.5))
        notes = [ctx.label("note_area_jhr"), ctx.label("note_jhr"), ctx.label("note_jhr_shared")]
        if lead == "balance_class":
            notes = notes[1:]
        if by_minutes:
            minute = ctx.settings.balance.minute
            click = (f"点击就业地显示其 {minute:g} 分钟通勤范围（沿道路网）。" if ctx.lang == "zh"
                     else f" Click a workplace for the area it reaches within {minute:g} minutes on the roads.")
            notes.insert(0, ctx.label("note_minutes"))
        else:
            click = "点击就业地显示其通勤范围。" if ctx.lang == "zh" else " Click a workplace for its catchment."
        if ctx.study.employment is None and ctx.study.employment_raster is None and lead == "area_class":
            notes.append(ctx.label("note_no_employment"))
        legend.append(LegendSection(f"{name} — {ctx.label(lead)}", rows, ["workplaces"],
                                    " ".join(notes) + click))
        analysis.items.append(LayerItem("workplaces", name))
        if "balance_radius_m" in workplaces.columns:
            _balance_radius_layer(m, ctx, workplaces, legend, analysis)

        isochrones = result.tables.get("balance_isochrones")
        if by_minutes and isinstance(isochrones, gpd.GeoDataFrame) and len(isochrones):
            _isochrone_layer(m, ctx, isochrones, legend, analysis)
        else:
            _ring_layer(m, ctx, workplaces, legend, analysis)
    add_roads(m, ctx, context, legend)

    district_entry(m, ctx, context, legend)
    bounds = ctx.display.bounds([workplaces if isinstance(workplaces, gpd.GeoDataFrame) else None,
                                 ctx.study.zones])
    return finish_map(m, ctx, title=title, groups=[g for g in (analysis, context) if g.items],
                      legend=legend, bounds=bounds, labels=labels)


#: Most isochrone vertices on the page (simplified more until they fit).
ISOCHRONE_VERTEX_BUDGET = 40_000

#: Balance-radius bands of the graduated symbols (metres) and their circle radii (pixels).
RADIUS_BANDS_M = (2000.0, 5000.0, 10000.0, 20000.0, 30000.0)
_SYMBOL_PX = (4, 6, 8, 11, 14)


def _balance_radius_layer(m: folium.Map, ctx: MapContext, workplaces: gpd.GeoDataFrame,
                          legend: list[LegendSection], analysis: LayerGroup) -> None:
    """The balance radius (职住平衡半径) of every workplace as a graduated circle."""
    radius = pd.to_numeric(workplaces["balance_radius_m"], errors="coerce").to_numpy(float)
    band = np.searchsorted(np.array(RADIUS_BANDS_M), radius, side="left")
    band = np.where(np.isnan(radius), len(RADIUS_BANDS_M), band)
    colour = styles.CATCHMENT_COLOR
    style_list = [{"radius": px, "color": colour, "weight": 1.5, "fillColor": colour, "fillOpacity": 0.35}
                  for px in _SYMBOL_PX]
    style_list.append({"radius": 4, "color": "#555555", "weight": 1.5, "fill": False, "dashArray": "2 2"})
    points = gpd.GeoDataFrame(workplaces[["workplace_id", "name", "balance_radius_m"]].copy(),
                              geometry=shapely.point_on_surface(np.asarray(workplaces.geometry.values,
                                                                           dtype=object)),
                              crs=workplaces.crs)
    name = ctx.label("balance_radius_m")
    fields = ctx.fields(["name", "balance_radius_m"], points)
    add_layer(m, ctx, "balance_radius", points, label_text=name, styles_list=style_list,
              style_index=band, props=[f[0] for f in fields], tooltip=fields, title_field=None,
              show=False, pane="zaTop", tolerance_m=0)
    edges = [0.0, *RADIUS_BANDS_M]
    rows = []
    for (lo, hi), px in zip(itertools.pairwise(edges), _SYMBOL_PX):
        text = f"{lo / 1000:g}–{hi / 1000:g} {'公里' if ctx.lang == 'zh' else 'km'}"
        rows.append(swatch_row(text, colour, colour, opacity=0.35))
    rows.append(swatch_row(ctx.label("not_reached"), "none", "#555555"))
    legend.append(LegendSection(name, rows, ["balance_radius"], ctx.label("note_balance_radius")))
    analysis.items.append(LayerItem("balance_radius", name))


def _ring_layer(m: folium.Map, ctx: MapContext, workplaces: gpd.GeoDataFrame,
                legend: list[LegendSection], analysis: LayerGroup) -> None:
    """Straight-line catchments: the primary radius around each workplace (drawn on click)."""
    radius = ctx.settings.balance.radius_m
    rings = workplaces[["workplace_id", "name"]].copy()
    ring_geoms = shapely.buffer(np.asarray(workplaces.geometry.values, dtype=object), radius, quad_segs=4)
    rings = gpd.GeoDataFrame(rings, geometry=ring_geoms, crs=workplaces.crs)
    ring_name = (f"{radius / 1000:g} 公里通勤范围" if ctx.lang == "zh" else f"{radius / 1000:g} km catchments")
    add_layer(m, ctx, "catchments", rings, label_text=ring_name,
              styles_list=[{"color": styles.CATCHMENT_COLOR, "weight": 1, "dashArray": "3 4", "fill": False, "opacity": 0.6}],
              props=["workplace_id"], show=False, canvas=True, interactive=False,
              tolerance_m=max(radius / 200, 5.0), pane="zaBack")
    m._children["za_init"].config["ringLayer"] = "catchments"
    legend.append(LegendSection(ring_name, [line_row(ring_name, styles.CATCHMENT_COLOR, 1.5, dash="3 4")], ["catchments"]))
    analysis.items.append(LayerItem("catchments", ring_name))


def _isochrone_layer(m: folium.Map, ctx: MapContext, isochrones: gpd.GeoDataFrame,
                     legend: list[LegendSection], analysis: LayerGroup) -> None:
    """Travel-time catchments: the area each workplace reaches within the primary horizon
    on the roads (``balance_isochrones``); clicking a workplace draws its own."""
    minute = ctx.settings.balance.minute
    name = (f"{minute:g} 分钟通勤范围（道路网）" if ctx.lang == "zh"
            else f"{minute:g}-minute catchments (roads)")
    geoms = np.asarray(isochrones.geometry.values, dtype=object)
    for tolerance_m in (100.0, 200.0, 400.0, 800.0, 1600.0):   # light enough for 2,000 workplaces
        drawn = shapely.simplify(geoms, tolerance_m)
        if int(shapely.get_num_coordinates(drawn).sum()) <= ISOCHRONE_VERTEX_BUDGET:
            break
    add_layer(m, ctx, "isochrones", isochrones.set_geometry(drawn), label_text=name,
              styles_list=[{"color": styles.ISOCHRONE_COLOR, "weight": 1, "fill": False, "opacity": 0.6}],
              props=["workplace_id"], show=False, canvas=True, interactive=False, tolerance_m=0,
              pane="zaBack")
    m._children["za_init"].config["ringLayer"] = "isochrones"
    legend.append(LegendSection(name, [line_row(name, styles.ISOCHRONE_COLOR, 1.5)], ["isochrones"],
                                ctx.label("note_isochrone")))
    analysis.items.append(LayerItem("isochrones", name))
