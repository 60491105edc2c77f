"""Labels in the study language (``zh`` or ``en``): one place for every user-facing term.

Used by the web maps, legends, the atlas page, table headers and QGIS field aliases.
Unknown keys fall back to the key itself, so a missing label never breaks output.
"""

from __future__ import annotations

import math
import re

# term -> (zh, en)
TERMS: dict[str, tuple[str, str]] = {
    # layers
    "districts": ("行政区", "Administrative districts"),
    "zones": ("产业功能区", "Industrial functional zones"),
    "innovation_districts": ("创新街区", "Innovation districts"),
    "housing": ("居住", "Housing"),
    "population": ("人口", "Population"),
    "landuse": ("用地", "Land use"),
    # analyses
    "balance": ("职住平衡", "Jobs–housing balance"),
    "collaboration": ("跨区协同", "Cross-district collaboration"),
    "core_periphery": ("中心—外围格局", "Core–periphery layout"),
    "balance_workplaces": ("就业地职住平衡", "Workplace jobs–housing balance"),
    "balance_districts": ("行政区职住平衡", "District jobs–housing balance"),
    "collaboration_pairs": ("跨区协同对", "Collaboration pairs"),
    "collaboration_zones": ("功能区协同", "Zone collaboration"),
    "collaboration_chains": ("产业链空间分布", "Chain dispersion"),
    "core_periphery_zones": ("功能区中心—外围", "Core–periphery zones"),
    "core_periphery_links": ("外围承接联系", "Periphery attachment links"),
    "core_periphery_summary": ("中心—外围概要", "Core–periphery summary"),
    # balance classes
    "jobs_rich": ("就业富余", "Jobs-rich"),
    "balanced": ("职住平衡", "Balanced"),
    "housing_rich": ("居住富余", "Housing-rich"),
    "no_housing": ("通勤范围内无居住", "No housing in reach"),
    # pair types
    "main_partner": ("主承载 + 协同地", "Main site + partner site"),
    "rd_manufacturing": ("研发 + 制造", "R&D + manufacturing"),
    "terminal_supporting": ("终端 + 配套", "Terminal + supporting"),
    "peer": ("同链协作", "Peer collaboration"),
    # core-periphery
    "core": ("极核", "Core (growth pole)"),
    "periphery": ("外围", "Periphery"),
    "independent_pole": ("独立极核", "Independent pole"),
    "collaborative_subordinate": ("协同从属", "Collaborative subordinate"),
    "isolated": ("孤立", "Isolated"),
    # zone roles
    "rd": ("研发", "R&D"),
    "manufacturing": ("制造", "Manufacturing"),
    "terminal": ("终端", "Terminal"),
    "supporting": ("配套", "Supporting"),
    "mixed": ("综合", "Mixed"),
    # kinds
    "zone": ("产业功能区", "Industrial zone"),
    "innovation_district": ("创新街区", "Innovation district"),
    # fields
    "district_id": ("行政区编码", "District code"),
    "zone_id": ("功能区编号", "Zone ID"),
    "innov_id": ("创新街区编号", "Innovation district ID"),
    "housing_id": ("居住编号", "Housing ID"),
    "employment_id": ("就业点编号", "Employment point ID"),
    "workplace_id": ("就业地编号", "Workplace ID"),
    "name": ("名称", "Name"),
    "chain": ("产业链", "Industry chain"),
    "chains": ("服务产业链", "Chains served"),
    "jobs": ("就业岗位", "Jobs"),
    "output": ("产值", "Output"),
    "firms": ("企业数", "Firms"),
    "leader_firms": ("链主企业数", "Chain-leader firms"),
    "rd_platforms": ("研发平台数", "R&D platforms"),
    "role": ("功能定位", "Role"),
    "dwellings": ("住宅套数", "Dwellings"),
    "universities": ("高校数", "Universities"),
    "labs": ("实验室数", "Labs"),
    "incubators": ("孵化器数", "Incubators"),
    "kind": ("类型", "Kind"),
    "workers": ("通勤范围内居住就业人口", "Resident workers in reach"),
    "jhr": ("职住比", "Jobs–housing ratio"),
    "balance_class": ("职住平衡类型", "Balance class"),
    "workers_shared": ("分摊居住就业人口", "Resident workers (shared)"),
    "jhr_shared": ("分摊职住比", "Jobs–housing ratio (shared)"),
    "area_jhr": ("地域职住比", "Area jobs–housing ratio"),
    "area_class": ("地域职住平衡类型", "Area balance class"),
    "balance_radius_m": ("职住平衡半径（米）", "Balance radius (m)"),
    "employment": ("就业点", "Employment"),
    "employment_jobs": ("就业点岗位总数", "Jobs in the employment layer"),
    "employment_source": ("就业岗位来源", "Source of jobs outside workplaces"),
    "employment points": ("就业点图层", "employment points"),
    "employment raster": ("就业栅格", "employment raster"),
    "workplaces_outside_employment": ("位于就业图层范围外的就业地比例",
                                      "Share of workplaces outside the employment layer"),
    "radius_step_m": ("平衡半径步长（米）", "Balance radius step (m)"),
    "balance_radius_max_m": ("平衡半径上限（米）", "Balance radius limit (m)"),
    "balance_radius_reached": ("达到职住平衡的就业地数", "Workplaces reaching balance"),
    "balance_radius_median_m": ("职住平衡半径中位数（米）", "Median balance radius (m)"),
    "theoretical_min_commute_m": ("理论最小通勤距离（米）", "Theoretical minimum commute (m)"),
    # travel time on the road network (layers.roads)
    "balance_minute": ("职住平衡通勤时间", "Balance travel time"),
    "balance_isochrones": ("就业地通勤时间范围", "Workplace travel-time catchments"),
    "minute": ("通勤时间（分钟）", "Travel time (min)"),
    "reach": ("通勤范围度量", "Commuting reach measured by"),
    "network": ("道路网通行时间", "travel time on the roads"),
    "euclidean": ("直线距离", "straight-line distance"),
    "minutes": ("通勤时间（分钟）", "Travel-time horizons (min)"),
    "workplaces_connected": ("接入道路网的就业地数", "Workplaces on the road network"),
    "housing_connected_share": ("接入道路网的居住就业人口比例", "Share of resident workers on the road network"),
    "minute_step": ("平衡通勤时间步长（分钟）", "Balance travel-time step (min)"),
    "balance_minute_max": ("平衡通勤时间上限（分钟）", "Balance travel-time limit (min)"),
    "balance_minute_reached": ("在时间上限内达到职住平衡的就业地数", "Workplaces balanced within the time limit"),
    "balance_minute_median": ("职住平衡通勤时间中位数（分钟）", "Median balance travel time (min)"),
    "theoretical_min_commute_min": ("理论最小通勤时间（分钟）", "Theoretical minimum commute (min)"),
    "theoretical_min_commute_min_cell_m": ("理论最小通勤时间计算网格（米）",
                                           "Grid of the theoretical minimum commute in minutes (m)"),
    "note_minutes": ("通勤范围按道路网通行时间计算（步行接驳 + 最短路径，单行道按方向）；直线距离指标并列保留。",
                     "Reach is travel time on the roads (walk to the network + fastest path, one-way "
                     "streets respected); the straight-line measures stay beside it."),
    "note_isochrone": ("范围按到达的道路节点绘制，仅作示意；人数按道路网精确计算。",
                       "Drawn from the road nodes reached, for orientation; workers are counted "
                       "exactly on the network."),
    "road_id": ("道路编号", "Road ID"),
    "class": ("道路等级", "Road class"),
    "speed_kmh": ("车速（公里/小时）", "Speed (km/h)"),
    "oneway": ("单行", "One-way"),
    "component": ("路网连通片编号", "Network piece"),
    "roads": ("道路", "Roads"),
    "theoretical_min_commute_cell_m": ("理论最小通勤计算网格（米）",
                                       "Grid of the theoretical minimum commute (m)"),
    # one sentence per ratio: what it means (maps and atlas)
    "note_area_jhr": ("地域职住比 = 就业地周边范围内全部就业岗位 / 同一范围内居住就业人口：大于 1 表示周边就业多于居住，"
                      "需要外来通勤；这是判断职住平衡应看的指标。",
                      "Area jobs–housing ratio = all jobs within reach of the workplace / resident "
                      "workers within the same reach: above 1 the area has more jobs than residents "
                      "to fill them; this is the ratio to read."),
    "note_jhr": ("职住比 = 本就业地自身岗位 / 通勤范围内全部居住就业人口；周边居民也在别处就业，故多数就业地偏“居住富余”，仅用于相互比较。",
                 "Jobs–housing ratio = the workplace's own jobs / all resident workers in reach; "
                 "those residents also work elsewhere, so most workplaces come out housing-rich: "
                 "use it only to compare workplaces."),
    "note_jhr_shared": ("分摊职住比 = 自身岗位 / 按岗位分摊到本就业地的居住就业人口（重叠范围内的居民不重复计算）。",
                        "Shared ratio = own jobs / the resident workers allotted to this workplace "
                        "in proportion to jobs (nobody in overlapping catchments counted twice)."),
    "note_balance_radius": ("职住平衡半径：地域职住比首次降至平衡区间上限及以下时的半径（最大 30 公里）。",
                            "Balance radius: the smallest radius at which the area jobs–housing "
                            "ratio falls to the top of the balanced range or below (up to 30 km)."),
    "note_no_employment": ("未提供就业点图层（layers.employment）：功能区和创新街区以外的就业岗位（商业、办公、公共服务等）未计入。",
                           "No employment layer (layers.employment): jobs outside zones and "
                           "innovation districts (shops, offices, public services) are not counted."),
    "not_reached": ("30 公里内未达平衡", "not balanced within 30 km"),
    "landuse_entropy": ("用地混合度", "Land-use mix (entropy)"),
    "residential_share": ("居住用地占比", "Residential share"),
    "zone_a": ("功能区 A", "Zone A"),
    "zone_b": ("功能区 B", "Zone B"),
    "district_a": ("功能区 A 所在行政区", "District of zone A"),
    "district_b": ("功能区 B 所在行政区", "District of zone B"),
    "distance_m": ("距离（米）", "Distance (m)"),
    "strength": ("协同强度", "Collaboration strength"),
    "pair_type": ("协同类型", "Pair type"),
    "rank": ("排名", "Rank"),
    "recommended": ("推荐", "Recommended"),
    "reason": ("推荐理由", "Reason"),
    "nearest_partner_id": ("最近协同功能区", "Nearest partner"),
    "nearest_partner_district": ("最近协同地所在区", "Nearest partner's district"),
    "nearest_partner_m": ("最近协同距离（米）", "Nearest partner distance (m)"),
    "partners_within": ("协同范围内伙伴数", "Partners within reach"),
    "nearest_innov_id": ("最近创新街区", "Nearest innovation district"),
    "nearest_innov_m": ("最近创新街区距离（米）", "Nearest innovation district distance (m)"),
    "share_linked": ("有协同伙伴的比例", "Share with a partner in reach"),
    "mean_nearest_partner_m": ("平均最近协同距离（米）", "Mean nearest-partner distance (m)"),
    "standard_distance_m": ("标准距离（米）", "Standard distance (m)"),
    "score": ("综合实力得分", "Strength score"),
    "core_id": ("所属极核", "Core"),
    "core_distance_m": ("至极核距离（米）", "Distance to core (m)"),
    "attach_prob": ("承接概率", "Attachment probability"),
    "strategy": ("发展策略", "Strategy"),
    "n_cores": ("极核数", "Number of cores"),
    "primacy": ("主极核得分占比", "Main core's share of the cores' scores"),
    "gini": ("基尼系数", "Gini coefficient"),
    "rank_size_slope": ("位序—规模斜率", "Rank–size slope"),
    "periphery_count": ("外围承接功能区数", "Attached periphery zones"),
    "same_chain_core": ("同链极核", "Core of the same chain"),
    "zone_role": ("功能定位", "Role"),
    "median_score": ("得分中位数", "Median score"),
    "ring_from_m": ("圈层起点（米）", "Ring from (m)"),
    "ring_to_m": ("圈层终点（米）", "Ring to (m)"),
    "fragmentation_rank": ("分散度排名", "Fragmentation rank"),
    # collaboration, core–periphery and chains in minutes (layers.roads)
    "travel_min": ("路网通行时间（分钟）", "Travel time by road (min)"),
    "nearest_partner_min": ("最快协同通行时间（分钟）", "Fastest partner by road (min)"),
    "fastest_partner_id": ("通行最快的协同功能区", "Fastest partner by road"),
    "partners_within_min": ("通行时限内协同伙伴数", "Partners within the travel-time limit"),
    "share_linked_min": ("通行时限内有协同伙伴的比例", "Share with a partner within the time limit"),
    "mean_nearest_partner_min": ("平均最快协同通行时间（分钟）", "Mean fastest-partner travel time (min)"),
    "median_nearest_partner_min": ("最快协同通行时间中位数（分钟）", "Median fastest-partner travel time (min)"),
    "max_travel_min": ("最大协同通行时间（分钟）", "Maximum collaboration travel time (min)"),
    "pairs_within_travel": ("通行时限内的候选协同对数", "Candidate pairs within the travel-time limit"),
    "pairs_too_slow": ("超出通行时限的候选协同对数", "Candidate pairs beyond the travel-time limit"),
    "zones_with_partner_within_min": ("通行时限内有协同伙伴的功能区数", "Zones with a partner within the time limit"),
    "zones_without_road_access": ("无道路网接入的功能区数", "Zones without road access"),
    "core_travel_min": ("至极核通行时间（分钟）", "Travel time to core (min)"),
    "attach_max_min": ("最大承接通行时间（分钟）", "Maximum attachment travel time (min)"),
    "min_huff_travel_min": ("Huff 通行时间下限（分钟）", "Huff travel-time floor (min)"),
    "min_huff_distance_m": ("Huff 距离下限（米）", "Huff distance floor (m)"),
    "median_core_travel_min": ("外围至极核通行时间中位数（分钟）", "Median periphery travel time to core (min)"),
    "n_without_road_path": ("无道路可达极核的外围功能区数", "Periphery zones with no road path to a core"),
    "attach_by": ("承接度量", "Attachment measured by"),
    "travel_time": ("路网通行时间", "travel time on the roads"),
    "distance": ("直线距离", "straight-line distance"),
    "reach_min": ("产业链通达时间（分钟）", "Chain reach (min by road)"),
    # summary figures (atlas page)
    "n_zones": ("功能区数", "Zones"),
    "n_attached": ("协同从属功能区数", "Attached periphery zones"),
    "n_isolated": ("孤立功能区数", "Isolated zones"),
    "method": ("方法", "Method"),
    "share": ("按份额", "top share"),
    "hotspot": ("热点分析", "hot spots"),
    "core_share": ("极核比例", "Core share"),
    "workplaces": ("就业地数", "Workplaces"),
    "resident_workers": ("居住就业人口", "Resident workers"),
    "workers_in_reach": ("通勤范围内居住就业人口", "Resident workers in reach"),
    "share_in_reach": ("位于通勤范围内的比例", "Share in reach"),
    "overall_jhr": ("总体职住比", "Overall jobs–housing ratio"),
    "worker_source": ("居住就业人口来源", "Source of resident workers"),
    "radius_m": ("通勤半径（米）", "Commuting radius (m)"),
    "pairs": ("候选协同对数", "Candidate pairs"),
    "recommended_pairs": ("推荐协同对数", "Recommended pairs"),
    "zones_with_partner_within": ("有协同伙伴的功能区数", "Zones with a partner in reach"),
    "zones_without_any_partner": ("无协同伙伴的功能区数", "Zones without any partner"),
    "median_nearest_partner_m": ("最近协同距离中位数（米）", "Median nearest-partner distance (m)"),
    "max_distance_m": ("最大协同距离（米）", "Maximum collaboration distance (m)"),
    "distance_decay": ("距离衰减系数", "Distance decay"),
    "top_pairs_per_chain": ("每链推荐对数", "Recommended pairs per chain"),
    "attach_max_m": ("最大承接距离（米）", "Maximum attachment distance (m)"),
    "mean_landuse_entropy": ("平均用地混合度", "Mean land-use mix"),
    "mean_residential_share": ("平均居住用地占比", "Mean residential share"),
    "mass": ("协同规模指标", "Mass used for strength"),
    "housing dwellings": ("住宅套数 × 每套就业人口", "dwellings × workers per dwelling"),
    "population raster": ("人口栅格 × 就业率", "population raster × employment rate"),
    # tables and fields the analyses add
    "balance_landuse": ("就业地用地构成", "Workplace land-use mix"),
    "collaboration_matrix": ("行政区协同矩阵", "District collaboration matrix"),
    "core_periphery_chains": ("产业链中心—外围结构", "Core–periphery by chain"),
    "core_periphery_gradient": ("中心—外围梯度", "Core–periphery gradient"),
    "name_a": ("功能区 A 名称", "Zone A name"),
    "name_b": ("功能区 B 名称", "Zone B name"),
    "cells": ("栅格数", "Cells"),
    "main_core_id": ("主极核", "Main core"),
    "indicators_used": ("采用指标", "Indicators used"),
    "indicators_dropped": ("缺失指标", "Indicators dropped"),
    "cores": ("极核数", "Cores"),
    "attached": ("协同从属数", "Attached"),
    "mean_score": ("平均得分", "Mean score"),
    # units and words
    "people": ("人", "people"),
    "km": ("公里", "km"),
    "synthetic": ("虚构示例数据", "synthetic data"),
    # industry chains (chains analysis, layer firms)
    "chains_analysis": ("强链补链：产业链完整度与链主企业", "Industry chains and chain-leader firms"),
    "tier": ("企业层级", "Firm tier"),
    "leader": ("链主企业", "Chain leader"),
    "key": ("骨干企业", "Key firm"),
    "sme": ("中小企业", "Small or medium firm"),
    "firm_id": ("企业编号", "Firm id"),
    "chain_roles": ("产业链环节", "Chain roles"),
    "chain_zones": ("功能区链内环节", "Zones by chain role"),
    "roles_in_reach": ("范围内其他环节比例", "Other roles in reach"),
    "leader_in_reach": ("范围内有链主企业", "Leader firm in reach"),
    "chain_completeness": ("产业链完整度", "Chain completeness"),
    "chain_gaps": ("补链清单", "Chain gap list"),
    "chain_gap_candidates": ("补链候选功能区", "Gap candidate zones"),
    "chain_lq": ("产业链区位熵", "Chain location quotients"),
    "chain_specialisation": ("行政区产业专业化", "District specialisation"),
    "present": ("已具备", "Present"),
    "firm_jobs": ("企业就业", "Firm jobs"),
    "leaders": ("链主企业数", "Leader firms"),
    "roles_present": ("已具备环节", "Roles present"),
    "roles_missing": ("缺失环节", "Roles missing"),
    "role_coverage": ("环节覆盖度", "Role coverage"),
    "spatial_completeness": ("空间完整度", "Spatial completeness"),
    "leader_coverage": ("链主覆盖度", "Leader coverage"),
    "completeness": ("完整度", "Completeness"),
    "top_zone_id": ("主承载功能区", "Strongest zone"),
    "missing": ("缺失", "Missing"),
    "distant": ("偏远", "Distant"),
    "nearest_m": ("最近距离（米）", "Nearest (m)"),
    "candidates": ("候选功能区", "Candidates"),
    "candidates_m": ("候选距离（米）", "Candidate distances (m)"),
    "candidate_id": ("候选编号", "Candidate id"),
    "candidate_kind": ("候选类型", "Candidate kind"),
    "lq": ("区位熵", "Location quotient"),
    "krugman": ("克鲁格曼专业化指数", "Krugman specialisation index"),
    "n_chains": ("产业链数", "Chains"),
    "top_chain": ("优势产业链", "Most specialised chain"),
    "top_lq": ("最高区位熵", "Highest location quotient"),
    "firms_within": ("辐射范围内同链企业数", "Same-chain firms in reach"),
    "jobs_within": ("辐射范围内同链企业就业", "Their jobs"),
    "firms_other_district": ("其中在其他行政区", "Of which in other districts"),
    "zones_within": ("辐射范围内同链功能区数", "Same-chain zones in reach"),
    "reach_m": ("辐射范围（米）", "Reach (m)"),
    "reach_kind": ("辐射范围计算方式", "Reach measured as"),
    "straight": ("直线距离", "straight line"),
    "mean_completeness": ("平均完整度", "Mean completeness"),
    "complete_chains": ("环节齐全的产业链数", "Chains with every role"),
    "gaps_missing": ("缺失环节数", "Missing roles"),
    "gaps_distant": ("偏远环节数", "Distant roles"),
    "leader_firms_n": ("链主企业数", "Chain-leader firms"),
    "mean_firms_within_per_leader": ("链主辐射范围内平均同链企业数", "Mean same-chain firms in a leader's reach"),
    "share_within_other_district": ("其中在其他行政区的比例", "Share of them in other districts"),
    # observed commuting (layers.commuting)
    "commuting": ("通勤实况", "Observed commuting"),
    "commuting_workplaces": ("就业地通勤", "Workplace commuting"),
    "commuting_districts": ("行政区职住联系", "District commuting"),
    "commuting_flows": ("跨区通勤流", "Commuting flows between districts"),
    "commuting_sheds": ("通勤来源网格", "Commute sheds"),
    "commuting_directions": ("通勤距离与方向", "Commute distance and direction"),
    "commuting_summary": ("通勤概要", "Commuting summary"),
    "commuters": ("通勤人数", "Commuters"),
    "flows": ("通勤起讫记录数", "OD rows"),
    "commuters_in_workplaces": ("到达功能区或创新街区的通勤人数", "Commuters to a workplace"),
    "commuters_outside_workplaces": ("到达其他地点的通勤人数", "Commuters to other places"),
    "commuters_timed": ("有道路通勤时间的通勤人数", "Commuters with a road travel time"),
    "mean_commute_m": ("平均通勤距离（米）", "Mean commute (m)"),
    "mean_commute_min": ("平均通勤时间（分钟）", "Mean commute (minutes)"),
    "share_within_5km": ("5 公里以内通勤比重", "Share within 5 km"),
    "share_within_45min": ("45 分钟以内通勤比重", "Share within 45 minutes"),
    "share_over_60min": ("60 分钟以上通勤比重", "Share over 60 minutes"),
    "share_same_district": ("区内通勤比重", "Share within the same district"),
    "resident_commuters": ("居住在本区的通勤者", "Resident commuters"),
    "job_commuters": ("在本区就业的通勤者", "Job commuters"),
    "internal": ("区内通勤人数", "Commuting within the district"),
    "self_containment": ("本地就业率", "Self-containment"),
    "job_self_sufficiency": ("本地居住率", "Job self-sufficiency"),
    "t_obs": ("实际平均通勤成本", "Observed mean commute (T_obs)"),
    "t_min": ("理论最小平均通勤成本", "Theoretical minimum (T_min)"),
    "t_max": ("理论最大平均通勤成本", "Theoretical maximum (T_max)"),
    "excess_commuting": ("过剩通勤率", "Excess commuting"),
    "commuting_potential_used": ("通勤潜力使用率", "Commuting potential used"),
    "t_unit": ("通勤成本单位", "Unit of T"),
    "commute_m_kind": ("通勤距离口径", "Commute length measured as"),
    "commute_m_network": ("路网", "road network"),     # commute_m_kind network: the fastest route's length
    "commute_m_straight": ("直线", "straight line"),   # commute_m_kind straight
    "cell_m": ("居住网格边长（米）", "Home cell size (m)"),
    "t_cells": ("居住网格数", "Home cells"),
    "t_workplaces": ("就业地数", "Workplaces"),
    "t_unreachable_pairs": ("道路不连通的网格—就业地对", "Cell–workplace pairs without a road"),
    "measured": ("数据性质", "Measured as"),
    "observed": ("实测", "observed"),
    "cell_x": ("网格中心 X", "Cell centre x"),
    "cell_y": ("网格中心 Y", "Cell centre y"),
    "direction": ("方向", "Direction"),
    "band_km": ("距离段（公里）", "Distance band (km)"),

}

