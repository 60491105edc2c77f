"""config.yaml -> one validated :class:`Settings` object.

Every key has a documented default (docs/config.md) except ``layers.zones``. Unknown keys
are an error naming the key path and the closest valid key. Paths are resolved
relative to the folder of the config file.

Examples
--------
>>> from geo.settings import settings_from_dict
>>> s = settings_from_dict({"layers": {"zones": {"path": "zones.gpkg"}}}, base_dir=".")
>>> s.balance.radius_m
5000.0
"""

from __future__ import annotations

import difflib
import os
from pathlib import Path
from typing import Annotated, Any, Literal, get_args

from pydantic import (AfterValidator, BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator,
                      model_validator)

from geo._config_file import native_path, read_config
from geo._errors import ConfigError
from geo.schema import DEFAULT_CLASS_SPEEDS_KMH, INDICATORS, LAYERS, class_speed_keys, road_class_names

PositiveFloat = Annotated[float, Field(gt=0)]
Share = Annotated[float, Field(gt=0, le=1)]

BASEMAPS = ("none", "osm", "carto-light", "tianditu", "amap")


def _takes_bool(annotation: Any) -> bool:
    return annotation is bool or annotation is Any or any(_takes_bool(a) for a in get_args(annotation))


def _takes_number(annotation: Any) -> bool:
    return annotation in (int, float) or any(_takes_number(a) for a in get_args(annotation))


def _holds_section(annotation: Any) -> bool:
    """A field whose value may be a section of its own (``roads: VectorLayerSettings | None``)."""
    return (isinstance(annotation, type) and issubclass(annotation, BaseModel)) or any(
        _holds_section(a) for a in get_args(annotation))


class _Model(BaseModel):
    # inf and nan pass a float field's bounds checks (inf > 0) but poison every result
    model_config = ConfigDict(extra="forbid", validate_default=True, allow_inf_nan=False)

    @field_validator("*", mode="before")
    @classmethod
    def _no_boolean_as_number(cls, value: Any, info: ValidationInfo) -> Any:
        """YAML reads true/false/yes/no/on/off as booleans, which pydantic would take as
        1 / 0 (``radius_m: yes`` would run with 1 m): only a yes/no key takes them. A
        section left empty (``balance:`` with every key commented out) is its defaults."""
        annotation = cls.model_fields[info.field_name].annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            return {} if value is None else value     # a section: its own keys are checked there
        if isinstance(value, dict) and _holds_section(annotation):
            return value
        items = value.values() if isinstance(value, dict) else value if isinstance(value, list) else [value]
        # (pydantic itself refuses a bool where text or a choice is expected)
        if any(isinstance(v, bool) for v in items) and _takes_number(annotation) and not _takes_bool(annotation):
            raise ValueError("expected a number, not true/false (YAML reads true, false, yes, no, "
                             "on and off as yes/no values)")
        return value


class StudySettings(_Model):
    """``study:`` what the study is called and the language of labels."""

    name: str = "zoneatlas study"
    language: Literal["zh", "en"] = "zh"
    synthetic: bool = False
    """True for the generated sample: maps and the atlas page say the data is fictional."""


class CRSSettings(_Model):
    """``crs:`` working CRS (projected, metres) and the CRS of the QGIS package.

    ``working`` omitted: the CGCS2000 3-degree Gauss-Krüger zone (EPSG:4534-4554) of the
    study's centroid when it lies in China, otherwise its UTM zone. ``export`` omitted:
    the working CRS.
    """

    working: str | None = None
    export: str | None = None

    @field_validator("working", "export")
    @classmethod
    def _parse_crs(cls, value: str | int | None) -> str | None:
        if value is None:
            return None
        from pyproj import CRS
        from pyproj.exceptions import CRSError as PyprojCRSError

        text = f"EPSG:{value}" if isinstance(value, int) else str(value)
        try:
            CRS.from_user_input(text)
        except PyprojCRSError as exc:
            raise ValueError(f"not a CRS pyproj understands ({text!r}): {exc}") from None
        return text


