"""What the synthetic city is made of: scales, industry chains, CRS, land-use classes,
and the :class:`SampleStudy` container."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from affine import Affine

SCALES = ("small", "city", "metro")

#: CRS of the sample study: CGCS2000 3-degree Gauss-Krüger zone, central meridian 105°E.
CRS = "EPSG:4544"

#: Centre of the fictional city (about 30.7°N 105°E).
CENTRE_XY = (500_000.0, 3_400_000.0)

#: Persons per dwelling used for the population raster.
PERSONS_PER_DWELLING = 2.8

POPULATION_NODATA = -9999.0

LANDUSE_NODATA = 0

LANDUSE_CLASSES = {1: "residential", 2: "office", 3: "industrial", 4: "retail", 5: "public", 6: "green"}

_RES, _OFF, _IND, _RET, _PUB, _GRN = 1, 2, 3, 4, 5, 6

#: Industry chains, Chinese name -> English name. The first eight are the chains of the
#: ``small``/``city`` samples, the first twenty those of ``metro``; the last three are
#: claimed only by innovation districts (no zone has them).
CHAINS: dict[str, str] = {
    "电子信息": "electronic information",
    "生物医药": "biomedicine",
    "航空航天": "aerospace",
    "轨道交通": "rail transit",
    "新能源汽车": "new-energy vehicles",
    "绿色低碳": "green low-carbon",
    "现代物流": "modern logistics",
    "文化创意": "cultural & creative",
    "集成电路": "integrated circuits",
    "软件与信息服务": "software & information services",
    "高端装备": "high-end equipment",
    "新材料": "new materials",
    "医疗器械": "medical devices",
    "食品饮料": "food & beverages",
    "节能环保": "energy saving & environmental protection",
    "金融服务": "financial services",
    "会展经济": "conventions & exhibitions",
    "数字经济": "digital economy",
    "智能制造": "intelligent manufacturing",
    "氢能": "hydrogen energy",
    "人工智能": "artificial intelligence",
    "量子科技": "quantum technology",
    "低空经济": "low-altitude economy",
}

#: Chains named only by innovation districts, never by a zone.
INNOVATION_ONLY_CHAINS = ("人工智能", "量子科技", "低空经济")

#: Fictional place-name stems for districts (``示例<stem>区``).
_DISTRICT_STEMS = (
    "锦城", "青松", "白鹭", "金桥", "云溪", "玉泉", "凤鸣", "龙湖", "桂园", "星河",
    "石门", "柳岸", "枫林", "梅岭", "竹溪", "松涛", "兰亭", "荷塘", "雁栖", "鹤鸣",
    "翠屏", "银杏", "紫荆", "海棠", "芙蓉", "丹霞", "碧波", "晴川", "望江", "临湖",
    "青山", "新桥", "鹿鸣", "月湾", "春晖", "秋实", "清泉", "明珠", "长乐", "永安",
)


@dataclass(frozen=True)
class _Chain:
    """How one chain's zones are laid out.

    ``mode`` compact: zones cluster around ``clusters`` anchors (one or two districts
    each); fragmented: one zone per chosen district, across many districts. ``ring``
    is the preferred distance from the centre as a fraction of the city radius.
    ``pair`` says which role pair the chain's zones form (rd+manufacturing or
    terminal+supporting).
    """

    name: str
    mode: str
    weight: float
    ring: tuple[float, float]
    size: float
    pair: str
    yuan_per_job: float  # annual output per job, 10,000 CNY (万元)
    clusters: int = 1


_CHAIN_SPECS: tuple[_Chain, ...] = (
    _Chain("电子信息", "fragmented", 10, (0.15, 0.65), 1.0, "rd", 180),
    _Chain("生物医药", "compact", 8, (0.2, 0.6), 0.9, "rd", 220, clusters=2),
    _Chain("航空航天", "compact", 6, (0.35, 0.7), 1.4, "terminal", 200),
    _Chain("轨道交通", "compact", 5, (0.3, 0.7), 1.2, "terminal", 150),
    _Chain("新能源汽车", "fragmented", 9, (0.35, 0.85), 1.5, "terminal", 210),
    _Chain("绿色低碳", "fragmented", 7, (0.4, 0.9), 1.0, "rd", 130),
    _Chain("现代物流", "fragmented", 8, (0.65, 0.95), 1.3, "terminal", 90),
    _Chain("文化创意", "compact", 7, (0.0, 0.2), 0.45, "rd", 70),
    _Chain("集成电路", "compact", 6, (0.2, 0.6), 1.2, "rd", 260),
    _Chain("软件与信息服务", "compact", 6, (0.05, 0.35), 0.5, "rd", 120),
    _Chain("高端装备", "fragmented", 6, (0.4, 0.9), 1.3, "terminal", 160),
    _Chain("新材料", "fragmented", 5, (0.45, 0.9), 1.2, "rd", 150),
    _Chain("医疗器械", "compact", 4, (0.25, 0.6), 0.8, "terminal", 170),
    _Chain("食品饮料", "fragmented", 5, (0.5, 0.95), 1.0, "terminal", 110),
    _Chain("节能环保", "fragmented", 4, (0.5, 0.95), 1.0, "rd", 120),
    _Chain("金融服务", "compact", 4, (0.0, 0.15), 0.4, "terminal", 300),
    _Chain("会展经济", "compact", 3, (0.1, 0.4), 0.6, "terminal", 80),
    _Chain("数字经济", "fragmented", 6, (0.1, 0.5), 0.6, "rd", 140),
    _Chain("智能制造", "fragmented", 6, (0.3, 0.85), 1.3, "terminal", 170),
    _Chain("氢能", "compact", 3, (0.5, 0.9), 1.1, "rd", 160),
)

_SPECS_BY_NAME = {c.name: c for c in _CHAIN_SPECS}


#: Vector layers of a written sample, in write order.
SAMPLE_LAYERS = ("districts", "zones", "innovation_districts", "housing", "firms", "employment", "roads")


@dataclass(frozen=True)
class _Scale:
    radius_m: float
    n_districts: int
    n_zones: int
    n_innovation: int
    n_housing: int
    cell_m: float
    chains: tuple[str, ...]
    zone_median_km2: float
    new_towns: tuple[int, int]  # inclusive range
    workers_per_job: float  # resident workers / workplace jobs, whole study


_SCALES: dict[str, _Scale] = {
    "small": _Scale(9_000, 4, 15, 4, 2_000, 250, ("电子信息", "生物医药", "现代物流", "文化创意"),
                    1.2, (2, 2), 0.45),
    "city": _Scale(28_000, 12, 60, 12, 30_000, 100, tuple(CHAINS)[:8], 1.6, (2, 4), 1.2),
    "metro": _Scale(75_000, 30, 2_000, 150, 1_000_000, 100, tuple(CHAINS)[:20], 1.0, (4, 6), 1.2),
}

_SMALL_COUNTS = {"电子信息": 5, "生物医药": 4, "现代物流": 3, "文化创意": 3}


@dataclass
class SampleStudy:
    """A generated study in memory, with the user-facing column names of ``config``.

    ``districts`` {code, name}; ``zones`` {id, name, district, chain, jobs, output,
    firms, leader_firms, rd_platforms, role}; ``innovation_districts`` {id, name,
    chains, jobs}; ``housing`` {id, dwellings} (points). ``population`` (persons per
    cell, float32, :data:`POPULATION_NODATA` outside the city) and ``landuse``
    (uint8 classes :data:`LANDUSE_CLASSES`, 0 outside) share ``transform``.
    """

    districts: gpd.GeoDataFrame
    zones: gpd.GeoDataFrame
    innovation_districts: gpd.GeoDataFrame
    housing: gpd.GeoDataFrame
    population: np.ndarray
    landuse: np.ndarray
    transform: Affine
    crs: str
    config: dict[str, Any]
    scale: str = "city"
    seed: int = 0
    boundary: Any = field(default=None, repr=False)
    firms: gpd.GeoDataFrame | None = None
    """Points {id, name, chain, tier, jobs, role} (``geo.sample._firms``)."""
    employment: gpd.GeoDataFrame | None = None
    """All-sector jobs outside the workplaces {id, name, jobs} (points)."""
    roads: gpd.GeoDataFrame | None = None
    """Road centrelines {id, class (Chinese), speed, oneway} (``geo.sample._roads``)."""
    commuting: pd.DataFrame | None = None
    """Observed OD flows {home_lon, home_lat, work_lon, work_lat, commuters} (a table,
    EPSG:4326; ``geo.sample._commuting``)."""
