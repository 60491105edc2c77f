"""Reading ``config.yaml``: the file's text (UTF-8 only, with a hint for the encodings
Windows editors save in) and its YAML (a key given twice in one mapping is an error).
Validation is :mod:`geo.settings`'s."""

from __future__ import annotations

import os
import re
from pathlib import Path, PureWindowsPath
from typing import Any

import yaml

from geo._errors import ConfigError


class _UniqueKeyLoader(yaml.SafeLoader):
    """A SafeLoader that refuses a key given twice in one mapping: YAML lets the last one
    win, so a second ``balance:`` pasted at the end would silently drop the first."""


def _construct_unique_mapping(loader: yaml.SafeLoader, node: yaml.MappingNode, deep: bool = False):
    seen: dict[Any, int] = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        line = key_node.start_mark.line + 1
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"key {key!r} appears twice (lines {seen[key]} and {line}); YAML would "
                f"silently keep only the second: merge the two into one", key_node.start_mark)
        seen[key] = line
    return loader.construct_mapping(node, deep=deep)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_unique_mapping)


def _decode_config(path: Path, raw: bytes) -> str:
    """The config text; UTF-8 (with or without BOM) only, with a 'save as UTF-8' hint."""
    if raw.startswith(b"SQLite format 3\x00"):
        raise ConfigError(f"{path}: is a GeoPackage (SQLite) file, not a config; pass the study's YAML config "
                          "with -c (its layers: section names this file)")
    head = raw[:200]
    utf16 = len(head) > 1 and max(head[0::2].count(0), head[1::2].count(0)) >= 0.9 * (len(head) // 2)
    if b"\x00" in head and not utf16 and not raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ConfigError(f"{path}: is not a text file (a data file?); pass the study's YAML config with -c")
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00" in head:
        raise ConfigError(f"{path}: the config file is saved as UTF-16; save it as UTF-8 (in Notepad: "
                          "Save As → Encoding: UTF-8)")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[:exc.start].count(b"\n") + 1
        legacy = ""
        for encoding in ("gb18030", "big5"):
            try:
                raw.decode(encoding)
                legacy = f" (it looks like {encoding.upper()}: Chinese text saved in a legacy encoding)"
                break
            except UnicodeDecodeError:
                continue
        raise ConfigError(f"{path}: line {line}: the config file is not UTF-8{legacy}; save it as UTF-8 "
                          "(in Notepad: Save As → Encoding: UTF-8)") from None


def read_config(path: str | Path) -> dict[str, Any]:
    """Read ``config.yaml`` into a plain mapping (not yet validated).

    Raises
    ------
    ConfigError
        The file is missing or unreadable, or is not valid YAML (the message gives the line).
    """
    path = Path(path)
    if path.is_dir():
        inside = path / "config.yaml"
        hint = f"; did you mean -c {inside}?" if inside.is_file() else "; pass its YAML config file with -c"
        raise ConfigError(f"{path}: is a folder, not a config file{hint}")
    if not path.is_file():
        where = path.resolve().parent
        raise ConfigError(
            f"{path}: config file not found (looked in {where}); pass one with -c, "
            "or create a sample study with 'zoneatlas sample -o DIR'"
        )
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read config file: {exc.strerror}") from None
    text = _decode_config(path, raw)
    try:
        data = yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(f"{path}: {where}YAML syntax error: {problem}") from None
    if data is None:
        raise ConfigError(f"{path}: config file is empty; it needs at least layers.zones.path")
    return data


def native_path(path: Path) -> Path:
    """A relative path written with Windows separators (``layers\\zones.shp``, from a config
    made on Windows) in this system's form; drive paths (``D:\\…``) are left to fail as not found."""
    text = str(path)
    if os.sep == "/" and "\\" in text and not re.match(r"^([A-Za-z]:|\\\\)", text):   # not D:\, \\server
        return Path(PureWindowsPath(text).as_posix())
    return path