class VectorLayerSettings(_Model):
    """One vector input layer.

    ``fields`` maps canonical field names (docs/input-data.md) to the user's column names.
    ``crs`` is used only when the file has none. ``encoding`` overrides the file's
    (e.g. ``gbk`` for a Chinese shapefile without .cpg). ``coordinates`` says the data
    was digitised on AMap (``gcj02``) or Baidu (``bd09``); it is converted to WGS84.
    """

    path: Path
    layer: str | None = None
    fields: dict[str, str] = Field(default_factory=dict)
    crs: str | None = None
    encoding: str | None = None
    coordinates: Literal["wgs84", "gcj02", "bd09"] = "wgs84"

    _check_crs = field_validator("crs")(CRSSettings._parse_crs.__func__)

    @field_validator("encoding")
    @classmethod
    def _known_encoding(cls, value: str | None) -> str | None:
        if value is None:
            return None
        import codecs

        try:
            codecs.lookup(value)
        except LookupError:
            raise ValueError(f"unknown text encoding {value!r} (try gbk, gb18030, utf-8)") from None
        return value


class RasterLayerSettings(_Model):
    """A single-band raster input (population: persons per cell; landuse: classes)."""

    path: Path
    crs: str | None = None
    band: Annotated[int, Field(ge=1)] = 1

    _check_crs = field_validator("crs")(CRSSettings._parse_crs.__func__)


DEFAULT_LANDUSE_CLASSES = {
    1: "residential", 2: "office", 3: "industrial", 4: "retail", 5: "public", 6: "green",
}


class LanduseSettings(RasterLayerSettings):
    classes: dict[int, str] = Field(default_factory=lambda: dict(DEFAULT_LANDUSE_CLASSES))
    residential_class: int | None = None
    """Class code counted as housing in the mix; default: the class named 'residential'."""

    @model_validator(mode="after")
    def _residential_is_a_class(self) -> LanduseSettings:
        if self.residential_class is not None and self.residential_class not in self.classes:
            raise ValueError(f"layers.landuse.residential_class: {self.residential_class} is not a code of "
                             f"layers.landuse.classes ({', '.join(str(c) for c in self.classes)})")
        return self


#: File suffixes read as a raster when ``layers.employment`` has no ``kind:``.
RASTER_SUFFIXES = (".tif", ".tiff", ".img", ".vrt", ".asc", ".nc", ".jp2")


class EmploymentSettings(VectorLayerSettings):
    """``layers.employment``: all-sector jobs, as points (``jobs`` per feature) or a
    raster of jobs per cell.

    ``kind: points | raster`` says which; when left out, a file ending in ``.tif``,
    ``.tiff``, ``.img``, ``.vrt``, ``.asc``, ``.nc`` or ``.jp2`` is a raster and anything
    else a vector layer. ``band`` applies to a raster; ``layer``, ``fields``,
    ``encoding`` and ``coordinates`` to points.
    """

    kind: Literal["points", "raster"] | None = None
    band: Annotated[int, Field(ge=1)] = 1

    @property
    def is_raster(self) -> bool:
        if self.kind is not None:
            return self.kind == "raster"
        return Path(self.path).suffix.lower() in RASTER_SUFFIXES

    @model_validator(mode="after")
    def _raster_keys(self) -> EmploymentSettings:
        if self.is_raster and (self.fields or self.layer or self.encoding
                               or self.coordinates != "wgs84"):
            raise ValueError("a raster of jobs per cell takes only path, crs and band; "
                             "fields, layer, encoding and coordinates apply to points "
                             "(set kind: points if the file is a vector layer)")
        return self


class LayersSettings(_Model):
    """``layers:`` every input. Only ``zones`` is required."""

    districts: VectorLayerSettings | None = None
    zones: VectorLayerSettings
    innovation_districts: VectorLayerSettings | None = None
    housing: VectorLayerSettings | None = None
    firms: VectorLayerSettings | None = None
    """Optional points: firms of the chains (firm_id, name, chain, tier, jobs, role)."""
    population: RasterLayerSettings | None = None
    landuse: LanduseSettings | None = None
    employment: EmploymentSettings | None = None
    """All-sector jobs (points with ``jobs`` or a raster of jobs per cell): the area
    measures of the balance count them besides the workplaces' own jobs."""
    roads: VectorLayerSettings | None = None
    """Road centrelines (road_id, optional class, speed_kmh, oneway): every analysis also
    measures travel time on them (``network:``)."""
    commuting: VectorLayerSettings | None = None
    """Observed home -> work flows: a table (CSV or any OGR table) with home_x, home_y,
    work_x, work_y, commuters in the layer's ``crs``, or a line layer with commuters."""

    @model_validator(mode="after")
    def _check_fields(self) -> LayersSettings:
        problems = []
        for name, schema in LAYERS.items():
            layer = getattr(self, name)
            if layer is None or (name == "employment" and layer.is_raster):
                continue
            for key in layer.fields:
                if key not in schema.fields:
                    hint = _closest(key, schema.fields)
                    problems.append(
                        f"layers.{name}.fields.{key}: not a field of layer {name!r}"
                        f"{hint}; canonical fields: {', '.join(schema.fields)}"
                    )
        if problems:
            raise ValueError("; ".join(problems))
        return self


