"""Still images with Pillow: cleaning an upload, thumbnails and the BlurHash placeholder.

Every function here is synchronous and CPU-bound: processing runs them in a thread.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

import blurhash  # type: ignore[import-untyped]
from PIL import Image, ImageFile, ImageOps, UnidentifiedImageError

# The formats an image may be opened as, by the type detected from its first bytes, and
# the format and type it is stored in once cleaned (animation is not kept: the first
# frame of a GIF becomes a PNG).
_FORMATS = {
    "image/jpeg": ("JPEG", "JPEG", "image/jpeg"),
    "image/png": ("PNG", "PNG", "image/png"),
    "image/webp": ("WEBP", "WEBP", "image/webp"),
    "image/gif": ("GIF", "PNG", "image/png"),
}
_JPEG_QUALITY = 90
_WEBP_QUALITY = 90
_THUMBNAIL_QUALITY = 80
_BLURHASH_SIZE = 32
_BLURHASH_COMPONENTS = 4


class ImageRejected(Exception):
    """The file is not an image this platform keeps; the message is for the creator."""


@dataclass(frozen=True, slots=True)
class Picture:
    path: Path
    mime_type: str
    width: int
    height: int


def supported(mime_type: str) -> bool:
    return mime_type in _FORMATS


def clean(source: Path, mime_type: str, destination: Path, *, max_pixels: int) -> Picture:
    """The image at `source`, turned upright by its EXIF orientation and re-encoded into
    `destination` without its metadata (EXIF with GPS, XMP, comments), an ICC colour
    profile excepted. Raises `ImageRejected` for anything that is not a sound image of
    the detected type within `max_pixels`."""
    read_as, write_as, stored_type = _formats(mime_type)
    with _open(source, read_as, max_pixels) as image:
        upright = ImageOps.exif_transpose(image)
        icc_profile = image.info.get("icc_profile")
    options: dict[str, object] = {"icc_profile": icc_profile} if icc_profile else {}
    if write_as == "JPEG":
        upright = upright if upright.mode in {"RGB", "L", "CMYK"} else upright.convert("RGB")
        options |= {"quality": _JPEG_QUALITY, "optimize": True}
    elif write_as == "WEBP":
        upright = upright if upright.mode in {"RGB", "RGBA"} else upright.convert("RGBA")
        options |= {"quality": _WEBP_QUALITY}
    upright.save(destination, write_as, **options)
    return Picture(destination, stored_type, upright.width, upright.height)


def thumbnail(source: Path, destination: Path, width: int) -> Picture:
    """A WebP of the image at `source`, `width` pixels wide at most (never enlarged)."""
    with Image.open(source) as image:
        image.load()
        copy = image if image.mode in {"RGB", "RGBA"} else image.convert("RGBA")
        if copy.width > width:
            height = max(1, round(copy.height * width / copy.width))
            copy = copy.resize((width, height), Image.Resampling.LANCZOS)
        copy.save(destination, "WEBP", quality=_THUMBNAIL_QUALITY)
        return Picture(destination, "image/webp", copy.width, copy.height)


def placeholder(source: Path) -> str:
    """The BlurHash of the image at `source`: a short string a client paints as a blur
    while the real picture loads (computed on a copy a few dozen pixels wide)."""
    with Image.open(source) as image:
        small = image.convert("RGB")
    small.thumbnail((_BLURHASH_SIZE, _BLURHASH_SIZE))
    raw = small.tobytes()
    stride = small.width * 3
    rows = [
        [tuple(raw[offset + x * 3 : offset + x * 3 + 3]) for x in range(small.width)]
        for offset in range(0, len(raw), stride)
    ]
    wide = small.width >= small.height
    x_components = _BLURHASH_COMPONENTS if wide else _BLURHASH_COMPONENTS - 1
    y_components = _BLURHASH_COMPONENTS - 1 if wide else _BLURHASH_COMPONENTS
    return str(blurhash.encode(rows, x_components, y_components))


def _formats(mime_type: str) -> tuple[str, str, str]:
    try:
        return _FORMATS[mime_type]
    except KeyError:
        raise ImageRejected(
            f"Images of type {mime_type} are not supported; upload a JPEG, PNG, WebP or GIF."
        ) from None


def _open(source: Path, read_as: str, max_pixels: int) -> Image.Image:
    """The decoded image, or `ImageRejected` saying why not."""
    if ImageFile.LOAD_TRUNCATED_IMAGES:
        raise RuntimeError("Pillow is set to accept truncated images")
    try:
        with warnings.catch_warnings():
            # The limit is `max_pixels`, checked below; Pillow's own (a warning at its
            # MAX_IMAGE_PIXELS, an error at twice that) stays as a backstop.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(source, formats=[read_as])
            try:
                if image.width * image.height > max_pixels:
                    raise _too_large(image.width, image.height, max_pixels)
                image.load()
            except BaseException:
                image.close()
                raise
    except Image.DecompressionBombError:
        raise ImageRejected(
            "The image is too large to process: it decompresses to more pixels than allowed."
        ) from None
    except UnidentifiedImageError:
        raise ImageRejected(
            f"The file is not a readable {read_as} image: it is damaged or of another type."
        ) from None
    except (OSError, SyntaxError, ValueError, EOFError):
        raise ImageRejected("The image is damaged or incomplete and cannot be read.") from None
    return image


def _too_large(width: int, height: int, max_pixels: int) -> ImageRejected:
    return ImageRejected(
        f"The image is too large: {width}x{height} pixels; the limit is "
        f"{max_pixels / 1_000_000:g} megapixels."
    )


def measure(source: Path) -> Picture:
    """The type and size of an image this application made (a poster frame)."""
    with Image.open(source) as image:
        mime_type = Image.MIME.get(image.format or "", "application/octet-stream")
        return Picture(source, mime_type, image.width, image.height)
