"""Writers of small OpenStreetMap extracts for the tests: ``.osm`` XML and ``.osm.pbf``.

The PBF writer encodes the protobuf messages of the OSM PBF format by hand (varints,
length-delimited fields, zlib blobs): enough for dense nodes and tagged ways, no new
dependency. Ways are ``(way_id, [node ids], {tag: value})``; nodes ``{id: (lon, lat)}``.
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path
from xml.sax.saxutils import quoteattr

import numpy as np
import shapely
from pyproj import Transformer

Nodes = dict[int, tuple[float, float]]
Ways = list[tuple[int, list[int], dict[str, str]]]


def write_osm_xml(path: Path, nodes: Nodes, ways: Ways) -> Path:
    lines = ['<?xml version="1.0" encoding="UTF-8"?>', '<osm version="0.6" generator="zoneatlas-tests">']
    lines += [f'  <node id="{i}" lat="{lat:.9f}" lon="{lon:.9f}" version="1"/>' for i, (lon, lat) in nodes.items()]
    for way_id, refs, tags in ways:
        lines.append(f'  <way id="{way_id}" version="1">')
        lines += [f'    <nd ref="{r}"/>' for r in refs]
        lines += [f"    <tag k={quoteattr(k)} v={quoteattr(v)}/>" for k, v in tags.items()]
        lines.append("  </way>")
    lines.append("</osm>")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


# --- protobuf by hand -------------------------------------------------------

def _varint(n: int) -> bytes:
    out = bytearray()
    n &= (1 << 64) - 1
    while True:
        byte = n & 0x7F
        n >>= 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _zigzag(n: int) -> int:
    return (n << 1) ^ (n >> 63)


def _key(field: int, wire: int) -> bytes:
    return _varint(field << 3 | wire)


def _int(field: int, n: int) -> bytes:
    return _key(field, 0) + _varint(n)


def _bytes(field: int, data: bytes) -> bytes:
    return _key(field, 2) + _varint(len(data)) + data


def _packed(field: int, values, *, signed: bool = False, delta: bool = False) -> bytes:
    values = [int(v) for v in values]
    if delta:
        values = [v - p for v, p in zip(values, [0, *values[:-1]])]
    return _bytes(field, b"".join(_varint(_zigzag(v) if signed else v) for v in values))


def _blob(kind: str, message: bytes) -> bytes:
    blob = _int(2, len(message)) + _bytes(3, zlib.compress(message))
    header = _bytes(1, kind.encode()) + _int(3, len(blob))
    return struct.pack(">I", len(header)) + header + blob


def write_osm_pbf(path: Path, nodes: Nodes, ways: Ways) -> Path:
    """An ``.osm.pbf`` file: one header block, one block of dense nodes and ways
    (granularity 1 nanodegree)."""
    strings: dict[str, int] = {"": 0}

    def sid(text: str) -> int:
        return strings.setdefault(text, len(strings))

    ids = sorted(nodes)
    lon = [round(nodes[i][0] * 1e9) for i in ids]
    lat = [round(nodes[i][1] * 1e9) for i in ids]
    dense = (_packed(1, ids, signed=True, delta=True) + _packed(8, lat, signed=True, delta=True)
             + _packed(9, lon, signed=True, delta=True))
    way_msgs = b""
    for way_id, refs, tags in ways:
        keys = [sid(k) for k in tags]
        vals = [sid(v) for v in tags.values()]
        way = _int(1, way_id) + _packed(2, keys) + _packed(3, vals) + _packed(8, refs, signed=True, delta=True)
        way_msgs += _bytes(3, way)
    table = b"".join(_bytes(1, s.encode("utf-8")) for s in strings)
    block = (_bytes(1, table) + _bytes(2, _bytes(2, dense)) + _bytes(2, way_msgs) + _int(17, 1))
    header = _bytes(4, b"OsmSchema-V0.6") + _bytes(4, b"DenseNodes") + _bytes(16, b"zoneatlas-tests")
    path.write_bytes(_blob("OSMHeader", header) + _blob("OSMData", block))
    return path


# --- a roads layer as an extract -------------------------------------------

#: the sample's Chinese road classes as the OSM highway values they stand for
HIGHWAY_OF_CLASS = {"高速公路": "motorway", "快速路": "trunk", "主干路": "primary", "次干路": "secondary",
                    "支路": "residential"}


def roads_as_osm(roads, *, first_node: int = 1, first_way: int = 1) -> tuple[Nodes, Ways]:
    """Nodes and ways of a roads layer with ``class`` (Chinese), ``speed`` and ``oneway``:
    vertices shared by roads become shared nodes; lon/lat at 1e-9 degrees."""
    to_wgs = Transformer.from_crs(roads.crs, "EPSG:4326", always_xy=True)
    geoms = roads.geometry.values.to_numpy()
    xy, index = shapely.get_coordinates(geoms, return_index=True)
    lon, lat = to_wgs.transform(xy[:, 0], xy[:, 1])
    key = np.column_stack([np.round(lon, 9), np.round(lat, 9)])
    uniq, inverse = np.unique(key, axis=0, return_inverse=True)
    nodes = {first_node + k: (float(a), float(b)) for k, (a, b) in enumerate(uniq)}
    refs = first_node + inverse.ravel()
    ways: Ways = []
    for r, (cls, speed, oneway) in enumerate(zip(roads["class"], roads["speed"], roads["oneway"])):
        tags = {"highway": HIGHWAY_OF_CLASS[cls], "oneway": oneway if isinstance(oneway, str) else "no"}
        if speed is not None and np.isfinite(speed):
            tags["maxspeed"] = f"{float(speed):g}"
        ways.append((first_way + r, [int(v) for v in refs[index == r]], tags))
    return nodes, ways