class BalanceSettings(_Model):
    """``balance:`` jobs-housing balance."""

    radius_m: PositiveFloat = 5000.0
    radii_m: list[PositiveFloat] = Field(default_factory=lambda: [3000.0, 5000.0, 10000.0])
    workers_per_dwelling: PositiveFloat = 1.4
    employment_rate: Share = 0.55
    balanced_range: tuple[PositiveFloat, PositiveFloat] = (0.8, 1.25)
    radius_step_m: PositiveFloat = 500.0
    """Step of the balance radius search (职住平衡半径), up to 30 km."""
    reach: Literal["euclidean", "network"] | None = None
    """How commuting reach is measured: straight line (``euclidean``) or travel time on
    ``layers.roads`` (``network``); default ``network`` when roads are given."""
    minutes: list[PositiveFloat] = Field(default_factory=lambda: [15.0, 30.0, 45.0])
    """Travel-time horizons reported as ``workers_<m>min`` (with roads)."""
    minute: PositiveFloat = 30.0
    """Primary horizon: ``workers``, ``jhr``, ``balance_class``, ``workers_shared`` use it
    when ``reach`` is ``network``."""

    @model_validator(mode="after")
    def _check(self) -> BalanceSettings:
        if not self.radii_m:
            raise ValueError("radii_m: give at least one radius")
        if not self.minutes:
            raise ValueError("minutes: give at least one horizon")
        if any(b <= a for a, b in zip(self.minutes, self.minutes[1:])):
            raise ValueError(f"minutes: must be strictly ascending (got {self.minutes})")
        if any(b <= a for a, b in zip(self.radii_m, self.radii_m[1:])):
            raise ValueError(f"radii_m: must be strictly ascending (got {self.radii_m})")
        lo, hi = self.balanced_range
        if lo >= hi:
            raise ValueError(f"balanced_range: lower bound must be below upper (got [{lo}, {hi}])")
        return self

    @property
    def all_radii_m(self) -> list[float]:
        """``radii_m`` with the primary radius added when missing, ascending."""
        return sorted(set(self.radii_m) | {self.radius_m})

    @property
    def all_minutes(self) -> list[float]:
        """``minutes`` with the primary horizon added when missing, ascending."""
        return sorted(set(self.minutes) | {self.minute})


class CollaborationSettings(_Model):
    """``collaboration:`` cross-district collaboration."""

    max_distance_m: PositiveFloat = 30000.0
    distance_decay: Annotated[float, Field(ge=0)] = 2.0
    top_pairs_per_chain: Annotated[int, Field(ge=1)] = 10
    max_travel_min: PositiveFloat = 60.0
    """With roads: pairs slower than this (minutes) are not suggested."""


class CorePeripherySettings(_Model):
    """``core_periphery:`` growth poles and attachment.

    ``method: share`` takes the top ``core_share`` of zones by score (at most
    ``max_cores``); ``method:
    hotspot`` takes significant Getis-Ord Gi* hot spots (distance band
    ``hotspot_band_m``, significance ``hotspot_alpha``) whose score is the highest in
    their band.
    """

    weights: dict[str, Annotated[float, Field(ge=0)]] = Field(
        default_factory=lambda: {k: 1.0 for k in INDICATORS}
    )
    core_share: Share = 0.2
    max_cores: Annotated[int, Field(ge=1)] = 15
    """At most this many cores, whatever ``core_share`` gives: a growth pole is one of a few."""
    attach_max_m: PositiveFloat = 40000.0
    attach_max_min: PositiveFloat = 60.0
    """With roads: periphery zones slower than this (minutes) from every core are isolated."""
    distance_decay: Annotated[float, Field(ge=0)] = 2.0
    method: Literal["share", "hotspot"] = "share"
    hotspot_band_m: PositiveFloat | None = None
    """Distance band of the Gi* weights; default: ``attach_max_m / 2``."""
    hotspot_alpha: Share = 0.05
    permutations: Annotated[int, Field(ge=0)] = 999
    seed: Annotated[int, Field(ge=0, lt=2**32)] = 0

    @field_validator("weights")
    @classmethod
    def _check_weights(cls, value: dict[str, float]) -> dict[str, float]:
        for key in value:
            if key not in INDICATORS:
                raise ValueError(
                    f"unknown indicator {key!r}{_closest(key, INDICATORS)}; "
                    f"indicators: {', '.join(INDICATORS)}"
                )
        if not any(w > 0 for w in value.values()):
            raise ValueError("at least one weight must be > 0")
        return value


