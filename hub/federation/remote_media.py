"""Remote avatars and images, fetched once by a job and served by the instance.

A visitor's browser never contacts another server: pages show a remote actor's avatar only
from the cache (``/media/remote/<actor id>-<hash of the icon URL>.webp``), and show none
until the job has fetched it. The file is read through the one outbound client (SSRF
guard, size limit, time-out), must be an image Pillow recognises, and is re-encoded small,
so nothing of the original bytes is served. A new icon URL gives a new file name; domains
whose media are rejected are never fetched.

Images inside remote content and image attachments work the same way: the stored HTML
points at ``/media/remote/images/<hash of the URL>.webp`` (at most 1280 pixels wide), which
answers 404 until the job has fetched it.
"""

from __future__ import annotations

import hashlib
import io
import logging
from collections.abc import Callable
from pathlib import Path

from flask import current_app
from PIL import Image, ImageOps, UnidentifiedImageError

from hub.errors import FetchError
from hub.extensions import db
from hub.federation.models import RemoteActor

log = logging.getLogger(__name__)

MAX_BYTES = 2 * 1024 * 1024
MAX_PIXELS = 25_000_000
SIZE = (96, 96)
TIMEOUT = 10
FOLDER = "remote"
ALLOWED_FORMATS = {"PNG", "JPEG", "GIF", "WEBP"}


def _media_root() -> Path:
    return Path(current_app.config["HUB_MEDIA_PATH"])


def avatar_name(actor: RemoteActor) -> str | None:
    """The cache file's path under the media folder, for the actor's current icon."""
    if not actor.icon_url:
        return None
    digest = hashlib.sha256(actor.icon_url.encode()).hexdigest()[:16]
    return f"{FOLDER}/{actor.id}-{digest}.webp"


def cached_avatar(actor: RemoteActor | None) -> str | None:
    """The cached file's name when there is one (pages link only to that)."""
    if actor is None:
        return None
    name = avatar_name(actor)
    if name is None or not (_media_root() / name).is_file():
        return None
    return name


def wants_avatar(actor: RemoteActor) -> bool:
    from hub.federation.policies import refuses_domain, rejects_media

    return (actor.icon_url.startswith(("https://", "http://")) and cached_avatar(actor) is None
            and not refuses_domain(actor.domain) and not rejects_media(actor.domain))


IMAGE_FOLDER = f"{FOLDER}/images"
IMAGE_SIZE = (1280, 1280)
IMAGE_MAX_BYTES = 8 * 1024 * 1024
#: Images proxied per object: more are dropped (a page of a thousand images is an attack).
MAX_IMAGES = 20


def image_name(url: str) -> str:
    digest = hashlib.sha256(url.encode()).hexdigest()[:32]
    return f"{IMAGE_FOLDER}/{digest}.webp"


def image_path(url: str) -> str:
    """The local address a remote image is shown from."""
    return f"/media/{image_name(url)}"


def cached_image(url: str) -> str | None:
    """The local address when the image is in the cache, else None."""
    if not url.startswith(("https://", "http://")):
        return None
    name = image_name(url)
    return f"/media/{name}" if (_media_root() / name).is_file() else None


def proxy_images(host: str) -> Callable[[str], str | None]:
    """For the sanitiser: each remote image of content from ``host`` becomes its local
    copy, fetched after the commit; images of hosts whose media are rejected go."""
    from hub.federation.policies import refuses_domain, rejects_media
    from hub.jobs import jobs

    refused = refuses_domain(host) or rejects_media(host)
    seen: list[str] = []

    def rewrite(url: str) -> str | None:
        if refused or not url.startswith(("https://", "http://")):
            return None
        if url not in seen:
            if len(seen) >= MAX_IMAGES:
                return None
            seen.append(url)
            if cached_image(url) is None:
                jobs.after_commit("cache_remote_image", url)
        return image_path(url)

    return rewrite


def cache_image(url: str) -> None:
    """Job: fetch, check, shrink and store a remote image (nothing on failure: the image
    stays missing on the page, never fetched by the visitor's browser)."""
    from urllib.parse import urlsplit

    from hub.federation.client import fetch, make_session
    from hub.federation.policies import refuses_domain, rejects_media

    host = (urlsplit(url).hostname or "").lower()
    if cached_image(url) is not None or refuses_domain(host) or rejects_media(host):
        return
    db.session.commit()
    session = make_session(allow_private=current_app.config["HUB_OUTBOUND_ALLOW_PRIVATE"])
    try:
        response = fetch(session, "GET", url, timeout=TIMEOUT, max_bytes=IMAGE_MAX_BYTES,
                         headers={"Accept": "image/*"})
        if response.status_code != 200:
            raise FetchError(f"{url[:200]} answered {response.status_code}")
        data = _reencode(response.content, fit=False)
    except (FetchError, ValueError, OSError, SyntaxError, UnidentifiedImageError,
            Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        log.info("remote image %s not cached: %s", url[:200], exc)
        return
    finally:
        session.close()
    path = _media_root() / image_name(url)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".part")
    partial.write_bytes(data)
    partial.replace(path)


def _reencode(data: bytes, fit: bool = True) -> bytes:
    Image.MAX_IMAGE_PIXELS = MAX_PIXELS
    with Image.open(io.BytesIO(data)) as probe:
        if probe.format not in ALLOWED_FORMATS:
            raise ValueError(f"not an allowed image format: {probe.format}")
        if probe.width * probe.height > MAX_PIXELS:
            raise ValueError("too many pixels")
        probe.verify()
    with Image.open(io.BytesIO(data)) as img:
        img = ImageOps.exif_transpose(img)
        img = img.convert("RGBA" if img.mode in {"RGBA", "LA", "P"} else "RGB")
        if fit:
            img = ImageOps.fit(img, SIZE)
        else:
            img.thumbnail(IMAGE_SIZE)
        out = io.BytesIO()
        img.save(out, "WEBP", quality=80)
        return out.getvalue()


def cache_avatar(actor_id: int) -> None:
    """Job: fetch, check and store a remote actor's avatar (nothing on any failure: the
    page shows no avatar, and the next refresh of the actor tries again)."""
    from hub.federation.client import fetch, make_session

    actor = db.session.get(RemoteActor, actor_id)
    if actor is None or not wants_avatar(actor):
        return
    name = avatar_name(actor)
    url = actor.icon_url
    db.session.commit()  # no transaction stays open during the request
    session = make_session(allow_private=current_app.config["HUB_OUTBOUND_ALLOW_PRIVATE"])
    try:
        response = fetch(session, "GET", url, timeout=TIMEOUT, max_bytes=MAX_BYTES,
                         headers={"Accept": "image/*"})
        if response.status_code != 200:
            raise FetchError(f"{url[:200]} answered {response.status_code}")
        data = _reencode(response.content)
    except (FetchError, ValueError, OSError, SyntaxError, UnidentifiedImageError,
            Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        log.info("avatar of actor %s not cached: %s", actor_id, exc)
        return
    finally:
        session.close()
    assert name is not None
    path = _media_root() / name
    path.parent.mkdir(parents=True, exist_ok=True)
    for old in path.parent.glob(f"{actor_id}-*.webp"):
        old.unlink(missing_ok=True)
    partial = path.with_suffix(".part")
    partial.write_bytes(data)
    partial.replace(path)


def queue_avatar(actor: RemoteActor) -> None:
    """After the actor's row is committed, fetch its avatar when it is not cached yet."""
    from hub.jobs import jobs

    if wants_avatar(actor):
        jobs.after_commit("cache_remote_avatar", actor.id)
