"""Checks on a screenshot, so a test can say "the map and the charts are drawn" by pixels.

Colours are compared per channel within a tolerance: anti-aliasing and font smoothing shift
edges by a few levels, and a chart's fill may be blended. Boxes are Pillow's: (left, top,
right, bottom), right and bottom excluded, in device pixels (the browser adapter renders
one per CSS pixel).
"""

from __future__ import annotations

import io

from PIL import Image, ImageChops

RGB = tuple[int, int, int]
Box = tuple[int, int, int, int]

TOLERANCE = 16


def image(png: bytes) -> Image.Image:
    """The screenshot as an RGB image (transparency dropped)."""
    return Image.open(io.BytesIO(png)).convert("RGB")


def colour(value: str | RGB) -> RGB:
    """'#1f77b4', '1f77b4' or (31, 119, 180)."""
    if isinstance(value, tuple):
        return value
    text = value.lstrip("#")
    assert len(text) == 6, f"not a #rrggbb colour: {value!r}"
    return (int(text[0:2], 16), int(text[2:4], 16), int(text[4:6], 16))


def _crop(img: Image.Image, box: Box | None) -> Image.Image:
    return img if box is None else img.crop(box)


def mask_near(img: Image.Image, value: str | RGB, tolerance: int = TOLERANCE) -> Image.Image:
    """A mask (mode L: 255 where every channel is within `tolerance` of `value`, else 0)."""
    difference = ImageChops.difference(img, Image.new("RGB", img.size, colour(value)))
    channels = [channel.point(lambda level: 255 if level <= tolerance else 0) for channel in difference.split()]
    return ImageChops.darker(ImageChops.darker(channels[0], channels[1]), channels[2])


def fraction_near(img: Image.Image, value: str | RGB, box: Box | None = None, tolerance: int = TOLERANCE) -> float:
    """The share of the pixels in `box` (default: all) that are near `value`."""
    region = _crop(img, box)
    total = region.width * region.height
    if total == 0:
        return 0.0
    return mask_near(region, value, tolerance).histogram()[255] / total


def bounding_box(img: Image.Image, value: str | RGB, box: Box | None = None, tolerance: int = TOLERANCE) -> Box | None:
    """The smallest box holding every pixel near `value` (within `box`, in the whole
    image's coordinates), or None when there is none."""
    found = mask_near(_crop(img, box), value, tolerance).getbbox()
    if found is None or box is None:
        return found
    return (found[0] + box[0], found[1] + box[1], found[2] + box[0], found[3] + box[1])


def colours(img: Image.Image, box: Box | None = None) -> list[tuple[int, RGB]]:
    """(count, colour) of each colour in `box`, most common first."""
    region = _crop(img, box)
    counted = region.getcolors(maxcolors=region.width * region.height) or []
    return sorted(counted, key=lambda pair: pair[0], reverse=True)


def background(img: Image.Image, box: Box | None = None) -> RGB:
    """The most common colour: the page's background, on any page that is not all chart."""
    return colours(img, box)[0][1]


def ink(img: Image.Image, box: Box | None = None, tolerance: int = TOLERANCE) -> float:
    """The share of the pixels in `box` that are not the background's colour."""
    return 1.0 - fraction_near(img, background(img, box), box, tolerance)


def assert_drawn(img: Image.Image, box: Box | None = None, *, min_colours: int = 4, min_ink: float = 0.02, what: str = "the page") -> None:
    """Something is drawn in `box`: at least `min_colours` colours and `min_ink` of the
    pixels off the background. A blank, single-colour or nearly empty area fails, saying
    what it found."""
    region_colours = len(colours(img, box))
    share = ink(img, box)
    where = "" if box is None else f" in {box}"
    assert region_colours >= min_colours and share >= min_ink, (
        f"{what} looks blank{where}: {region_colours} colours (want >= {min_colours}), "
        f"{share:.1%} of pixels off the background {background(img, box)} (want >= {min_ink:.0%})"
    )
