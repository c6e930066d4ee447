"""Effects that change the canvas: trim, shadow, outline, shear and distort."""

from __future__ import annotations

import math

import numpy as np
import pyvips

from transforms.effects.params import Choice, ColourValue, Int, Number, Values
from transforms.effects.pixels import (
    Change,
    alpha_of,
    corner_colour,
    grey,
    solid,
    split_alpha,
    with_alpha,
)
from transforms.effects.registry import EffectInput, effect
from transforms.errors import BadRequest
from transforms.model import Colour

CLEAR = [0, 0, 0, 0]


# --- trim --------------------------------------------------------------------------------


@effect("trim", Int("tolerance", 10, low=0, high=100), ColourValue("color"))
def trim(source: EffectInput, values: Values) -> pyvips.Image:
    """Cut away edges of the corner's colour (or of `color`), or transparent edges when the
    corner is transparent. A uniform image stays as it is."""
    image = source.image
    colour, alpha = split_alpha(image)
    threshold = values.number("tolerance") * 2.55
    given = values.colour("color")
    if given is None and alpha is not None and alpha.getpoint(0, 0)[0] == 0:
        box = alpha.find_trim(threshold=threshold, background=[0])
    else:
        background = list(given.rgba[:3]) if given else corner_colour(colour)
        box = colour.find_trim(threshold=threshold, background=background)
    left, top, width, height = box
    if width == 0 or height == 0:
        return image
    return image.crop(left, top, width, height)


# --- shadow ------------------------------------------------------------------------------

_SHADOW_SIGMA = 4.0
_SHADOW_OFFSET = 8.0


@effect("shadow", Int("strength", 40, low=0, high=100))
def shadow(source: EffectInput, values: Values) -> pyvips.Image:
    """A blurred copy of the image's shape in `co_` (grey) at `x_`,`y_` (8 px down-right
    by default), `strength`% opaque, under the image; the canvas grows to hold both."""
    image = with_alpha(source.image)
    dx = round(source.x if source.x is not None else _SHADOW_OFFSET)
    dy = round(source.y if source.y is not None else _SHADOW_OFFSET)
    margin = math.ceil(3 * _SHADOW_SIGMA)
    left, top = min(0, dx - margin), min(0, dy - margin)
    width = max(image.width, image.width + dx + margin) - left
    height = max(image.height, image.height + dy + margin) - top
    source.check_size("shadow", width, height)
    shape = alpha_of(image).embed(dx - left, dy - top, width, height)
    opacity = shape.gaussblur(_SHADOW_SIGMA) * (values.number("strength") / 100)
    colour = (source.colour or grey()).rgba[:3]
    under = solid(width, height, colour).bandjoin(opacity.cast("uchar"))
    return under.composite2(image, "over", x=-left, y=-top).cast("uchar")


# --- outline -----------------------------------------------------------------------------

_OUTER = {None, "outer", "fill"}


@effect(
    "outline",
    Choice("mode", options=("inner", "inner_fill", "outer", "fill")),
    Int("width", 5, low=1, high=100),
    Int("blur", 0, low=0, high=2000),
)
def outline(source: EffectInput, values: Values) -> pyvips.Image:
    """A `co_` (black) line along the edge of the opaque shape: `outer` outside it,
    `inner` inside it, both by default; `inner_fill` fills the whole shape and `fill`
    the shape plus the outer line. `blur` softens it like e_blur."""
    mode = values.word("mode")
    width = values.number("width")
    sigma = values.number("blur") / 50
    margin = width + math.ceil(3 * sigma) + 1
    image = with_alpha(source.image).embed(margin, margin, source.image.width + 2 * margin,
                                           source.image.height + 2 * margin)  # fmt: skip
    line = _line(alpha_of(image) > 127, mode, width)
    if sigma > 0:
        line = line.gaussblur(sigma)
    colour = source.colour or Colour(0, 0, 0, 255, "black")
    paint = solid(image.width, image.height, colour.rgba[:3]).bandjoin(line.cast("uchar"))
    result = image.composite2(paint, "over").cast("uchar")
    if mode in _OUTER:
        source.check_size("outline", result.width, result.height)
        return result
    return result.crop(margin, margin, source.image.width, source.image.height)


def _line(shape: pyvips.Image, mode: str | None, width: int) -> pyvips.Image:
    if mode == "inner_fill":
        return shape
    grown = dilate(shape, width) if mode in _OUTER else shape
    if mode == "fill":
        return grown
    shrunk = shape if mode == "outer" else erode(shape, width)
    return grown & (shrunk ^ 255)


def dilate(mask: pyvips.Image, radius: float) -> pyvips.Image:
    """Grow a 0/255 mask by `radius` pixels with round corners: a gaussian of sigma r/2
    stays above 2.3% (Φ(-2)) up to r pixels outside a straight edge. Integer precision is
    ~80x faster than float and rounds the edge by at most a pixel."""
    blurred = mask.gaussblur(radius / 2, min_ampl=0.01, precision="integer")
    return blurred > 255 * 0.02275


def erode(mask: pyvips.Image, radius: float) -> pyvips.Image:
    return dilate(mask ^ 255, radius) ^ 255


# --- shear -------------------------------------------------------------------------------