#: Compass sectors of ``commuting_directions.direction`` (code → (zh, en)), N first, clockwise.
SECTOR_NAMES: dict[str, tuple[str, str]] = {
    "N": ("北", "N"), "NE": ("东北", "NE"), "E": ("东", "E"), "SE": ("东南", "SE"),
    "S": ("南", "S"), "SW": ("西南", "SW"), "W": ("西", "W"), "NW": ("西北", "NW"),
}

#: Land-use classes of ``landuse.classes`` with a name of their own (``share_<class>`` columns).
LANDUSE_TERMS: dict[str, tuple[str, str]] = {
    "residential": ("居住用地", "residential land"), "office": ("办公用地", "office land"),
    "industrial": ("工业用地", "industrial land"), "retail": ("商业用地", "retail land"),
    "public": ("公共服务用地", "public service land"), "green": ("绿地", "green space"),
}

#: Columns whose meaning depends on their table: table -> column -> (zh, en), read before
#: :data:`TERMS` when the table is known (web popups and atlas tables, workbook headers,
#: QGIS field aliases).
_COUNTED = {"zones": ("功能区数", "Zones"), "districts": ("行政区数", "Districts")}

TABLE_TERMS: dict[str, dict[str, tuple[str, str]]] = {
    "collaboration_pairs": {"rank": ("链内排名", "Rank in chain")},
    "collaboration_matrix": {"district_a": ("行政区 A", "District A"), "district_b": ("行政区 B", "District B")},
    "collaboration_chains": _COUNTED,
    "core_periphery_zones": {"rank": ("实力排名", "Rank by strength"),
                             "role": ("中心—外围角色", "Core–periphery role")},
    "core_periphery_chains": _COUNTED,
    "core_periphery_gradient": _COUNTED,
    "chain_roles": _COUNTED,
    "chain_completeness": {"rank": ("完整度排名", "Rank by completeness"), **_COUNTED},
    "chain_gap_candidates": {"rank": ("候选顺序", "Candidate order")},
    "commuting_flows": {"district_a": ("居住地行政区", "Home district"),
                        "district_b": ("就业地行政区", "Work district"),
                        "rank": ("通勤人数排名", "Rank by commuters")},
    "balance_districts": {"workers": ("区内居住就业人口", "Resident workers in the district")},
    "balance_housing_density": {"workers": ("网格内居住就业人口", "Resident workers in the cell")},
}

