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

Modules
-------
``_read``       formats, layers inside a file, encodings
``_osm``        ``layers.roads`` from an OpenStreetMap extract (``.osm``, ``.osm.pbf``)
``_fields``     field mapping and attribute checks (``_values``: parsing counts, chains)
``_geometry``   geometry checks and repairs
``_crs``        CRS of each layer, coordinate checks, Chinese datums, working CRS
``_districts``  cross-layer steps: district derivation, study extent
``_firms``      firms: tiers, the zone and district of each firm, chains no zone has
``_raster``     population and land-use rasters
``_study``      one vector layer end to end, and :func:`load_study`
``_report``     problems, warnings and message helpers shared by all of them

Adding a vector layer (roads, commuting, firms ...): a :class:`geo.schema.LayerSchema`
entry (fields, numeric fields, accepted geometry kinds), its config key in
``geo.settings.LayersSettings`` and its frame in ``geo._types.Study``. Reading, field
mapping, value parsing, geometry checks and repairs, CRS and reprojection then apply
as they are; only checks of its own (e.g. ``role`` in ``_fields``, districts in
``_districts``) need a small module called from ``_study``.
"""

from __future__ import annotations

from geo.layers._districts import largest_overlap
from geo.layers._study import load_study
from geo.layers._values import parse_counts, split_chains

__all__ = ["largest_overlap", "load_study", "parse_counts", "split_chains"]