class ChainsSettings(_Model):
    """``chains:`` industry chains and chain-leader firms."""

    reach_m: PositiveFloat = 30000.0
    """Straight-line reach between zones / firms of a chain (metres)."""
    reach_min: PositiveFloat = 45.0
    """Reach in travel time (minutes); used when layers.roads is given."""


class CommutingSettings(_Model):
    """``commuting:`` indicators of observed commuting (``layers.commuting``)."""

    cell_m: PositiveFloat = 1000.0
    """Side of the square home cells of t_obs / t_min / t_max, the commute sheds and the balance's
    theoretical minimum commute (metres)."""
    top_flows: Annotated[int, Field(ge=1)] = 50
    """District-to-district flows drawn on commuting.html (the largest first)."""


class NetworkSettings(_Model):
    """``network:`` how the road graph is built and entered (DESIGN.md "Roads and travel time").

    ``class_speeds_kmh`` adds to / overrides the default speeds of the five road classes
    (motorway 80, expressway 60, arterial 40, secondary 30, local 20 km/h); a new key
    (e.g. ``busway: 25``) makes a new class known.
    """

    class_speeds_kmh: Annotated[dict[str, PositiveFloat], AfterValidator(class_speed_keys)] = Field(
        default_factory=lambda: dict(DEFAULT_CLASS_SPEEDS_KMH))
    default_speed_kmh: PositiveFloat = 20.0
    """Speed of a road with neither ``speed_kmh`` nor a known class."""
    access_speed_kmh: PositiveFloat = 5.0
    """Speed of the leg between a feature and the network (walking)."""
    max_access_m: PositiveFloat = 1000.0
    """Features farther than this from every node are not connected (warning, counted)."""
    snap_tolerance_m: Annotated[float, Field(ge=0)] = 1.0
    """Vertices closer than this are one node."""
    no_access_classes: list[str] = Field(default_factory=list)
    """Road classes homes and workplaces do not join (e.g. ``[motorway, expressway]``) except at
    nodes a road of another class shares. Default: none (every node)."""

    @field_validator("no_access_classes")
    @classmethod
    def _known_classes(cls, value: list[str], info: ValidationInfo) -> list[str]:
        road_class_names(value, {**DEFAULT_CLASS_SPEEDS_KMH, **(info.data.get("class_speeds_kmh") or {})})
        return value

    @property
    def speeds_kmh(self) -> dict[str, float]:
        """The default class speeds updated with ``class_speeds_kmh``."""
        return {**DEFAULT_CLASS_SPEEDS_KMH, **self.class_speeds_kmh}

    @property
    def no_access(self) -> list[str]:
        """``no_access_classes`` as class names (Chinese and OpenStreetMap names resolved)."""
        return road_class_names(self.no_access_classes, self.speeds_kmh)


class CustomBasemap(_Model):
    url: str
    attribution: str
    max_zoom: Annotated[int, Field(ge=1, le=24)] = 18
    subdomains: str | None = None

    @field_validator("url")
    @classmethod
    def _template(cls, value: str) -> str:
        if not all(k in value for k in ("{x}", "{y}", "{z}")):
            raise ValueError(f"tile URL must contain {{x}}, {{y}} and {{z}} (got {value!r})")
        return value

    @model_validator(mode="after")
    def _subdomains_used(self) -> CustomBasemap:
        if self.subdomains and "{s}" not in self.url:
            raise ValueError("map.basemap.subdomains: the tile URL has no {s} to put them in; add {s} "
                             f"to the URL or leave subdomains out (got {self.url!r})")
        return self


