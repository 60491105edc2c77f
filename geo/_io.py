"""Small writers shared by the pipeline: CSV tables, JSON, checksums, atomic output folders."""

from __future__ import annotations

import errno
import hashlib
import json
import math
import os
import shutil
import signal
import tempfile
import threading
from collections.abc import Iterable, Iterator
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
        elif isinstance(frame[column].dtype, np.dtype) and frame[column].dtype.kind == "f":
            # the text pandas writes with float_format="%.10g" (NaN: empty), made in one pass
            # instead of pandas' per-value formatter with its NA check (4x faster)
            values = frame[column].to_numpy()
            frame[column] = pd.Series(
                ["%.10g" % v if v == v else "" for v in values.tolist()], index=frame.index, dtype=object)
    path.parent.mkdir(parents=True, exist_ok=True)
    # the BOM written by hand, then plain UTF-8: Python's "utf-8-sig" codec has no fast
    # path in io.TextIOWrapper and is called once per row (half the time of housing.csv)
    with open(path, "w", encoding="utf-8", newline="") as handle:
        handle.write("\ufeff")
        frame.to_csv(handle, index=False, na_rep="", float_format="%.10g", lineterminator="\n")
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


def check_writable(target: Path) -> Path:
    """The existing folder a new output folder would be created in; error if unusable."""
    target = Path(target)
    if target.exists() and not target.is_dir():
        raise OutputError(f"{target}: is a file, not an output folder; choose a folder (-o DIR)")
    parent = target.parent
    while not parent.exists():
        parent = parent.parent
    if not os.access(parent, os.W_OK | os.X_OK) or (target.exists() and not os.access(target, os.W_OK | os.X_OK)):
        where = target if target.exists() else parent
        raise OutputError(f"{where}: output folder is not writable; choose another with -o DIR "
                          "or output.dir in config.yaml")
    return parent


def check_output_folders(target: Path, folders: Iterable[str | Path]) -> None:
    """Refuse sub-folders of ``target`` that a run's outputs cannot go into: a file in the
    way, or a folder that is not writable. Checked when the outputs are moved in, and for
    the folders every run writes (``tables``, ``qgis``, ...) before the long steps."""
    for rel in sorted(map(Path, folders), key=lambda r: len(r.parts)):
        dest = Path(target) / rel
        if dest.exists() and not dest.is_dir():
            raise OutputError(f"{dest}: a file is in the way of the output folder {rel}; move it "
                              "elsewhere or choose another output folder with -o")
        if dest.is_dir() and not os.access(dest, os.W_OK | os.X_OK):
            raise OutputError(f"{dest}: folder is not writable, so its outputs cannot be replaced; "
                              "make it writable or choose another output folder with -o; previous "
                              "outputs are unchanged")


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


#: Prefix of the staging folders a run writes into (beside the output folder, or inside it
#: when it is a mount point or its parent is not writable).
STAGING_PREFIX = ".zoneatlas-tmp-"

_DISK_FULL = (errno.ENOSPC, errno.EDQUOT)


