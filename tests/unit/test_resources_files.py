"""Pure parts of the catalogue's file handling: sniffing, names, headers, storage."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from hub.content.resources import extract
from hub.content.resources.files import (
    content_disposition,
    download_name,
    sniff,
    store_upload,
)
from hub.errors import ValidationFailed

FILES = Path(__file__).parent.parent / "data" / "files"


@pytest.mark.parametrize("name, mime", [
    ("sample.pdf", "application/pdf"),
    ("sample.odt", "application/vnd.oasis.opendocument.text"),
    ("sample.ods", "application/vnd.oasis.opendocument.spreadsheet"),
    ("sample.odp", "application/vnd.oasis.opendocument.presentation"),
    ("sample.docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    ("sample.xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    ("sample.png", "image/png"), ("sample.jpg", "image/jpeg"), ("sample.gif", "image/gif"),
    ("sample.webp", "image/webp"), ("sample.txt", "text/plain; charset=utf-8"),
])
def test_accepted_types_are_found_by_content(name, mime):
    assert sniff(FILES / name).mime == mime


@pytest.mark.parametrize("name", ["program.exe", "page.html", "archive.zip", "macro.docm"])
def test_other_files_are_refused(name):
    assert sniff(FILES / name) is None


@pytest.mark.parametrize("data", [
    b"hello\x00world", b"caf\xe9", b"   \n", b"<svg onload=alert(1)>", b"  <?xml version='1.0'?>",
    b"\xef\xbb\xbf<!DOCTYPE html>", b"<script>alert(1)</script>",
])
def test_text_must_be_utf8_without_nul_and_not_markup(tmp_path, data):
    path = tmp_path / "f"
    path.write_bytes(data)
    assert sniff(path) is None


def test_text_that_merely_mentions_markup_is_text(tmp_path):
    path = tmp_path / "f"
    path.write_bytes("Écrire <b>gras</b> en HTML.\n".encode())
    assert sniff(path).mime.startswith("text/plain")


def test_an_odf_mimetype_without_content_is_refused(tmp_path):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.text")
    path = tmp_path / "f"
    path.write_bytes(buffer.getvalue())
    assert sniff(path) is None


def test_an_ooxml_override_for_a_missing_part_is_refused(tmp_path):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", '<Types><Override PartName="/word/document.xml" '
                         'ContentType="application/vnd.openxmlformats-officedocument.'
                         'wordprocessingml.document.main+xml"/></Types>')
    path = tmp_path / "f"
    path.write_bytes(buffer.getvalue())
    assert sniff(path) is None


def test_download_names_keep_the_name_and_take_the_real_extension():
    assert download_name("C:\\Users\\x\\Rapport 2024.exe", ".pdf") == "Rapport 2024.pdf"
    assert download_name("../../etc/passwd", ".txt") == "passwd.txt"
    assert download_name("", ".png") == "document.png"
    assert download_name("a\x00b\nc.pdf", ".pdf") == "abc.pdf"


def test_content_disposition_is_an_attachment_with_rfc5987_name():
    value = content_disposition('Été "2024".pdf')
    assert value.startswith("attachment; ")
    assert 'filename="Ete 2024.pdf"' in value
    assert "filename*=UTF-8''%C3%89t%C3%A9%20%222024%22.pdf" in value


def test_store_upload_keeps_accepted_files_under_a_random_name(tmp_path):
    stored = store_upload(io.BytesIO((FILES / "sample.pdf").read_bytes()), "x.bin", tmp_path,
                          max_bytes=10_000)
    assert stored.mime == "application/pdf" and stored.download_name == "x.pdf"
    assert [p.name for p in tmp_path.iterdir()] == [stored.path]
    assert stored.path.endswith(".pdf") and len(stored.path) > 20


@pytest.mark.parametrize("data, limit, message", [
    (b"a" * 2000, 1000, "larger than the limit"),
    (b"", 1000, "empty"),
    (b"MZ\x90\x00" * 10, 1000, "not of a type we accept"),
])
def test_store_upload_refuses_and_leaves_nothing(tmp_path, data, limit, message):
    with pytest.raises(ValidationFailed) as refused:
        store_upload(io.BytesIO(data), "f.pdf", tmp_path, max_bytes=limit)
    assert message in refused.value.message and refused.value.field == "file"
    assert list(tmp_path.iterdir()) == []


def test_text_is_extracted_from_pdf_and_text_files():
    text = extract.extract_text((FILES / "sample.pdf").read_bytes(), "application/pdf")
    assert text == "Le compostage collectif renforce la biodiversité urbaine."
    assert extract.extract_text("\ufeffBonjour".encode(), "text/plain") == "Bonjour"
    assert extract.extract_text(b"\x89PNG", "image/png") == ""