class MapSettings(_Model):
    """``map:`` basemap of the HTML maps and the QGIS project."""

    basemap: Literal["none", "osm", "carto-light", "tianditu", "amap"] | CustomBasemap = "carto-light"
    tianditu_key: str | None = None
    approval_number: str | None = None
    """审图号 (map approval number) shown in the map footer whenever a tile basemap is on."""

    @property
    def resolved_tianditu_key(self) -> str | None:
        return self.tianditu_key or os.environ.get("TIANDITU_KEY") or None


class PrintSettings(_Model):
    """``print:`` print-ready figures (``figures/<analysis>.png`` at 300 dpi and ``.pdf``) and
    ``tables.xlsx``.

    ``paper``: A4 | A3 (default) | A2; ``orientation``: landscape (default) | portrait;
    ``figures`` (default true) and ``workbook`` (default true) switch the outputs off. With
    ``study.language: zh`` the figures need an installed font with Chinese characters (e.g.
    Debian ``fonts-noto-cjk``).
    """

    paper: Literal["A4", "A3", "A2"] = "A3"
    orientation: Literal["landscape", "portrait"] = "landscape"
    figures: bool = True
    workbook: bool = True


class OutputSettings(_Model):
    dir: Path = Path("maps")


class Settings(_Model):
    """Everything one run needs, validated. Paths are absolute."""

    study: StudySettings = Field(default_factory=StudySettings)
    crs: CRSSettings = Field(default_factory=CRSSettings)
    layers: LayersSettings
    balance: BalanceSettings = Field(default_factory=BalanceSettings)
    collaboration: CollaborationSettings = Field(default_factory=CollaborationSettings)
    core_periphery: CorePeripherySettings = Field(default_factory=CorePeripherySettings)
    chains: ChainsSettings = Field(default_factory=ChainsSettings)
    commuting: CommutingSettings = Field(default_factory=CommutingSettings)
    network: NetworkSettings = Field(default_factory=NetworkSettings)
    map: MapSettings = Field(default_factory=MapSettings)
    print: PrintSettings = Field(default_factory=PrintSettings)
    output: OutputSettings = Field(default_factory=OutputSettings)

    config_path: Path | None = Field(default=None, exclude=True)
    """The config file these settings came from (None when built in code)."""

    @model_validator(mode="after")
    def _check_reach(self) -> Settings:
        if self.balance.reach == "network" and self.layers.roads is None:
            raise ValueError("balance.reach: 'network' needs a roads layer (layers.roads); "
                             "give one or set balance.reach: euclidean")
        return self

    @property
    def source(self) -> str:
        """The config file as messages name it (relative to the current folder when below it)."""
        return config_source(self.config_path)

    @property
    def uses_network(self) -> bool:
        """True when travel times on ``layers.roads`` are measured."""
        return self.layers.roads is not None

    @property
    def balance_reach(self) -> str:
        """``balance.reach`` resolved: ``network`` by default when roads are given."""
        if self.balance.reach is not None:
            return self.balance.reach
        return "network" if self.layers.roads is not None else "euclidean"

    def as_config(self) -> dict[str, Any]:
        """The settings as a plain, JSON-serialisable dict (for run.json), with the
        defaults that depend on other keys resolved (``balance.reach``)."""
        data = self.model_dump(mode="json", exclude={"config_path"})
        data["balance"]["reach"] = self.balance_reach
        return data


# ---------------------------------------------------------------------------
# loading


def config_source(path: Path | None) -> str:
    """A config file as messages name it: relative to the current folder when below it."""
    if path is None:
        return "config"
    try:
        return str(Path(path).resolve().relative_to(Path.cwd()))
    except (ValueError, OSError):    # elsewhere, or the current folder was deleted
        return str(path)


def _closest(key: str, options) -> str:
    match = difflib.get_close_matches(str(key), [str(o) for o in options], n=1, cutoff=0.5)
    return f"; did you mean {match[0]!r}?" if match else ""


def _model_at(loc: tuple, root: type[BaseModel] = Settings) -> type[BaseModel] | None:
    """The pydantic model class that holds the key at ``loc`` (for 'did you mean')."""
    model: Any = root
    for part in loc:
        fields = getattr(model, "model_fields", None)
        if fields is None or part not in fields:
            return None
        annotation = fields[part].annotation
        candidates = getattr(annotation, "__args__", (annotation,))
        model = next((c for c in candidates if isinstance(c, type) and issubclass(c, BaseModel)), None)
        if model is None:
            return None
    return model