#: Titles of layers and tables whose name is also a column with another meaning (the
#: ``firms`` layer holds firms; the zones' ``firms`` column counts them).
TITLES: dict[str, tuple[str, str]] = {
    "firms": ("企业", "Firms"),
    "leader_firms": ("链主企业", "Chain-leader firms"),
}


#: One line on what each table of a run is (the workbook's contents sheet), keyed by the
#: table's name (tables/<name>.csv); docs/outputs.md gives the columns.
TABLE_DESCRIPTIONS: dict[str, tuple[str, str]] = {
    "districts": ("输入图层：行政区，每个行政区一行", "Input layer: administrative districts, one row each"),
    "zones": ("输入图层：产业功能区（产业链、就业岗位、产值等），每个功能区一行",
              "Input layer: industrial functional zones (chain, jobs, output, ...), one row each"),
    "innovation_districts": ("输入图层：创新街区及其服务的产业链，每个街区一行",
                             "Input layer: innovation districts and the chains they serve, one row each"),
    "housing": ("输入图层：居住（住房套数或人口），每个要素一行",
                "Input layer: housing features with dwellings or population, one row each"),
    "employment": ("输入图层：全部行业就业岗位，每个要素一行", "Input layer: all-sector jobs, one row per feature"),
    "firms": ("输入图层：产业链企业（链主、骨干、中小）及所在功能区、行政区，每家企业一行",
              "Input layer: firms of the chains (leader, key, SME) with their zone and district, one row each"),
    "balance_workplaces": ("每个就业地（功能区、创新街区）一行：通勤范围内居住就业人口、职住比与职住平衡类型",
                           "One row per workplace (zone or innovation district): resident workers within reach, "
                           "jobs–housing ratios and balance class"),
    "balance_isochrones": ("每个就业地一行：按道路网在主要通勤时间内可到达的范围",
                           "One row per workplace: the area reached within the primary commuting time on the roads"),
    "balance_districts": ("每个行政区一行：就业岗位、居住就业人口与职住比",
                          "One row per district: jobs, resident workers and jobs–housing ratio"),
    "balance_landuse": ("每个创新街区一行：用地构成与用地混合度",
                        "One row per innovation district: land-use shares and land-use mix"),
    "collaboration_pairs": ("同一产业链、不同行政区的功能区对：距离、协同强度、协同类型与是否推荐",
                            "Pairs of zones of one chain in different districts: distance, strength, pair type, "
                            "recommendation"),
    "collaboration_zones": ("每个功能区一行：最近的跨区协同伙伴、范围内伙伴数与最近的创新街区",
                            "One row per zone: nearest partner in another district, partners within reach, "
                            "nearest innovation district"),
    "collaboration_chains": ("每条产业链一行：功能区数、跨越的行政区数、有协同伙伴的比例与空间离散度",
                             "One row per chain: zones, districts spanned, share with a partner, spatial dispersion"),
    "collaboration_matrix": ("行政区两两之间的功能区对数与协同强度合计",
                             "Zone pairs and summed collaboration strength between each pair of districts"),
    "core_periphery_zones": ("每个功能区一行：实力得分、极核或外围、所属极核与发展策略",
                             "One row per zone: strength score, core or periphery, its core and strategy"),
    "core_periphery_links": ("每个承接协同的外围功能区到所属极核的联系：距离与吸引概率",
                             "Links from each attached periphery zone to its core: distance and attachment "
                             "probability"),
    "core_periphery_summary": ("中心—外围格局概要：极核数、首位度、基尼系数、位序—规模斜率",
                               "Summary of the layout: number of cores, primacy, Gini of scores, rank–size slope"),
    "core_periphery_chains": ("每条产业链一行：极核、外围、承接与孤立的功能区数",
                              "One row per chain: its cores and its attached and isolated periphery zones"),
    "core_periphery_gradient": ("以主极核为中心每 5 公里一环：功能区数与得分",
                                "Rings of 5 km around the main core: zones and their scores"),
    "chain_zones": ("每个功能区一行：所属产业链、链内环节及范围内的其他环节和链主企业",
                    "One row per zone: chain, role in the chain, other roles and leader firms within reach"),
    "chain_roles": ("每条产业链每个环节一行：功能区数、企业数与就业岗位",
                    "One row per chain and role: zones, firms and jobs"),
    "chain_completeness": ("每条产业链一行：环节覆盖度、空间完整度、链主覆盖度与综合完整度",
                           "One row per chain: role coverage, spatial completeness, leader coverage, completeness"),
    "chain_gaps": ("补链清单：各产业链缺失或距离过远的环节及候选功能区",
                   "Chain gap list: missing or distant roles of each chain, with candidate zones"),
    "chain_gap_candidates": ("补链候选功能区：每个缺口的每个候选一行",
                             "Candidate zones of the gap list: one row per gap and candidate"),
    "chain_lq": ("各行政区各产业链的区位熵（按功能区就业计算）",
                 "Location quotient of each chain in each district (from zone jobs)"),
    "chain_specialisation": ("每个有功能区的行政区一行：产业链数、专业化指数与优势产业链",
                             "One row per district with zones: chains, specialisation index, leading chain"),
    "leader_firms": ("每家链主企业一行：辐射范围内的同链企业、就业岗位与其中外区企业",
                     "One row per chain-leader firm: same-chain firms and jobs within reach, those in other "
                     "districts"),
    "commuting_workplaces": ("每个就业地一行：实测通勤人数、平均通勤距离与时间、各类通勤比例",
                             "One row per workplace: observed commuters, mean commute, commute shares"),
    "commuting_districts": ("每个行政区一行：居住地与就业地通勤人数、本地就业率与本地居住率",
                            "One row per district: resident and job commuters, self-containment, job "
                            "self-sufficiency"),
    "commuting_flows": ("跨行政区通勤流：由居住地行政区到就业地行政区的通勤人数",
                        "Commuting flows between districts: commuters from home district to work district"),
    "commuting_sheds": ("各就业地的通勤来源：每个居住网格的通勤人数",
                        "Commute sheds: the commuters of each workplace by home cell"),
    "commuting_directions": ("各就业地按通勤距离段与方向统计的通勤人数",
                             "Commuters of each workplace by distance band and compass direction"),
    "commuting_summary": ("通勤概要：平均通勤、各类通勤比例与过剩通勤",
                          "Commuting summary: mean commute, commute shares, excess commuting"),
}


