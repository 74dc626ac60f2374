"""The controlled vocabularies of the catalogue (Dublin Core as documentalists use it).

Pure: no database, no network. Labels are lazy translations, so the lists can be built at
import and read in any language.
"""

from __future__ import annotations

import re
from datetime import date

from flask_babel import lazy_gettext as _l

#: dc:type — what kind of document it is.
DOC_TYPES = {
    "report": _l("Report"),
    "article": _l("Article"),
    "book": _l("Book"),
    "guide": _l("Guide or handbook"),
    "study": _l("Study or research"),
    "thesis": _l("Thesis or dissertation"),
    "policy": _l("Position paper"),
    "newsletter": _l("Newsletter"),
    "press": _l("Press release"),
    "legal": _l("Legal text"),
    "dataset": _l("Data set"),
    "presentation": _l("Presentation"),
    "image": _l("Image or poster"),
    "audio": _l("Audio"),
    "video": _l("Video"),
    "website": _l("Website"),
    "other": _l("Other"),
}

#: dc:rights — the Creative Commons set and "all rights reserved".
LICENCES = {
    "cc0": _l("CC0 (public domain dedication)"),
    "cc-by": _l("CC BY (attribution)"),
    "cc-by-sa": _l("CC BY-SA (attribution, share alike)"),
    "cc-by-nd": _l("CC BY-ND (attribution, no derivatives)"),
    "cc-by-nc": _l("CC BY-NC (attribution, non-commercial)"),
    "cc-by-nc-sa": _l("CC BY-NC-SA (attribution, non-commercial, share alike)"),
    "cc-by-nc-nd": _l("CC BY-NC-ND (attribution, non-commercial, no derivatives)"),
    "arr": _l("All rights reserved"),
}

#: Where each Creative Commons licence is explained (4.0 deeds; CC0 1.0).
LICENCE_URLS = {
    "cc0": "https://creativecommons.org/publicdomain/zero/1.0/",
    **{code: f"https://creativecommons.org/licenses/{code[3:]}/4.0/"
       for code in ("cc-by", "cc-by-sa", "cc-by-nd", "cc-by-nc", "cc-by-nc-sa", "cc-by-nc-nd")},
}

#: ISO 639-1 codes offered in the language select, named in their own language (never
#: translated, as language pickers do). The languages of the associations this serves.
LANGUAGES = {
    "fr": "Français",
    "en": "English",
    "es": "Español",
    "pt": "Português",
    "it": "Italiano",
    "de": "Deutsch",
    "nl": "Nederlands",
    "ca": "Català",
    "eu": "Euskara",
    "br": "Brezhoneg",
    "oc": "Occitan",
    "co": "Corsu",
    "ar": "العربية",
    "tr": "Türkçe",
    "pl": "Polski",
    "ro": "Română",
    "ru": "Русский",
    "uk": "Українська",
    "el": "Ελληνικά",
    "zh": "中文",
    "ja": "日本語",
    "wo": "Wolof",
    "ln": "Lingála",
    "sw": "Kiswahili",
    "ht": "Kreyòl ayisyen",
    "mg": "Malagasy",
    "vi": "Tiếng Việt",
}

_DATE_RE = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$")


def parse_publication_date(text: str) -> tuple[str, int | None]:
    """("2024-03", 2024) from "2024-03"; ("", None) from "". ValueError when malformed.

    dc:date as documentalists write it: a year, a month or a day, ISO 8601.
    """
    text = text.strip()
    if not text:
        return "", None
    match = _DATE_RE.match(text)
    if match is None:
        raise ValueError(text)
    year, month, day = (int(part) if part else None for part in match.groups())
    assert year is not None
    if year < 1000 or year > 2999:
        raise ValueError(text)
    if month is not None and not 1 <= month <= 12:
        raise ValueError(text)
    if day is not None:
        date(year, month or 1, day)  # raises ValueError on 2024-02-30
    return text, year


def doc_type_label(code: str) -> str:
    return str(DOC_TYPES.get(code, code))


def licence_label(code: str) -> str:
    return str(LICENCES.get(code, code))


def language_label(code: str) -> str:
    return LANGUAGES.get(code, code)