def _messages(exc: ValidationError, source: str) -> list[str]:
    out = []
    seen = set()
    errors = exc.errors()
    # a custom basemap with a bad key: that key's line, not also "must be one of ..."
    custom = any(tuple(e["loc"][:2]) == ("map", "basemap") and len(e["loc"]) > 2
                 and "CustomBasemap" in str(e["loc"][2]) and e["type"] not in ("model_type", "dict_type")
                 for e in errors)
    for err in errors:
        loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and "[" in p))
        # pydantic adds union-member tags such as 'literal[...]' or 'CustomBasemap'
        loc = tuple(p for p in loc if p not in ("CustomBasemap",) and not str(p).startswith("function-"))
        path = ".".join(str(p) for p in loc) or "(top level)"
        if err["type"] == "extra_forbidden":
            parent = _model_at(loc[:-1])
            hint = _closest(loc[-1], parent.model_fields) if parent else ""
            valid = f"; valid keys here: {', '.join(parent.model_fields)}" if parent else ""
            valid = valid.replace(", config_path", "")
            msg = f"{source}: {path}: unknown key{hint}{valid}"
        elif err["type"] == "missing":
            msg = f"{source}: {path}: required key is missing"
        elif loc[:2] == ("map", "basemap") and err["type"] in ("literal_error", "model_type", "dict_type"):
            if custom:
                continue
            msg = (f"{source}: map.basemap: must be one of {', '.join(BASEMAPS)} "
                   f"or a mapping {{url: ..., attribution: ...}} (got {err.get('input')!r})")
        else:
            text = err["msg"].removeprefix("Value error, ")
            if text.startswith(path + "."):
                path, text = text.split(": ", 1)[0], text.split(": ", 1)[1]
            got = err.get("input")
            shown = ("" if (isinstance(got, (dict, list)) and err["type"] != "literal_error") or "(got " in text
                     else f" (got {got!r})")
            msg = f"{source}: {path}: {text}{shown}"
        if msg not in seen:
            seen.add(msg)
            out.append(msg)
    return out


def _resolve_paths(settings: Settings, base_dir: Path) -> Settings:
    for name in LayersSettings.model_fields:   # every layer, vector or raster
        layer = getattr(settings.layers, name)
        if layer is not None and not layer.path.is_absolute():
            layer.path = (base_dir / native_path(layer.path)).resolve()
    if not settings.output.dir.is_absolute():
        settings.output.dir = (base_dir / native_path(settings.output.dir)).resolve()
    return settings


def settings_from_dict(data: dict[str, Any], *, base_dir: str | Path, source: str = "config") -> Settings:
    """Validate a config mapping; relative paths resolve against ``base_dir``.

    Raises
    ------
    ConfigError
        With one problem per invalid or unknown key.
    """
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: expected a mapping of keys (study:, layers:, ...), got {type(data).__name__}")
    try:
        settings = Settings.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_messages(exc, source)) from None
    return _resolve_paths(settings, Path(base_dir).resolve())


def merge_overrides(data: dict[str, Any], overrides: dict[str, Any] | None) -> dict[str, Any]:
    """``data`` with ``overrides`` merged in, section by section (a new dict; inputs unchanged).

    Examples
    --------
    >>> merge_overrides({"balance": {"radius_m": 5000, "radii_m": [3000]}}, {"balance": {"radius_m": 3000}})
    {'balance': {'radius_m': 3000, 'radii_m': [3000]}}
    """
    out = dict(data)
    for key, value in (overrides or {}).items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge_overrides(out[key], value)
        else:
            out[key] = value
    return out


def load_settings(path: str | Path, overrides: dict[str, Any] | None = None) -> Settings:
    """Read and validate ``config.yaml``.

    Parameters
    ----------
    path : str or Path
        The config file; relative paths inside it resolve against its folder.
    overrides : dict, optional
        Keys to change, nested like the YAML (``{"balance": {"radius_m": 3000}}``);
        validated exactly like the file.

    Raises
    ------
    ConfigError
        The file is missing or unreadable, is not valid YAML (the message gives the
        line), or has invalid or unknown keys (one problem per key).
    """
    path = Path(path)
    data = read_config(path)
    if overrides:
        if not isinstance(data, dict):
            raise ConfigError(f"{path}: expected a mapping of keys (study:, layers:, ...)")
        data = merge_overrides(data, overrides)
    settings = settings_from_dict(data, base_dir=path.resolve().parent, source=str(path))
    settings.config_path = path.resolve()
    return settings
