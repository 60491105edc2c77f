"""Small writers shared by the pipeline: CSV tables, JSON, checksums, atomic output folders."""

from __future__ import annotations

import ctypes
import hashlib
import json
import math
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from geo._errors import OutputError


def write_csv(table: pd.DataFrame, path: Path) -> Path:
    """Write ``table`` as UTF-8 CSV with BOM (Excel opens Chinese text correctly).

    The geometry column is left out; missing values are empty cells, never ``nan``.
    Output is byte-identical for identical input (no timestamps, fixed float format).
    """
    frame = pd.DataFrame(table.drop(columns=[c for c in table.columns if c == "geometry"]))
    for column in frame.columns:
        if isinstance(frame[column].dtype, pd.CategoricalDtype):
            frame[column] = frame[column].astype(object)
        elif _whole_floats(frame[column]):
            # same text as "%.10g" (digits only below 1e10), written ~3x faster
            frame[column] = frame[column].astype("Int64")
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False, encoding="utf-8-sig", na_rep="", float_format="%.10g",
                 lineterminator="\n")
    return path


def _whole_floats(column: pd.Series) -> bool:
    """True for a float column whose values are all NaN or whole numbers that ``%.10g``
    prints as plain digits (``|v| < 1e10``, no ``-0``), e.g. dwellings or counts."""
    if not pd.api.types.is_float_dtype(column.dtype) or isinstance(column.dtype, pd.api.extensions.ExtensionDtype):
        return False
    values = column.to_numpy(dtype=float)
    finite = values[~np.isnan(values)]
    if len(finite) and not (np.all(np.abs(finite) < 1e10) and np.all(finite == np.round(finite))):
        return False  # fractions, infinities or large numbers: keep "%.10g"
    return not np.any((finite == 0) & np.signbit(finite))


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def to_jsonable(value: Any) -> Any:
    """Convert numpy/pandas scalars and containers to plain JSON values (NaN → None)."""
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, pd.DataFrame):
        return [to_jsonable(r) for r in value.drop(columns="geometry", errors="ignore").to_dict("records")]
    if isinstance(value, pd.Series):
        return to_jsonable(value.to_dict())
    if isinstance(value, np.ndarray):
        return [to_jsonable(v) for v in value.tolist()]
    if isinstance(value, (np.bool_,)):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, (np.floating, float)):
        value = float(value)
        return None if math.isnan(value) or math.isinf(value) else value
    if isinstance(value, Path):
        return str(value)
    if value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    return value