@effect(
    "shear",
    Number("x", 0.0, low=-359, high=359),
    Number("y", 0.0, low=-359, high=359),
)
def shear(source: EffectInput, values: Values) -> pyvips.Image:
    """Skew by `x` degrees along the x axis and `y` along the y axis; corners transparent."""
    skew_x = math.tan(math.radians(values.decimal("x")))
    skew_y = math.tan(math.radians(values.decimal("y")))
    image = source.image
    width = image.width + abs(skew_x) * image.height
    height = image.height + abs(skew_y) * image.width
    source.check_size("shear", width, height)
    return _transformed(image, lambda im: im.affine([1, skew_x, skew_y, 1], background=CLEAR))


def _transformed(image: pyvips.Image, move: Change) -> pyvips.Image:
    # Premultiplied, so the transparent background does not darken the edges.
    moved = move(with_alpha(image).premultiply())
    return moved.unpremultiply().cast("uchar").copy(interpretation="srgb")


# --- distort -----------------------------------------------------------------------------


def _corner(index: int) -> tuple[Int, Int]:
    return (Int(f"x{index}", required=True, low=-8192, high=8192),
            Int(f"y{index}", required=True, low=-8192, high=8192))  # fmt: skip


@effect("distort", *(p for index in range(1, 5) for p in _corner(index)))
def distort(source: EffectInput, values: Values) -> pyvips.Image:
    """Move the corners (clockwise from the top-left) to the given points: a perspective
    warp. The canvas is the bounding box of the new corners."""
    image = source.image
    points = [(values.number(f"x{i}"), values.number(f"y{i}")) for i in range(1, 5)]
    corners = [(0, 0), (image.width, 0), (image.width, image.height), (0, image.height)]
    inverse = _homography(points, corners)
    left, top = min(p[0] for p in points), min(p[1] for p in points)
    width = max(p[0] for p in points) - left
    height = max(p[1] for p in points) - top
    if width < 1 or height < 1:
        raise BadRequest(f"Invalid corners for effect distort: {points} (they enclose no area)")
    source.check_size("distort", width, height)
    index = _projected(inverse, width, height, left, top)
    return _transformed(image, lambda im: im.mapim(index, background=CLEAR, premultiplied=True))


def _homography(sources: list[tuple[int, int]], targets: list[tuple[int, int]]) -> np.ndarray:
    """The 3x3 matrix taking each source point to its target point."""
    rows, right = [], []
    for (x, y), (u, v) in zip(sources, targets, strict=True):
        rows += [[x, y, 1, 0, 0, 0, -u * x, -u * y], [0, 0, 0, x, y, 1, -v * x, -v * y]]
        right += [u, v]
    try:
        solved = np.linalg.solve(np.array(rows, dtype=float), np.array(right, dtype=float))
    except np.linalg.LinAlgError:
        raise BadRequest("Invalid corners for effect distort: three of them are in line") from None
    return np.append(solved, 1.0).reshape(3, 3)


def _projected(matrix: np.ndarray, width: int, height: int, left: int, top: int) -> pyvips.Image:
    """For each output pixel, where to read it in the source (pixel centres)."""
    xy = pyvips.Image.xyz(width, height).cast("float") + 0.5
    x, y = xy.extract_band(0) + left, xy.extract_band(1) + top
    (a, b, c), (d, e, f), (g, h, i) = matrix.tolist()
    w = x * g + y * h + i
    return ((x * a + y * b + c) / w - 0.5).bandjoin((x * d + y * e + f) / w - 0.5)


@effect("distort:arc", Number("degrees", required=True, low=-360, high=360))
def distort_arc(source: EffectInput, values: Values) -> pyvips.Image:
    """Bend the image into an arc of `degrees`: positive like a frown, negative like a
    smile. The centre line keeps its length."""
    degrees = values.decimal("degrees")
    if abs(degrees) < 0.5:
        return source.image
    if degrees < 0:
        flipped = EffectInput(source.image.flipver(), max_side=source.max_side)
        return _arc(flipped, -degrees).flipver()
    return _arc(source, degrees)


def _arc(source: EffectInput, degrees: float) -> pyvips.Image:
    image = source.image
    angle = math.radians(degrees)
    middle = image.width / angle
    inner, outer = max(middle - image.height / 2, 0.0), max(middle + image.height / 2, image.height)
    left, top, right, bottom = _arc_bounds(inner, outer, angle)
    source.check_size("distort", right - left, bottom - top)
    xy = pyvips.Image.xyz(math.ceil(right - left), math.ceil(bottom - top)).cast("float") + 0.5
    dx, dy = xy.extract_band(0) + left, xy.extract_band(1) + top
    turn = dx.math2(dy * -1, "atan2")
    turn = (turn > 180).ifthenelse(turn - 360, turn)
    radius = (dx * dx + dy * dy) ** 0.5
    index = (turn / degrees + 0.5) * image.width - 0.5
    index = index.bandjoin((radius * -1 + outer) / (outer - inner) * image.height - 0.5)
    return _transformed(image, lambda im: im.mapim(index, background=CLEAR, premultiplied=True))


def _arc_bounds(inner: float, outer: float, angle: float) -> tuple[float, float, float, float]:
    """Bounding box of the ring sector around the origin, 0 rad pointing up."""
    turns = np.linspace(-angle / 2, angle / 2, 721)
    xs = np.concatenate([r * np.sin(turns) for r in (inner, outer)])
    ys = np.concatenate([-r * np.cos(turns) for r in (inner, outer)])
    return (math.floor(xs.min()), math.floor(ys.min()), math.ceil(xs.max()), math.ceil(ys.max()))
