"""Writes the sample files of the catalogue tests (run once; the outputs are committed).

    .venv/bin/python tests/data/files/generate.py

Each file is the smallest valid example of a type the catalogue accepts, plus a few that
it must refuse. The PDF is written by hand (Pillow's PDF writer only embeds images, so its
text could not be extracted): one page, Helvetica, a known sentence.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

HERE = Path(__file__).parent
#: The sentence inside sample.pdf; "compostage" is the word the search tests look for.
PDF_SENTENCE = "Le compostage collectif renforce la biodiversité urbaine."


def pdf(sentence: str) -> bytes:
    stream = f"BT /F1 18 Tf 72 720 Td ({sentence}) Tj ET".encode("latin-1")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
        b"/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica "
        b"/Encoding /WinAnsiEncoding >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1, xref)
    return bytes(out)


def odf(mimetype: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        # The OpenDocument rule: "mimetype" first, stored uncompressed.
        archive.writestr(zipfile.ZipInfo("mimetype"), mimetype, compress_type=zipfile.ZIP_STORED)
        archive.writestr("content.xml", '<?xml version="1.0" encoding="UTF-8"?>'
                         '<office:document-content xmlns:office="urn:oasis:names:tc:'
                         'opendocument:xmlns:office:1.0" office:version="1.2"/>')
        archive.writestr("META-INF/manifest.xml", '<?xml version="1.0" encoding="UTF-8"?>'
                         '<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:'
                         f'xmlns:manifest:1.0"><manifest:file-entry manifest:full-path="/" '
                         f'manifest:media-type="{mimetype}"/></manifest:manifest>')
    return buffer.getvalue()


def ooxml(main_part: str, main_type: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
            'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
            f'<Override PartName="/{main_part}" ContentType="{main_type}"/></Types>'))
        archive.writestr("_rels/.rels", (
            '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.'
            'openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" '
            'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
            f'officeDocument" Target="{main_part}"/></Relationships>'))
        archive.writestr(main_part, '<?xml version="1.0" encoding="UTF-8"?><root/>')
    return buffer.getvalue()


def image(fmt: str) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (29, 92, 77)).save(buffer, fmt)
    return buffer.getvalue()


def main() -> None:
    odf_prefix = "application/vnd.oasis.opendocument."
    samples = {
        "sample.pdf": pdf(PDF_SENTENCE),
        "sample.odt": odf(odf_prefix + "text"),
        "sample.ods": odf(odf_prefix + "spreadsheet"),
        "sample.odp": odf(odf_prefix + "presentation"),
        "sample.docx": ooxml("word/document.xml", "application/vnd.openxmlformats-"
                             "officedocument.wordprocessingml.document.main+xml"),
        "sample.xlsx": ooxml("xl/workbook.xml", "application/vnd.openxmlformats-"
                             "officedocument.spreadsheetml.sheet.main+xml"),
        "sample.png": image("PNG"),
        "sample.jpg": image("JPEG"),
        "sample.gif": image("GIF"),
        "sample.webp": image("WEBP"),
        "sample.txt": "Jardins partagés : le compostage en pied d'immeuble.\n".encode(),
        # Refused whatever they are called.
        "program.exe": b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" * 8,
        "page.html": b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>\n",
        "archive.zip": _plain_zip(),
        "macro.docm": ooxml("word/document.xml", "application/vnd.ms-word.document."
                            "macroEnabled.main+xml"),
    }
    for name, data in samples.items():
        (HERE / name).write_bytes(data)


def _plain_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("readme.txt", "just a zip")
    return buffer.getvalue()


if __name__ == "__main__":
    main()
