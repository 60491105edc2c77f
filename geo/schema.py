"""The canonical layer schema (docs/input-data.md): one place that names every field.

Loading (:mod:`geo.layers`), settings validation, the writers and the tests read these
tables instead of repeating field names.
"""

from __future__ import annotations

from dataclasses import dataclass

ROLES = ("rd", "manufacturing", "terminal", "supporting", "mixed")
#: Firm tiers of ``layers.firms`` (链主 / 骨干 / 中小 accepted on input).
TIERS = ("leader", "key", "sme")


@dataclass(frozen=True)
class LayerSchema:
    name: str
    geometry: tuple[str, ...]          # accepted geometry types (after Multi* folding)
    id_field: str
    required: tuple[str, ...]
    optional: tuple[str, ...] = ()
    numeric: tuple[str, ...] = ()      # non-negative numbers
    one_of: tuple[tuple[str, ...], ...] = ()  # at least one of each group is required

    @property
    def fields(self) -> tuple[str, ...]:
        extra = tuple(f for group in self.one_of for f in group)
        return tuple(dict.fromkeys(self.required + extra + self.optional))


POLYGON = ("Polygon", "MultiPolygon")

LAYERS: dict[str, LayerSchema] = {
    "districts": LayerSchema(
        name="districts",
        geometry=POLYGON,
        id_field="district_id",
        required=("district_id", "name"),
    ),
    "zones": LayerSchema(
        name="zones",
        geometry=POLYGON,
        id_field="zone_id",
        required=("zone_id", "name", "chain", "jobs"),
        optional=("district_id", "output", "firms", "leader_firms", "rd_platforms", "role"),
        numeric=("jobs", "output", "firms", "leader_firms", "rd_platforms"),
    ),
    "innovation_districts": LayerSchema(
        name="innovation_districts",
        geometry=POLYGON,
        id_field="innov_id",
        required=("innov_id", "name", "chains"),
        optional=("district_id", "jobs", "universities", "labs", "incubators"),
        numeric=("jobs", "universities", "labs", "incubators"),
    ),
    "housing": LayerSchema(
        name="housing",
        geometry=("Point", "MultiPoint", "Polygon", "MultiPolygon"),
        id_field="housing_id",
        required=("housing_id",),
        one_of=(("dwellings", "population"),),
        numeric=("dwellings", "population"),
    ),
    "firms": LayerSchema(
        name="firms",
        geometry=("Point",),
        id_field="firm_id",
        required=("firm_id", "chain", "tier"),
        optional=("name", "jobs", "role"),
        numeric=("jobs",),
    ),
    # all-sector jobs (economic-census establishments, 街道 totals at representative
    # points, POI-based estimates); polygons count at their representative point.
    # A raster of jobs per cell is read by the raster loader instead (see
    # geo.settings.EmploymentSettings.is_raster).
    "employment": LayerSchema(
        name="employment",
        geometry=("Point", "MultiPoint", "Polygon", "MultiPolygon"),
        id_field="employment_id",
        required=("employment_id", "jobs"),
        optional=("name",),
        numeric=("jobs",),
    ),
    # road centrelines (DESIGN.md "Roads and travel time"); class, speed_kmh and oneway
    # are parsed by geo.network (English and Chinese classes, FT/TF one-way codes)
    "roads": LayerSchema(
        name="roads",
        geometry=("LineString", "MultiLineString"),
        id_field="road_id",
        required=("road_id",),
        optional=("class", "speed_kmh", "oneway"),
    ),
    # observed home -> work flows (mobile-signalling OD tables, usually between grid cells):
    # a table with home_x, home_y, work_x, work_y (coordinates in the layer's crs) or a
    # line layer (first vertex home, last vertex work); read by geo.layers._commuting
    "commuting": LayerSchema(
        name="commuting",
        geometry=("LineString", "MultiLineString"),
        id_field="flow_id",
        required=("commuters",),
        optional=("flow_id", "home_x", "home_y", "work_x", "work_y"),
        numeric=("commuters",),
    ),
}

#: Layers of flows, not features: read by their own loader into a plain DataFrame of
#: coordinates (a million rows are ordinary), neither copied into tables/ nor into the
#: GeoPackage (the results aggregate them).
FLOW_LAYERS = ("commuting",)
#: The coordinate columns of a table of flows (``layers.commuting`` without geometry).
FLOW_COORDINATES = ("home_x", "home_y", "work_x", "work_y")

VECTOR_LAYERS = tuple(n for n in LAYERS if n not in FLOW_LAYERS)
#: Input layers written as ``tables/<name>.csv``, workbook sheets and QGIS input layers.
#: Roads are left out: the package carries the network as used (layer ``roads``).
TABLE_LAYERS = tuple(name for name in VECTOR_LAYERS if name != "roads")
RASTER_LAYERS = ("population", "landuse")