def table_description(name: str, language: str = "zh") -> str:
    """One line on what the table ``name`` is (:data:`TABLE_DESCRIPTIONS`); ``""`` if unknown.

    Examples
    --------
    >>> table_description("chain_gaps", "en")
    'Chain gap list: missing or distant roles of each chain, with candidate zones'
    """
    zh, en = TABLE_DESCRIPTIONS.get(name, ("", ""))
    return zh if language == "zh" else en


def title(name: str, language: str = "zh") -> str:
    """The title of a layer or table (workbook sheets, QGIS layers and styles).

    Examples
    --------
    >>> title("firms", "zh"), label("firms", "zh")
    ('企业', '企业数')
    """
    if name in TITLES:
        zh, en = TITLES[name]
        return zh if language == "zh" else en
    return label(name, language)


def label(key: str, language: str = "zh", table: str | None = None) -> str:
    """The label of ``key`` in ``language`` (``zh`` or ``en``); the key itself if unknown.

    ``table`` (an output name, e.g. ``commuting_flows``): the column's label in that table
    where :data:`TABLE_TERMS` gives one.

    ``workers_<r>`` fields are labelled with their radius in km.

    Examples
    --------
    >>> label("jhr", "en")
    'Jobs–housing ratio'
    >>> label("workers_3000", "zh")
    '3公里内居住就业人口'
    >>> label("district_a", "en"), label("district_a", "en", table="commuting_flows")
    ('District of zone A', 'Home district')
    """
    pair = (TABLE_TERMS.get(table, {}) if table else {}).get(key) or TERMS.get(key)
    if pair:
        zh, en = pair
        return zh if language == "zh" else en
    if key.startswith("workers_") and key.removeprefix("workers_").isdigit():
        km = int(key.removeprefix("workers_")) / 1000
        km_text = f"{km:g}"
        return f"{km_text}公里内居住就业人口" if language == "zh" else f"Resident workers within {km_text} km"
    for prefix, zh, en in (("workers_", "{}分钟内居住就业人口", "Resident workers within {} min"),
                           ("area_jobs_", "{}分钟内就业岗位", "Jobs within {} min"),
                           ("area_jhr_", "{}分钟地域职住比", "Area jobs–housing ratio within {} min")):
        rest = key.removeprefix(prefix).removesuffix("min")
        if key.startswith(prefix) and key.endswith("min") and rest.replace(".", "", 1).isdigit():
            return (zh if language == "zh" else en).format(f"{float(rest):g}")
    if key.startswith("share_") and key.removeprefix("share_") in LANDUSE_TERMS:   # balance_landuse
        zh, en = LANDUSE_TERMS[key.removeprefix("share_")]
        return f"{zh}占比" if language == "zh" else f"Share of {en}"
    for prefix, zh, en in (("area_jobs_", "{}公里内就业岗位", "Jobs within {} km"),
                           ("area_jhr_", "{}公里地域职住比", "Area jobs–housing ratio within {} km")):
        rest = key.removeprefix(prefix)
        if key.startswith(prefix) and rest.replace(".", "", 1).isdigit():
            km_text = f"{float(rest) / 1000:g}"
            return (zh if language == "zh" else en).format(km_text)
    return key


