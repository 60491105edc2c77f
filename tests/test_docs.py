"""The docs cannot silently rot: every output column and every config key is documented.

* Every column of every CSV table a real run writes (the ``small_run`` fixture) is listed
  in the section of ``docs/outputs.md`` headed by that table's name; every top-level key
  of run.json and of its ``summary`` is named in the run.json section.
* Every key of the pydantic settings models (walked from :class:`geo.settings.Settings`)
  appears in ``docs/config.md``, and a key with a default is documented in a table row
  whose default cell holds that value as YAML.

Documented names may carry placeholders in angle brackets (``workers_<r>``,
``layers.<layer>.path``): a placeholder matches one key segment (no dot), optionally
with a decimal fraction (``workers_2500.5``).
"""

from __future__ import annotations

import csv
import json
import re
import types
import typing
from pathlib import Path

import pytest
import yaml
from pydantic import BaseModel

DOCS = Path(__file__).resolve().parents[1] / "docs"
OUTPUTS_MD = DOCS / "outputs.md"
CONFIG_MD = DOCS / "config.md"

_TICKED = re.compile(r"`([^`]+)`")
_PLACEHOLDER = re.compile(r"<[^<>]+>")


def _pattern(token: str) -> re.Pattern:
    """``workers_<r>`` -> regex matching ``workers_3000``; plain tokens match themselves."""
    parts = _PLACEHOLDER.split(token)
    return re.compile(r"[^.]+(?:\.\d+)?".join(re.escape(p) for p in parts) + r"\Z")


def _sections(text: str) -> dict[str, str]:
    """Markdown sections by the first backticked name in their ``##``/``###`` heading."""
    out: dict[str, str] = {}
    name, lines = None, []
    for line in text.splitlines():
        if line.startswith("#"):
            if name is not None:
                out.setdefault(name, "\n".join(lines))
            ticked = _TICKED.search(line)
            name, lines = (ticked.group(1) if ticked else None), []
        elif name is not None:
            lines.append(line)
    if name is not None:
        out.setdefault(name, "\n".join(lines))
    return out


def _table_rows(text: str) -> list[list[str]]:
    """Cells of every Markdown table row (header and separator rows included)."""
    rows = []
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("|") and line.endswith("|"):
            rows.append([c.strip() for c in line[1:-1].split("|")])
    return rows


def _first_cell_names(text: str) -> list[str]:
    """Backticked names in the first cell of each table row."""
    return [t for row in _table_rows(text) for t in _TICKED.findall(row[0])]


def _documented(name: str, tokens: list[str]) -> bool:
    return any(t == name or _pattern(t).match(name) for t in tokens)


# ---------------------------------------------------------------------------
# helpers tested on their own, so a parsing slip cannot make the real checks vacuous


def test_placeholder_pattern_matches_only_its_shape():
    assert _pattern("workers_<r>").match("workers_3000")
    assert _pattern("workers_<r>").match("workers_2500.5")
    assert _pattern("layers.<layer>.path").match("layers.zones.path")
    assert not _pattern("layers.<layer>.path").match("layers.zones.extra.path")
    assert not _pattern("workers").match("workers_3000")
    assert not _pattern("share_<class>").match("share_")


def test_sections_and_rows_are_parsed():
    text = "# T\n\n### `a`\n\n| column | x |\n|---|---|\n| `c1` | y |\n\n### `b` table\n| `c2` | z |\n"
    sections = _sections(text)
    assert set(sections) == {"a", "b"}
    assert _first_cell_names(sections["a"]) == ["c1"]
    assert _first_cell_names(sections["b"]) == ["c2"]


# ---------------------------------------------------------------------------
# outputs.md against a real run


def _csv_header(path: Path) -> list[str]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return next(csv.reader(handle))


def test_every_table_and_column_of_a_real_run_is_documented(small_run):
    _, report = small_run
    sections = _sections(OUTPUTS_MD.read_text(encoding="utf-8"))
    tables = sorted((report.output_dir / "tables").glob("*.csv"))
    assert len(tables) >= 10, "the run wrote fewer tables than expected"
    problems = []
    for path in tables:
        name = path.stem
        if name not in sections:
            problems.append(f"table {name}: no section headed `{name}` in docs/outputs.md")
            continue
        names = _first_cell_names(sections[name])
        for column in _csv_header(path):
            if not _documented(column, names):
                problems.append(f"table {name}: column {column!r} not in its section of docs/outputs.md")
    assert not problems, "\n".join(problems)


