"""Fonts for the print maps: a CJK font discovered through matplotlib's font manager.

No font path is hard-coded. The font manager's list of installed fonts is searched for
well-known Chinese families first (Noto Sans CJK SC, Source Han Sans, WenQuanYi, Microsoft
YaHei, ...), then for any font whose character map holds the sample characters. A font only
counts when it really has the glyphs (checked in its character map), so a font named "CJK"
without Chinese glyphs cannot produce tofu boxes.
"""

from __future__ import annotations

import logging
from functools import lru_cache

log = logging.getLogger(__name__)

#: Families tried first, in order (simplified Chinese faces before the others).
PREFERRED_CJK = (
    "Noto Sans CJK SC", "Source Han Sans SC", "Source Han Sans CN", "Noto Sans SC",
    "Sarasa Gothic SC", "WenQuanYi Zen Hei", "WenQuanYi Micro Hei", "Microsoft YaHei", "PingFang SC",
    "Hiragino Sans GB", "Heiti SC", "SimHei", "Noto Sans CJK TC", "Noto Sans CJK JP",
    "Noto Serif CJK SC", "Source Han Serif SC", "AR PL UMing CN", "SimSun",
)
#: Characters a usable Chinese font must hold (labels of the three maps).
CJK_SAMPLE = "职住平衡产业功能区行政区跨协同中心外围极核数据来源比例尺"
#: Latin fallback shipped with matplotlib.
LATIN_FONT = "DejaVu Sans"

INSTALL_HINT = ("install a font with Chinese characters (Debian/Ubuntu: sudo apt install fonts-noto-cjk; "
                "then delete ~/.cache/matplotlib so matplotlib sees it) or set 'print: {figures: false}' "
                "in the config")


def _font_entries(rescan: bool = False) -> list:
    """The installed fonts matplotlib knows (``FontEntry`` objects); ``rescan`` ignores its cache."""
    from matplotlib import font_manager

    if rescan:
        font_manager.fontManager = font_manager._load_fontmanager(try_read_cache=False)
    return list(font_manager.fontManager.ttflist)


@lru_cache(maxsize=64)
def _charmap(path: str) -> frozenset[int]:
    from matplotlib.ft2font import FT2Font

    try:
        return frozenset(FT2Font(path).get_charmap())
    except (OSError, RuntimeError, ValueError):  # unreadable font file: not usable
        return frozenset()


def covers(path: str, text: str) -> bool:
    """True when the font file at ``path`` has a glyph for every non-space character of ``text``."""
    chars = _charmap(path)
    return all(ord(c) in chars for c in text if not c.isspace())


def _find(entries: list, sample: str) -> str | None:
    regular = [e for e in entries if e.style == "normal" and 350 <= int(e.weight or 400) <= 500] or entries
    by_name: dict[str, list] = {}
    for e in regular:
        by_name.setdefault(e.name, []).append(e)
    for name in PREFERRED_CJK:
        for e in by_name.get(name, []):
            if covers(e.fname, sample):
                return e.name
    for e in regular:  # any other installed font with the glyphs (non-preferred: scan charmaps)
        if e.name not in PREFERRED_CJK and covers(e.fname, sample):
            return e.name
    return None


@lru_cache(maxsize=4)
def find_cjk_font(sample: str = CJK_SAMPLE) -> str | None:
    """The family name of an installed font with Chinese glyphs, or None.

    Searches matplotlib's font list; when nothing is found the list is rebuilt once without
    its cache (a font installed after matplotlib built its cache is then found too). The
    answer is cached for the process (``find_cjk_font.cache_clear()`` forgets it).

    Examples
    --------
    >>> find_cjk_font()  # doctest: +SKIP
    'Noto Sans CJK SC'
    """
    name = _find(_font_entries(), sample)
    if name is None:
        log.debug("no CJK font in matplotlib's font cache; rescanning installed fonts")
        name = _find(_font_entries(rescan=True), sample)
    return name


def font_families(language: str, *, required: bool) -> list[str]:
    """The font family list for matplotlib's ``font.family`` (per-glyph fallback in order).

    ``zh``: the CJK font first, then the Latin font. ``en``: the Latin font, then a CJK font
    when one is installed (names in Chinese still render). Raises ``ConfigError`` when
    ``required`` and no CJK font is installed.
    """
    from geo._errors import ConfigError

    cjk = find_cjk_font()
    if cjk is None:
        if required:
            raise ConfigError(f"print.figures: study.language is zh but no installed font has Chinese "
                              f"characters; {INSTALL_HINT}")
        return [LATIN_FONT]
    return [cjk, LATIN_FONT] if language == "zh" else [LATIN_FONT, cjk]
