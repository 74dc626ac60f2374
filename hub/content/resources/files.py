"""Uploaded files of the catalogue: type checked by content, stored under random names.

The name and the type the browser claims are ignored: the bytes must be one of the accepted
formats (magic bytes for PDF; a ZIP whose ``mimetype`` entry or ``[Content_Types].xml`` says
OpenDocument or Office Open XML; an image Pillow recognises; UTF-8 text without NULs and not
markup). Files live under ``<instance>/files/`` with a random name and are served only as
attachments, with the type found here and ``nosniff``, so an upload can never run as a page
of this site.

``sniff`` and ``content_disposition`` are pure; ``store_upload`` writes to disk.
"""

from __future__ import annotations

import codecs
import re
import secrets
import unicodedata
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO
from urllib.parse import quote

from flask_babel import gettext as _

from hub.errors import ValidationFailed

CHUNK = 64 * 1024

ODF_TYPES = {
    "application/vnd.oasis.opendocument.text": ".odt",
    "application/vnd.oasis.opendocument.spreadsheet": ".ods",
    "application/vnd.oasis.opendocument.presentation": ".odp",
}
#: Main part content types of [Content_Types].xml → the file's type (macro-enabled variants
#: have other main types, so .docm and .xlsm are refused).
OOXML_TYPES = {
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml": (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document", ".docx"),
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml": (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", ".xlsx"),
}
IMAGE_TYPES = {"PNG": ("image/png", ".png"), "JPEG": ("image/jpeg", ".jpg"),
               "GIF": ("image/gif", ".gif"), "WEBP": ("image/webp", ".webp")}
TEXT_TYPE = "text/plain; charset=utf-8"

#: Short names of the types, for the download link ("PDF, 1.2 MB").
TYPE_NAMES = {
    "application/pdf": "PDF",
    "application/vnd.oasis.opendocument.text": "ODT",
    "application/vnd.oasis.opendocument.spreadsheet": "ODS",
    "application/vnd.oasis.opendocument.presentation": "ODP",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "DOCX",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "XLSX",
    "image/png": "PNG", "image/jpeg": "JPEG", "image/gif": "GIF", "image/webp": "WebP",
    TEXT_TYPE: "TXT",
}

#: Text that opens like markup (HTML, XML, SVG) is refused: it is what an attacker would
#: upload to be run by a browser that sniffs, and no documentalist shares raw markup.
_MARKUP_RE = re.compile(
    r"^\s*<(?:!doctype|!--|\?xml|html|head|body|script|svg|iframe|meta|a\s|div|p\b|img|"
    r"object|embed|style|link|title|math|xsl)", re.IGNORECASE)
_OVERRIDE_RE = re.compile(r"<Override\b([^>]*)>")
_ATTR_RE = re.compile(r"""(PartName|ContentType)\s*=\s*["']([^"']*)["']""")
MAX_ZIP_ENTRIES = 10_000
MAX_MANIFEST_BYTES = 1024 * 1024


@dataclass(frozen=True)
class Sniffed:
    mime: str
    extension: str


@dataclass(frozen=True)
class StoredFile:
    #: Name under the files folder.
    path: str
    mime: str
    size: int
    #: What the download is called: the uploader's name with the extension of the real type.
    download_name: str


def sniff(path: Path) -> Sniffed | None:
    """The accepted type of the file at ``path``, or None when it is none of them."""
    with path.open("rb") as fh:
        head = fh.read(8)
    if head.startswith(b"%PDF-"):
        return Sniffed("application/pdf", ".pdf")
    if head.startswith(b"PK\x03\x04"):
        return _sniff_zip(path)
    image = _sniff_image(path)
    if image is not None:
        return image
    return _sniff_text(path)


def _sniff_zip(path: Path) -> Sniffed | None:
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
            if len(infos) > MAX_ZIP_ENTRIES:
                return None
            names = {info.filename: info for info in infos}
            mimetype = names.get("mimetype")
            if mimetype is not None and mimetype.file_size < 200:
                declared = archive.read(mimetype).decode("ascii", "replace").strip()
                if declared in ODF_TYPES and "content.xml" in names:
                    return Sniffed(declared, ODF_TYPES[declared])
                return None
            manifest = names.get("[Content_Types].xml")
            if manifest is None or manifest.file_size > MAX_MANIFEST_BYTES:
                return None
            return _sniff_ooxml(archive.read(manifest), names)
    except (zipfile.BadZipFile, OSError, RuntimeError, NotImplementedError, ValueError):
        return None


