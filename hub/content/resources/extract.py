"""Text of an uploaded file, for search: PDF (pypdf) and plain text.

Pure: no Flask, database or network — bytes in, text out. The caller (a job) decides what
to do on failure; pypdf raises many kinds of errors on broken files.
"""

from __future__ import annotations

import io

#: Enough for search over the opening of long documents; the index keeps 200,000 too.
MAX_CHARS = 200_000
MAX_PAGES = 300

#: Types whose text we know how to read (as stored by ``files.sniff``).
EXTRACTABLE = frozenset({"application/pdf", "text/plain"})


def extract_text(data: bytes, mime: str) -> str:
    """The text of a file of type ``mime`` ("" for types without text we read)."""
    if mime == "application/pdf":
        return pdf_text(data)
    if mime == "text/plain":
        return data.decode("utf-8-sig", errors="replace")[:MAX_CHARS]
    return ""


def pdf_text(data: bytes) -> str:
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(data))
    if reader.is_encrypted:
        reader.decrypt("")  # many PDFs are "encrypted" with an empty user password
    parts: list[str] = []
    size = 0
    for page in reader.pages[:MAX_PAGES]:
        text = page.extract_text() or ""
        parts.append(text)
        size += len(text)
        if size >= MAX_CHARS:
            break
    return _tidy("\n".join(parts))[:MAX_CHARS]


def _tidy(text: str) -> str:
    """Collapse runs of blank lines and spaces that PDF layout leaves behind."""
    lines = (" ".join(line.split()) for line in text.replace("\x00", "").splitlines())
    return "\n".join(line for line in lines if line)
