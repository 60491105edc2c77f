"""Exceptions of zoneatlas.

Every error a user can cause is a :class:`ZoneAtlasError`. The CLI prints each of its
``problems`` as one ``error: ...`` line and exits with code 2.
"""

from __future__ import annotations

from collections.abc import Iterable


class ZoneAtlasError(Exception):
    """Base class of every error caused by the user's input or configuration.

    Parameters
    ----------
    problems : str or iterable of str
        One message per problem. Each message should name the file, layer, field and
        offending rows, what was found, and how to fix it.
    """

    def __init__(self, problems: str | Iterable[str]):
        if isinstance(problems, str):
            problems = [problems]
        self.problems: list[str] = [str(p) for p in problems]
        super().__init__("\n".join(self.problems))


class ConfigError(ZoneAtlasError, ValueError):
    """config.yaml is missing, malformed, or has invalid or unknown keys."""


class InputError(ZoneAtlasError, ValueError):
    """An input layer or raster is missing, unreadable or fails validation."""


class CRSError(InputError):
    """A layer has no CRS, or a CRS unusable for distances."""


class OutputError(ZoneAtlasError, OSError):
    """The output folder cannot be written."""


class ProblemCollector:
    """Collect problems so that all of them are reported together.

    Examples
    --------
    >>> problems = ProblemCollector()
    >>> problems.add("zones.gpkg: layer 'zones': field 'jobs' missing")
    >>> problems.raise_if_any(InputError)
    Traceback (most recent call last):
    ...
    geo._errors.InputError: zones.gpkg: layer 'zones': field 'jobs' missing
    """

    def __init__(self) -> None:
        self.problems: list[str] = []

    def add(self, message: str) -> None:
        self.problems.append(message)

    def extend(self, messages: Iterable[str]) -> None:
        self.problems.extend(messages)

    def __bool__(self) -> bool:
        return bool(self.problems)

    def __len__(self) -> int:
        return len(self.problems)

    def raise_if_any(self, error_class: type[ZoneAtlasError] = InputError) -> None:
        if self.problems:
            raise error_class(self.problems)


def format_rows(ids: Iterable[object], limit: int = 10, *, word: str = "row") -> str:
    """Format offending row ids for a message: ``rows 3, 7, 9 (+12 more)``.

    ``word``: what they are, ``line`` for the lines of a CSV file (``lines 4, 8``).
    """
    ids = [str(i) for i in ids]
    shown = ", ".join(ids[:limit])
    more = f" (+{len(ids) - limit} more)" if len(ids) > limit else ""
    return f"{word if len(ids) == 1 else word + 's'} {shown}{more}"


class DependencyError(RuntimeError):
    """A Python package zoneatlas needs is missing or broken.

    Not a :class:`ZoneAtlasError`: the user's data is fine, the installation is not, so
    the CLI exits with code 1 and names the package and the pip command that fixes it.
    """