#: Two distances closer than this (metres) are equal: a point or feature this close beyond
#: a radius is on it, and on the radius counts. Every straight-line "within r" decision
#: compares ``distance <= r + DISTANCE_TOLERANCE_M`` (the analyses' radii and limits, the
#: roads' ``network.max_access_m``), because the distance itself is rounded: GEOS measures a
#: point exactly 500 m from a polygon edge 1,316 m long as 500.00000000000006 m, and a
#: strict test would drop it. Nodes this close in distance to a home are equally near it.
DISTANCE_TOLERANCE_M = 1e-6

#: Default speeds (km/h) of the road classes (``network.class_speeds_kmh``).
DEFAULT_CLASS_SPEEDS_KMH = {"motorway": 80.0, "expressway": 60.0, "arterial": 40.0,
                            "secondary": 30.0, "local": 20.0}

#: Canonical English road classes and their Chinese names (GB 50220 / CJJ 37 terms).
CLASS_ALIASES: dict[str, str] = {
    "motorway": "motorway", "高速公路": "motorway",
    "expressway": "expressway", "快速路": "expressway",
    "arterial": "arterial", "主干路": "arterial",
    "secondary": "secondary", "次干路": "secondary",
    "local": "local", "支路": "local",
    # OpenStreetMap ``highway`` values (e.g. Geofabrik's ``fclass``), read as the nearest class
    "motorway_link": "motorway", "trunk": "expressway", "trunk_link": "expressway",
    "primary": "arterial", "primary_link": "arterial",
    "secondary_link": "secondary", "tertiary": "secondary", "tertiary_link": "secondary",
    "residential": "local", "unclassified": "local", "living_street": "local", "service": "local",
    "road": "local",
    # other common Chinese names: 城市快速路, 国道 / 省道 (national / provincial roads), 县道, 乡道
    "城市快速路": "expressway", "国道": "arterial", "省道": "arterial", "县道": "secondary",
    "乡道": "local", "主干道": "arterial", "次干道": "secondary", "支路及以下": "local",
}


def road_class_name(text: str, class_speeds_kmh) -> str | None:
    """The class a road class text stands for (None when unknown): a key of
    ``class_speeds_kmh`` (e.g. a user-defined ``busway``), an English name in any case or
    a Chinese / OpenStreetMap name of :data:`CLASS_ALIASES`."""
    if text in class_speeds_kmh:
        return text
    key = CLASS_ALIASES.get(text, CLASS_ALIASES.get(text.lower()))
    if key is not None:
        return key
    return text.lower() if text.lower() in class_speeds_kmh else None


def class_speed_keys(speeds: dict[str, float]) -> dict[str, float]:
    """``network.class_speeds_kmh`` keyed by the classes its keys name: ``Arterial`` or
    ``主干路`` set the speed of ``arterial``; any other key (an OpenStreetMap value such as
    ``residential`` included: a class of its own, as before) is a new class, in lower case.
    ValueError when two keys name one class.

    >>> class_speed_keys({"Arterial": 50, "主干路": 50}) # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: keys 'Arterial' and '主干路' both set the speed of the road class 'arterial'...
    >>> class_speed_keys({"Busway": 25, "快速路": 70, "residential": 15})
    {'busway': 25, 'expressway': 70, 'residential': 15}
    """
    out: dict[str, float] = {}
    given: dict[str, str] = {}
    for key, speed in speeds.items():
        text = str(key).strip()
        # the five classes in any case, or by their Chinese names; everything else its own class
        chinese = None if text.isascii() else road_class_name(text, DEFAULT_CLASS_SPEEDS_KMH)
        name = chinese or text.lower()
        if name in out:
            raise ValueError(f"keys {given[name]!r} and {text!r} both set the speed of the road class {name!r}; "
                             "keep one")
        out[name], given[name] = speed, text
    return out


def road_class_names(values, class_speeds_kmh) -> list[str]:
    """The classes ``values`` stand for (sorted, once each); ValueError naming the first
    unknown one and the known names."""
    names = [road_class_name(str(v).strip(), class_speeds_kmh) for v in values]
    if None in names:
        known = ", ".join(sorted(set(class_speeds_kmh) | set(CLASS_ALIASES)))
        raise ValueError(f"unknown road class {list(values)[names.index(None)]!r}; known: {known} "
                         "(add a class with a speed under network.class_speeds_kmh)")
    return sorted(set(names))

#: Core-periphery strength indicators (zones fields), in the documented order (docs/analyses.md).
INDICATORS = ("jobs", "output", "firms", "leader_firms", "rd_platforms")