def analysis_title(study_name: str, analysis: str, language: str = "zh") -> str:
    """The title of an analysis map, the same on the web page, the print figure and the
    QGIS print layout: ``"<study name> — <analysis label>"``.

    Examples
    --------
    >>> analysis_title("Sample region", "balance", "en")
    'Sample region — Jobs–housing balance'
    >>> analysis_title("Sample metropolitan region (synthetic data)", "balance", "zh")
    '示例都市区（虚构数据） — 职住平衡'
    """
    return f"{study_display_name(study_name, language)} — {label(analysis, language)}"


def fmt_number(value: float, fmt: str, lang: str) -> str:
    """A number as legends show it (web maps, atlas page, print figures): the Python twin
    of the web runtime's number formats.

    Examples
    --------
    >>> fmt_number(12345.0, "km", "en"), fmt_number(0.256, "pct", "zh"), fmt_number(123456.0, "num", "en")
    ('12.3 km', '25.6%', '123,500')
    """
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "—"
    if fmt == "km":
        return f"{value / 1000:,.1f} {'公里' if lang == 'zh' else 'km'}"
    if fmt == "pct":
        return f"{value * 100:.1f}%"
    if fmt == "people":
        return f"{value:,.0f} {'人' if lang == 'zh' else 'people'}"
    if fmt == "int":
        return f"{value:,.0f}"
    if fmt == "ratio":
        return f"{value:.2f}"
    if fmt == "min":
        return f"{value:,.1f}".removesuffix(".0") + (" 分钟" if lang == "zh" else " min")
    if abs(value) >= 1000:  # 4 significant digits with thousands separators, no exponent
        digits = int(math.floor(math.log10(abs(value)))) - 3
        return f"{round(value, -digits):,.0f}"
    return f"{value:,.4g}"


_SAMPLE_NAME = re.compile(r"^Sample metropolitan region \(synthetic data(?:, scale (\w+), seed (\d+))?\)$")
_SCALES_ZH = {"small": "小型", "city": "城市", "metro": "都市区"}


def study_display_name(name: str, lang: str) -> str:
    """The study name as shown on ``lang`` pages.

    The generated sample carries an English name in its config; on ``zh`` pages it is
    shown in Chinese. Any other name is the user's and is shown as written.

    Examples
    --------
    >>> study_display_name("Sample metropolitan region (synthetic data)", "zh")
    '示例都市区（虚构数据）'
    >>> study_display_name("Sample metropolitan region (synthetic data, scale metro, seed 3)", "zh")
    '示例都市区（虚构数据，都市区规模，随机种子 3）'
    """
    m = _SAMPLE_NAME.match(name.strip())
    if lang != "zh" or not m:
        return name
    if m.group(1):
        scale = _SCALES_ZH.get(m.group(1), m.group(1))
        return f"示例都市区（虚构数据，{scale}规模，随机种子 {m.group(2)}）"
    return "示例都市区（虚构数据）"
