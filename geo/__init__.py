"""zoneatlas: planning analyses of industrial functional zones.

The importable package is ``geo``; the command-line tool is ``zoneatlas``. The names
in ``__all__`` are the public Python API (see the README's "Python API"); everything
else may change between versions. They are imported on first use, so that
``import geo`` (and ``zoneatlas --help``) stays fast and a missing dependency is
reported by the CLI as an installation problem rather than a traceback.

Examples
--------
>>> import geo
>>> sorted(n for n in geo.__all__ if not n[0].isupper())
['balance', 'chains', 'collaboration', 'commuting', 'compare', 'core_periphery', 'load_study', 'run']
>>> geo.ZoneAtlasError.__mro__[1].__name__
'Exception'
"""

from importlib import import_module

from geo._errors import ConfigError, InputError, ZoneAtlasError

__version__ = "0.1.0"

#: public name -> module that defines it (imported lazily, PEP 562)
_LAZY = {
    "AnalysisResult": "geo._types",
    "Study": "geo._types",
    "Result": "geo.api",
    "balance": "geo.api",
    "chains": "geo.api",
    "collaboration": "geo.api",
    "commuting": "geo.api",
    "compare": "geo.comparison",
    "core_periphery": "geo.api",
    "load_study": "geo.api",
    "run": "geo.api",
}

__all__ = sorted(["ConfigError", "InputError", "ZoneAtlasError", *_LAZY])


def __getattr__(name: str):
    if name in _LAZY:
        value = getattr(import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'geo' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
