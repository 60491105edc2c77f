"""Text from the data made safe for XML 1.0 (QGIS projects and QML styles).

XML 1.0 forbids the control characters U+0000-U+0008, U+000B, U+000C, U+000E-U+001F,
lone surrogates and U+FFFE/U+FFFF anywhere in a document, even escaped; ElementTree
writes them as they are, giving a file QGIS refuses. A name or category read from the
data may hold them (a value pasted from a spreadsheet), so they are removed.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_text(text: str) -> str:
    """``text`` without the characters XML 1.0 forbids."""
    return _FORBIDDEN.sub("", text)


def clean_tree(root: ET.Element) -> ET.Element:
    """Remove forbidden characters from every text, tail and attribute of ``root`` (in place)."""
    for node in root.iter():
        if node.text and _FORBIDDEN.search(node.text):
            node.text = xml_text(node.text)
        if node.tail and _FORBIDDEN.search(node.tail):
            node.tail = xml_text(node.tail)
        for key, value in list(node.attrib.items()):
            if isinstance(value, str) and _FORBIDDEN.search(value):
                node.attrib[key] = xml_text(value)
    return root