def _sniff_ooxml(manifest: bytes, names: dict) -> Sniffed | None:
    """The type a [Content_Types].xml declares for a part that is really in the archive.

    Read with a pattern, not an XML parser: the manifest is untrusted and we only need the
    ``<Override PartName=… ContentType=…/>`` pairs (no entity is ever expanded).
    """
    text = manifest.decode("utf-8", "replace")
    for element in _OVERRIDE_RE.findall(text):
        attrs = dict(_ATTR_RE.findall(element))
        found = OOXML_TYPES.get(attrs.get("ContentType", ""))
        part = attrs.get("PartName", "").lstrip("/")
        if found is not None and part in names:
            return Sniffed(*found)
    return None


def _sniff_image(path: Path) -> Sniffed | None:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as probe:
            fmt = probe.format
            probe.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError,
            Image.DecompressionBombError, Image.DecompressionBombWarning):
        return None
    found = IMAGE_TYPES.get(fmt or "")
    return Sniffed(*found) if found else None


def _sniff_text(path: Path) -> Sniffed | None:
    decoder = codecs.getincrementaldecoder("utf-8-sig")()
    first = ""
    with path.open("rb") as fh:
        while chunk := fh.read(CHUNK):
            if b"\x00" in chunk:
                return None
            try:
                text = decoder.decode(chunk)
            except UnicodeDecodeError:
                return None
            if len(first) < 200:
                first += text[:200]
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return None
    if not first.strip() or _MARKUP_RE.match(first):
        return None
    return Sniffed(TEXT_TYPE, ".txt")


def download_name(original: str, extension: str) -> str:
    """The uploader's file name, without folders, with the extension of its real type."""
    name = original.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(c for c in name if unicodedata.category(c)[0] != "C").strip(" .")
    stem = name.rsplit(".", 1)[0] if "." in name else name
    return f"{(stem or 'document')[:200]}{extension}"


def content_disposition(filename: str) -> str:
    """``attachment`` with an ASCII ``filename`` and the exact one as RFC 5987 ``filename*``."""
    ascii_name = (unicodedata.normalize("NFKD", filename).encode("ascii", "ignore").decode()
                  .replace('"', "").replace("\\", "") or "download")
    ascii_name = re.sub(r"[^\x20-\x7e]", "", ascii_name)
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename, safe='')}"


def store_upload(stream: IO[bytes], original_name: str, folder: Path,
                 max_bytes: int) -> StoredFile:
    """Copy the upload to ``folder`` under a random name, then check what it is.

    Raises ValidationFailed (field "file") and leaves nothing behind when it is too large,
    empty or of a type we do not accept.
    """
    folder.mkdir(parents=True, exist_ok=True)
    token = secrets.token_urlsafe(18)
    partial = folder / f"{token}.part"
    size = 0
    try:
        with partial.open("wb") as out:
            while chunk := stream.read(CHUNK):
                size += len(chunk)
                if size > max_bytes:
                    raise ValidationFailed(
                        _("The file is larger than the limit of %(mb)s MB.",
                          mb=_megabytes(max_bytes)), field="file")
                out.write(chunk)
        if size == 0:
            raise ValidationFailed(_("The file is empty."), field="file")
        found = sniff(partial)
        if found is None:
            raise ValidationFailed(_refused(), field="file")
        final = folder / f"{token}{found.extension}"
        partial.rename(final)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return StoredFile(final.name, found.mime, size, download_name(original_name, found.extension))


def remove_file(name: str | None, folder: Path) -> None:
    if name:
        path = (folder / name).resolve()
        if folder.resolve() in path.parents:
            path.unlink(missing_ok=True)


def file_path(name: str, folder: Path) -> Path | None:
    """Where a stored file is, or None for a name that would leave the folder."""
    path = (folder / name).resolve()
    return path if folder.resolve() in path.parents and path.is_file() else None


def human_size(size: int | None) -> str:
    if size is None:
        return ""
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{size / 1024:.0f} KB"
    return f"{size / 1024 / 1024:.1f} MB"


def _megabytes(max_bytes: int) -> str:
    return f"{max_bytes / 1024 / 1024:g}"


def _refused() -> str:
    return _("This file is not of a type we accept: PDF, OpenDocument (ODT, ODS, ODP), "
             "Word or Excel (DOCX, XLSX), image (PNG, JPEG, GIF, WebP) or plain text.")
