"""Reading an OPML subscription list into the feeds it names. Pure: no database or network.

OPML files come from anywhere (an admin uploads one exported from their reader), so the
parser refuses every document type declaration before ``xml.etree`` sees the bytes: with no
DTD there are no entities, hence no XXE and no "billion laughs". Outlines may nest in
folders to any depth; they are flattened, only http(s) feed addresses are kept, each once.
"""

from __future__ import annotations

import codecs
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass

from flask_babel import gettext as _

from hub.errors import ValidationFailed

#: How many outlines (folders included) one file may hold; a network is tens of sites.
MAX_OUTLINES = 500
_FORBIDDEN = re.compile(r"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)
_HTTP = re.compile(r"^https?://", re.IGNORECASE)
_WIDE_BOMS = ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
              (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))


class OpmlError(ValidationFailed):
    """The uploaded file is not an OPML list we can read; nothing was imported."""


@dataclass(frozen=True)
class OpmlFeed:
    title: str
    xml_url: str
    html_url: str = ""


def parse_opml(data: bytes, max_outlines: int = MAX_OUTLINES) -> list[OpmlFeed]:
    """The feeds an OPML document subscribes to, in document order, without duplicates."""
    if _declares_dtd(data):
        raise OpmlError(_("This OPML file declares a document type or entities, which we "
                          "refuse for safety. Export it again from your feed reader."))
    try:
        root = ET.fromstring(data)  # noqa: S314  (DTDs refused above: no entity expands)
    except (ET.ParseError, ValueError, LookupError):
        raise OpmlError(_("This file is not valid XML, so it is not an OPML file.")) from None
    body = None
    if _local(root.tag) == "opml":
        body = next((child for child in root if _local(child.tag) == "body"), None)
    if body is None:
        raise OpmlError(_("This XML file is not an OPML subscription list (no <opml> "
                          "element with a <body>)."))
    outlines = [element for element in body.iter() if _local(element.tag) == "outline"]
    if len(outlines) > max_outlines:
        raise OpmlError(_("This OPML file has %(count)d entries; at most %(limit)d can be "
                          "imported at once.", count=len(outlines), limit=max_outlines))
    feeds: list[OpmlFeed] = []
    seen: set[str] = set()
    for outline in outlines:
        xml_url = _attribute(outline, "xmlurl")
        if not _HTTP.match(xml_url) or xml_url in seen:
            continue
        seen.add(xml_url)
        html_url = _attribute(outline, "htmlurl")
        title = _attribute(outline, "title") or _attribute(outline, "text")
        feeds.append(OpmlFeed(title=title, xml_url=xml_url,
                              html_url=html_url if _HTTP.match(html_url) else ""))
    return feeds


def _declares_dtd(data: bytes) -> bool:
    """Look for a DTD in the bytes as the XML parser will read them: a UTF-16 or UTF-32
    file hides "<!DOCTYPE" from a byte search, so decode those first."""
    texts = [data.decode("latin-1")]
    for bom, encoding in _WIDE_BOMS:
        if data.startswith(bom):
            texts.append(data.decode(encoding, errors="replace"))
            break
    else:
        if b"\x00" in data[:4]:  # wide encoding without a byte order mark
            for encoding in ("utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be"):
                texts.append(data.decode(encoding, errors="replace"))
    return any(_FORBIDDEN.search(text) for text in texts)


def _local(tag: object) -> str:
    """An element's name without its namespace, lower case ("" for comments)."""
    return tag.rpartition("}")[2].lower() if isinstance(tag, str) else ""


def _attribute(element: ET.Element, name: str) -> str:
    """Attribute values, whatever the case of their names: readers write ``xmlUrl``,
    ``xmlurl`` and ``XMLURL`` alike."""
    for key, value in element.attrib.items():
        if key.rpartition("}")[2].lower() == name:
            return " ".join(value.split())
    return ""
