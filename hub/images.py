"""Uploaded images (avatars, logos, banners): checked by content, resized, renamed.

The extension and the declared type are ignored: Pillow must recognise the bytes as one
of the allowed formats. Files are stored under a random name, re-encoded, so nothing the
uploader wrote (metadata, polyglot payloads) survives.
"""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import IO

from flask_babel import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

from hub.errors import ValidationFailed

ALLOWED_FORMATS = {"PNG", "JPEG", "GIF", "WEBP"}
MAX_PIXELS = 40_000_000

SIZES = {"avatar": (400, 400), "logo": (400, 400), "banner": (1500, 500)}


def store_image(stream: IO[bytes], kind: str, media_root: Path) -> str:
    """Validate and store an image; returns its path relative to the media folder."""
    Image.MAX_IMAGE_PIXELS = MAX_PIXELS
    try:
        return _store(stream, kind, media_root)
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError,
            Image.DecompressionBombError, Image.DecompressionBombWarning):
        # (The warning is an exception only where warnings are errors, as in the tests.)
        raise ValidationFailed(_not_an_image(), field=kind) from None


def _store(stream: IO[bytes], kind: str, media_root: Path) -> str:
    with Image.open(stream) as probe:
        fmt = probe.format
        # Between MAX_PIXELS and twice that, Pillow only warns and would decode the whole
        # image anyway: refuse it here, from the header, before anything is decoded.
        if probe.width * probe.height > MAX_PIXELS:
            raise Image.DecompressionBombError(f"{probe.width}x{probe.height}")
        probe.verify()
    if fmt not in ALLOWED_FORMATS:
        raise ValidationFailed(_not_an_image(), field=kind)
    stream.seek(0)
    with Image.open(stream) as img:
        img = ImageOps.exif_transpose(img)
        img = img.convert("RGBA" if img.mode in {"RGBA", "LA", "P"} else "RGB")
        width, height = SIZES[kind]
        if kind == "banner":
            img = ImageOps.fit(img, (width, height))
        else:
            img.thumbnail((width, height))
        folder = media_root / kind
        folder.mkdir(parents=True, exist_ok=True)
        name = f"{secrets.token_urlsafe(16)}.webp"
        try:
            img.save(folder / name, "WEBP", quality=85)
        except BaseException:
            (folder / name).unlink(missing_ok=True)  # no half-written file left behind
            raise
    return f"{kind}/{name}"


def remove_image(relative: str | None, media_root: Path) -> None:
    if relative:
        path = (media_root / relative).resolve()
        if media_root.resolve() in path.parents:
            path.unlink(missing_ok=True)


def _not_an_image() -> str:
    return _("This file is not an image we accept (PNG, JPEG, GIF or WebP).")
