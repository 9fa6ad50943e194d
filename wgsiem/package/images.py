"""What an image file is, read from its bytes: its MIME type and, where the format states
it, its size in pixels (PNG, JPEG, GIF, WebP headers; an SVG's width and height
attributes in pixels). No imaging library: the manifest's icons and screenshots only need
their type and size checked.
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass

_SVG_TAG = re.compile(rb"<svg\b[^>]*>", re.IGNORECASE | re.DOTALL)
_SVG_LENGTH = re.compile(r"^\s*([0-9]+(?:\.[0-9]+)?)\s*(px)?\s*$")
# JPEG start-of-frame markers (the ones holding the size): C0-CF but C4, C8 and CC.
_JPEG_SOF = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}


@dataclass(frozen=True)
class ImageInfo:
    mime: str
    width: int | None = None
    height: int | None = None

    @property
    def size(self) -> str | None:
        return f"{self.width}x{self.height}" if self.width is not None and self.height is not None else None


def image_info(data: bytes) -> ImageInfo | None:
    """The image's type and size, or None when the bytes are no image this module knows."""
    if data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) >= 24:
        width, height = struct.unpack(">II", data[16:24])
        return ImageInfo("image/png", width, height)
    if data.startswith(b"\xff\xd8"):
        return ImageInfo("image/jpeg", *_jpeg_size(data))
    if data[:6] in (b"GIF87a", b"GIF89a") and len(data) >= 10:
        width, height = struct.unpack("<HH", data[6:10])
        return ImageInfo("image/gif", width, height)
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return ImageInfo("image/webp")
    return _svg(data)


def _jpeg_size(data: bytes) -> tuple[int | None, int | None]:
    i = 2
    while i + 4 <= len(data):
        if data[i] != 0xFF:
            return None, None
        marker = data[i + 1]
        length = struct.unpack(">H", data[i + 2 : i + 4])[0]
        if marker in _JPEG_SOF and i + 9 <= len(data):
            height, width = struct.unpack(">HH", data[i + 5 : i + 9])
            return width, height
        i += 2 + length
    return None, None


def _svg(data: bytes) -> ImageInfo | None:
    tag = _SVG_TAG.search(data[:4096])
    if tag is None:
        return None
    text = tag.group(0).decode("utf-8", errors="replace")
    width, height = _svg_length(text, "width"), _svg_length(text, "height")
    return ImageInfo("image/svg+xml", width, height)


def _svg_length(tag: str, attribute: str) -> int | None:
    """A width or height in pixels (a plain number or px); None for %, em, or none given."""
    match = re.search(rf"\s{attribute}\s*=\s*[\"']([^\"']*)[\"']", tag)
    if match is None:
        return None
    number = _SVG_LENGTH.match(match.group(1))
    return round(float(number.group(1))) if number else None