def write_json(data: Any, path: Path) -> Path:
    path.write_text(json.dumps(to_jsonable(data), ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return path


#: Entries a run writes into the output folder. Other entries already there (for example
#: the repository's maps/README.md, or a user's own notes) are carried over untouched.
OUTPUT_ENTRIES = ("index.html", "balance.html", "collaboration.html", "core_periphery.html",
                  "tables", "qgis", "run.json")


def check_writable(target: Path) -> Path:
    """The existing folder a new output folder would be created in; error if unusable."""
    target = Path(target)
    if target.exists() and not target.is_dir():
        raise OutputError(f"{target}: output.dir exists and is not a folder; choose another with -o")
    parent = target.parent
    while not parent.exists():
        parent = parent.parent
    if not os.access(parent, os.W_OK | os.X_OK) or (target.exists() and not os.access(target, os.W_OK | os.X_OK)):
        where = target if target.exists() else parent
        raise OutputError(f"{where}: output folder is not writable; choose another with -o DIR "
                          "or output.dir in config.yaml")
    return parent


def check_inputs_outside(target: Path, inputs: list[Path]) -> None:
    """Refuse an output folder that holds an input file (or the config) at any depth.

    A run replaces the output folder as a whole (carrying over what it did not write), so
    an input inside it could be overwritten by an output of the same name, and a study
    folder used as output folder would be copied and swapped under the user's feet.
    """
    target = Path(target).resolve()
    inside = [str(path.relative_to(target)) for path in dict.fromkeys(Path(p).resolve() for p in inputs)
              if target in path.parents]
    if inside:
        shown = ", ".join(inside[:5]) + (f" (+{len(inside) - 5} more)" if len(inside) > 5 else "")
        raise OutputError(
            f"{target}: {len(inside)} input file(s) lie inside the output folder ({shown}), which a "
            "run replaces; choose a dedicated output folder with -o (or output.dir in config.yaml)"
        )


@contextmanager
def staged_output(target: Path) -> Iterator[Path]:
    """Write a run into a temporary sibling folder and move it into place at the end.

    On any exception (including KeyboardInterrupt) the temporary folder is removed and
    ``target`` is left exactly as it was. On success the old outputs are replaced as a
    whole; entries of the old folder that a run does not write are carried over.
    """
    target = Path(target).resolve()
    check_writable(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale_staging(target)
    try:
        staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-{os.getpid()}-", dir=target.parent))
    except OSError as exc:
        raise OutputError(f"{target.parent}: cannot create a temporary output folder: {exc}") from None
    staging.chmod(_default_folder_mode())  # mkdtemp makes it private (0700); outputs are shared
    try:
        yield staging
        _swap_into_place(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def _default_folder_mode() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return 0o777 & ~umask


def _remove_stale_staging(target: Path) -> None:
    """Remove staging folders left by runs that were killed (their process is gone)."""
    for entry in target.parent.glob(f".{target.name}.tmp-*"):
        pid_text = entry.name.removeprefix(f".{target.name}.tmp-").split("-", 1)[0]
        if not pid_text.isdigit() or not entry.is_dir():
            continue
        try:
            os.kill(int(pid_text), 0)
        except ProcessLookupError:
            shutil.rmtree(entry, ignore_errors=True)
        except PermissionError:  # alive, another user's process
            continue


def _exchange(a: Path, b: Path) -> bool:
    """Atomically swap two folders with Linux renameat2(RENAME_EXCHANGE); False if unsupported."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    result = renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange)
    return result == 0


def _previous_outputs(target: Path) -> set[str] | None:
    """Files the previous run wrote (from its run.json), or None when unknown."""
    try:
        listed = json.loads((target / "run.json").read_text(encoding="utf-8"))["outputs"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return {str(Path(p)) for p in listed} if isinstance(listed, list) else None


def _carry_over(staging: Path, target: Path) -> None:
    """Copy into ``staging`` whatever in ``target`` is not a zoneatlas output.

    Top-level entries a run never writes (maps/README.md, a user's notes) are copied
    whole. Inside the folders a run owns (``tables/``, ``qgis/``), files the previous
    run did not write (per its run.json) are the user's and are copied too; files it
    did write are outputs and are replaced (so a stale table of an earlier ``--only``
    run does not survive).
    """
    previous = _previous_outputs(target)
    for entry in target.iterdir():
        if (staging / entry.name).exists() and entry.name not in OUTPUT_ENTRIES:
            continue
        if entry.name not in OUTPUT_ENTRIES:
            if entry.is_dir() and not entry.is_symlink():
                shutil.copytree(entry, staging / entry.name, symlinks=True)
            else:
                shutil.copy2(entry, staging / entry.name, follow_symlinks=False)
        elif entry.is_dir() and not entry.is_symlink():
            for path in entry.rglob("*"):
                rel = path.relative_to(target)
                if path.is_dir() or (staging / rel).exists():
                    continue
                if previous is not None and str(rel) in previous:
                    continue
                (staging / rel).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(path, staging / rel, follow_symlinks=False)


def _swap_into_place(staging: Path, target: Path) -> None:
    if not target.exists():
        os.replace(staging, target)
        return
    _carry_over(staging, target)
    if _exchange(staging, target):
        shutil.rmtree(staging, ignore_errors=True)  # now holds the previous outputs
        return
    trash = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-", dir=target.parent))
    os.replace(target, trash / target.name)
    try:
        os.replace(staging, target)
    except OSError:
        os.replace(trash / target.name, target)  # put the previous outputs back
        raise
    finally:
        shutil.rmtree(trash, ignore_errors=True)