@contextmanager
def staged_output(target: Path) -> Iterator[Path]:
    """Write a run into a temporary staging folder, then move each output into place.

    What a careful user expects of an output folder, and what this does:

    - Only files zoneatlas writes are ever replaced or removed. Everything else in the
      folder (a user's notes, spreadsheets kept in ``tables/``, pipes, unreadable files)
      is never read, copied or moved: it stays where it is, with its owner, links and
      timestamps, even when saved while the run was going on.
    - Outputs of the previous run that this run does not write (listed in the previous
      run.json, e.g. the tables of an earlier ``--only`` run) are removed.
    - Nothing in ``target`` changes until every output has been written to staging. On any
      error or interrupt before that, staging is removed and ``target`` is untouched. The
      final step moves files with ``os.replace`` (atomic per file), with Ctrl-C deferred,
      and writes run.json last.
    - Staging is a sibling folder on the same file system; for a mount point (USB stick,
      bind mount) or a folder whose parent is not writable, it lives inside ``target``.
    - A full disk, a read-only output folder or sub-folder: one :class:`OutputError`
      naming the folder and the fix, previous outputs intact.
    """
    target = Path(target).resolve()
    check_writable(target)
    target.parent.mkdir(parents=True, exist_ok=True)   # target itself only when the run succeeds
    home = _staging_home(target)
    _remove_stale_staging(target)
    try:
        staging = Path(tempfile.mkdtemp(prefix=f"{STAGING_PREFIX}{target.name}-{os.getpid()}-", dir=home))
    except OSError as exc:
        raise OutputError(f"{home}: cannot create a temporary output folder ({exc.strerror}); "
                          "choose another output folder with -o") from None
    staging.chmod(_default_folder_mode())  # mkdtemp makes it private (0700); outputs are shared
    try:
        try:
            yield staging
        except OSError as exc:
            raise _output_error(exc, target) from None
        except Exception as exc:
            if _is_disk_full(exc):
                raise _output_error(exc, target) from None
            raise
        _commit(staging, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _is_disk_full(exc: BaseException) -> bool:
    if isinstance(exc, OSError) and exc.errno in _DISK_FULL:
        return True
    text = str(exc).lower()
    return "no space left" in text or "disk is full" in text or "quota exceeded" in text


def _output_error(exc: BaseException, target: Path) -> Exception:
    if _is_disk_full(exc):
        return OutputError(f"{target}: the disk is full (while writing the outputs); free some space "
                           "or choose an output folder on another disk with -o; previous outputs are unchanged")
    if isinstance(exc, OSError) and exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        where = exc.filename or target
        return OutputError(f"{where}: cannot write there ({exc.strerror}); choose another output folder "
                           "with -o; previous outputs are unchanged")
    return exc


def _staging_home(target: Path) -> Path:
    """Where staging goes: beside ``target`` when that is the same file system and
    writable (so a killed run leaves nothing inside the output folder), else inside it."""
    parent = target.parent
    if not target.exists():
        return parent
    try:
        same_device = os.stat(parent).st_dev == os.stat(target).st_dev
    except OSError:
        same_device = False
    if same_device and os.access(parent, os.W_OK | os.X_OK):
        return parent
    return target


def _default_folder_mode() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return 0o777 & ~umask


def _remove_stale_staging(target: Path) -> None:
    """Remove staging folders left by runs that were killed (their process is gone)."""
    prefix = f"{STAGING_PREFIX}{target.name}-"
    for home in (target.parent, target):
        try:
            entries = [e for e in home.iterdir() if e.name.startswith(prefix)]
        except OSError:
            continue
        for entry in entries:
            pid_text = entry.name.removeprefix(prefix).split("-", 1)[0]
            if not pid_text.isdigit() or not entry.is_dir():
                continue
            try:
                os.kill(int(pid_text), 0)
            except ProcessLookupError:
                shutil.rmtree(entry, ignore_errors=True)
            except PermissionError:  # alive, another user's process
                continue


def _previous_outputs(target: Path) -> set[str]:
    """Files the previous run wrote (from its run.json); empty when unknown."""
    try:
        listed = json.loads((target / "run.json").read_text(encoding="utf-8"))["outputs"]
    except (OSError, ValueError, KeyError, TypeError):
        return set()
    if not isinstance(listed, list):
        return set()
    safe = set()
    for item in listed:   # never follow a listed path out of the output folder
        rel = Path(str(item))
        if not rel.is_absolute() and ".." not in rel.parts and rel.parts:
            safe.add(str(rel))
    return safe


@contextmanager
def _sigint_deferred() -> Iterator[None]:
    """Hold Ctrl-C while outputs are moved into place; re-raise it afterwards."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received = []
    previous = signal.signal(signal.SIGINT, lambda *_: received.append(True))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if received:
        raise KeyboardInterrupt


def _commit(staging: Path, target: Path) -> None:
    """Move every file of ``staging`` into ``target`` (run.json last); remove the previous
    run's outputs that were not written again. Refuses, before moving anything, when a
    destination folder is not writable or a user's entry is in the way."""
    # run.json (a run) or config.yaml (a sample study) last: its presence means complete
    files = sorted((p.relative_to(staging) for p in staging.rglob("*") if not p.is_dir()),
                   key=lambda rel: (str(rel) in ("run.json", "config.yaml"), str(rel)))
    folders = sorted({rel.parent for rel in files if rel.parent != Path(".")}, key=lambda r: len(r.parts))
    check_output_folders(target, folders)
    for rel in files:
        dest = target / rel
        if dest.is_dir() and not dest.is_symlink():
            raise OutputError(f"{dest}: a folder is in the way of the output file {rel}; move it "
                              "elsewhere or choose another output folder with -o")
    previous = _previous_outputs(target)
    written = {str(rel) for rel in files}
    with _sigint_deferred():
        target.mkdir(exist_ok=True)
        for rel in folders:
            (target / rel).mkdir(exist_ok=True)
        try:
            for rel in files:
                os.replace(staging / rel, target / rel)
        except OSError as exc:
            raise _output_error(exc, target) from None
        for rel in sorted(previous - written):
            stale = target / rel
            if stale.is_file() or stale.is_symlink():
                stale.unlink(missing_ok=True)
        for rel in sorted({Path(r).parent for r in previous - written}, key=lambda r: -len(r.parts)):
            if rel != Path(".") and (target / rel).is_dir():
                try:
                    (target / rel).rmdir()   # only when empty: a user's file keeps it
                except OSError:
                    pass
