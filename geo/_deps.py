"""Runtime dependencies: checked once before any work, so that a missing package is
reported as what it is (an installation problem, exit 1) and not as bad input.

Examples
--------
>>> pip_name("yaml")
'pyyaml'
>>> check_dependencies()  # everything installed: returns quietly
"""

from __future__ import annotations

import importlib.util

from geo._errors import DependencyError

#: import name -> distribution name on PyPI, for every module ``geo`` imports at run time.
RUNTIME_MODULES: dict[str, str] = {
    "affine": "affine",
    "branca": "branca",
    "esda": "esda",
    "folium": "folium",
    "geopandas": "geopandas",
    "jinja2": "jinja2",
    "libpysal": "libpysal",
    "markupsafe": "markupsafe",
    "matplotlib": "matplotlib",
    "numba": "numba",
    "numpy": "numpy",
    "opencc": "opencc",
    "ot": "pot",
    "pandas": "pandas",
    "pyarrow": "pyarrow",
    "pydantic": "pydantic",
    "pyogrio": "pyogrio",
    "pyproj": "pyproj",
    "rasterio": "rasterio",
    "scipy": "scipy",
    "shapely": "shapely",
    "tqdm": "tqdm",
    "xlsxwriter": "xlsxwriter",
    "xstatic": "xstatic-leaflet",
    "yaml": "pyyaml",
}


def pip_name(module: str) -> str:
    """The PyPI distribution that provides the import name ``module`` (or its top level)."""
    top = module.split(".")[0]
    return RUNTIME_MODULES.get(top, top)


def install_hint(module: str) -> str:
    """One line naming the missing package and the command that installs it."""
    name = pip_name(module)
    return (f"the Python package '{name}' is missing or broken (import {module}); install it "
            f"with: pip install --upgrade {name}  (or reinstall zoneatlas: pip install zoneatlas)")


def _missing(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is None
    except (ImportError, ValueError):   # a parent package missing, or a module blocked in sys.modules
        return True


def check_dependencies(modules: dict[str, str] | None = None) -> None:
    """Raise :class:`DependencyError` naming every runtime package that is not installed.

    Only looks the modules up (cheap); a package that is present but broken is caught
    where it is imported and reported the same way by the CLI.
    """
    modules = RUNTIME_MODULES if modules is None else modules
    missing = [name for name in modules if _missing(name)]
    if "xstatic" in modules and "xstatic" not in missing and _missing("xstatic.pkg.leaflet"):
        missing.append("xstatic.pkg.leaflet")
    if missing:
        names = sorted({pip_name(m) for m in missing})
        raise DependencyError(
            f"missing Python package{'s' if len(names) > 1 else ''}: {', '.join(names)}; install "
            f"with: pip install {' '.join(names)}  (or reinstall zoneatlas: pip install zoneatlas)")