def test_every_documented_table_is_written_by_a_full_run(small_run):
    """No stale sections: each table section of outputs.md names a table a full run writes."""
    _, report = small_run
    written = {p.stem for p in (report.output_dir / "tables").glob("*.csv")}
    text = OUTPUTS_MD.read_text(encoding="utf-8")
    table_sections = re.findall(r"^### `([a-z_]+)`", text, flags=re.M)
    assert table_sections, "no table sections found in docs/outputs.md"
    stale = [t for t in table_sections if t not in written]
    assert not stale, f"docs/outputs.md documents tables a full run does not write: {stale}"


def test_every_run_json_key_is_documented(small_run):
    _, report = small_run
    manifest = json.loads((report.output_dir / "run.json").read_text(encoding="utf-8"))
    section = _sections(OUTPUTS_MD.read_text(encoding="utf-8"))["run.json"]
    named = set(_TICKED.findall(section))
    problems = [f"run.json key {k!r}" for k in manifest if k not in named]
    for analysis, summary in manifest["summary"].items():
        problems += [f"run.json summary.{analysis}.{k}" for k in summary if k not in named]
    assert not problems, "not documented in the run.json section of docs/outputs.md: " + ", ".join(problems)


# ---------------------------------------------------------------------------
# config.md against the settings models


def _models_in(annotation) -> list[type[BaseModel]]:
    """Pydantic models inside an annotation (``X | None``, ``Literal[...] | X``)."""
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        return [m for a in typing.get_args(annotation) for m in _models_in(a)]
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return []


def _setting_keys(model: type[BaseModel], prefix: str = "") -> list[tuple[str, object]]:
    """(dotted key, field info) of every field, sections and leaves, depth first."""
    out = []
    for name, info in model.model_fields.items():
        if info.exclude:          # e.g. config_path: not a config key
            continue
        key = f"{prefix}{name}"
        out.append((key, info))
        for sub in _models_in(info.annotation):
            out.extend(_setting_keys(sub, key + "."))
    return out


def _plain(value):
    """A default as the YAML/JSON value a user would write."""
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, Path):
        return str(value)
    return value


def _default_of(info) -> object:
    if info.is_required():
        return None
    if info.default_factory is not None:
        return info.default_factory()
    return info.default


def test_setting_walk_finds_the_known_keys():
    from geo.settings import Settings

    keys = {k for k, _ in _setting_keys(Settings)}
    for key in ("study.language", "layers.zones.path", "layers.landuse.classes",
                "balance.radii_m", "core_periphery.weights", "map.basemap.url", "output.dir"):
        assert key in keys
    assert "config_path" not in keys


def test_every_settings_key_is_in_config_md():
    from geo.settings import Settings

    tokens = _TICKED.findall(CONFIG_MD.read_text(encoding="utf-8"))
    missing = [key for key, _ in _setting_keys(Settings) if not _documented(key, tokens)]
    assert not missing, f"config keys not documented in docs/config.md: {missing}"


def _rows_by_key() -> list[tuple[str, list[str]]]:
    rows = []
    for cells in _table_rows(CONFIG_MD.read_text(encoding="utf-8")):
        names = _TICKED.findall(cells[0])
        if len(names) == 1 and len(cells) >= 3 and "." in names[0]:
            rows.append((names[0], cells))
    return rows


def test_documented_defaults_equal_the_code():
    """The default column (third) of a key's row holds the model default as YAML."""
    from geo.settings import Settings

    rows = _rows_by_key()
    assert len(rows) > 20, "config.md reference tables not found"
    problems = []
    for key, info in _setting_keys(Settings):
        default = _default_of(info)
        if default is None or (_models_in(info.annotation) and isinstance(default, BaseModel)):
            continue          # no default (text explains) or a whole section
        exact = [cells for name, cells in rows if name == key]
        matching = exact or [cells for name, cells in rows if _pattern(name).match(key)]
        if not matching:
            problems.append(f"{key}: no row in a config.md table")
            continue
        cell = matching[0][2]
        literals = _TICKED.findall(cell)
        if len(literals) != 1:
            problems.append(f"{key}: default cell {cell!r} should hold one `value` (code: {default!r})")
            continue
        documented = yaml.safe_load(literals[0])
        if documented != _plain(default):
            problems.append(f"{key}: config.md says {documented!r}, the code {_plain(default)!r}")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("page", ["README.md", "analyses.md", "outputs.md", "config.md", "input-data.md"])
def test_relative_links_between_docs_resolve(page):
    text = (DOCS / page).read_text(encoding="utf-8")
    for target in re.findall(r"\]\(([^)#:]+)(?:#[^)]*)?\)", text):
        assert (DOCS / target).resolve().exists(), f"{page}: broken link {target}"
