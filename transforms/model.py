"""The typed transformation: what a delivery URL asks for, in long names.

Cloudinary's short keys (`c`, `g`, `w`) stay in grammar.py; everything here speaks in
crop modes, gravities and lengths. All values are frozen and hashable, so a parsed
Transformation can be compared, cached and turned back into its canonical string.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import StrEnum


class CropMode(StrEnum):
    SCALE = "scale"
    FIT = "fit"
    LIMIT = "limit"
    MFIT = "mfit"
    FILL = "fill"
    LFILL = "lfill"
    PAD = "pad"
    LPAD = "lpad"
    MPAD = "mpad"
    CROP = "crop"
    THUMB = "thumb"
    AUTO = "auto"
    FILL_PAD = "fill_pad"
    AUTO_PAD = "auto_pad"


class Compass(StrEnum):
    NORTH_WEST = "north_west"
    NORTH = "north"
    NORTH_EAST = "north_east"
    WEST = "west"
    CENTER = "center"
    EAST = "east"
    SOUTH_WEST = "south_west"
    SOUTH = "south"
    SOUTH_EAST = "south_east"
    XY_CENTER = "xy_center"


@dataclass(frozen=True)
class Focus:
    """A gravity that needs detection: faces, objects or saliency.

    `kind` is `face`, `faces`, `auto` or `objects`; `labels` are object class names
    (for `objects`, or the focal objects of `auto:<object>`); `avoid` marks `_avoid`
    labels; `fallback` is the compass point (or `auto`) used when nothing is found.
    `text` is the URL value, kept so the canonical form is what the user wrote.
    """

    kind: str
    text: str
    labels: tuple[str, ...] = ()
    avoid: tuple[str, ...] = ()
    fallback: str = "center"
    algorithm: str = ""


Gravity = Compass | Focus


class Unit(StrEnum):
    PIXELS = "px"
    RELATIVE = "relative"
    INITIAL_WIDTH = "iw"
    INITIAL_HEIGHT = "ih"


@dataclass(frozen=True)
class Length:
    """A width, height or offset: pixels, a multiple of the input size, or iw/ih.

    `value` is pixels for PIXELS, a factor for RELATIVE, and a factor of the original
    (initial) width or height for INITIAL_WIDTH / INITIAL_HEIGHT (`iw` is factor 1).
    """

    value: float
    unit: Unit = Unit.PIXELS

    def resolve(self, reference: float, initial: tuple[int, int]) -> float:
        """Pixels for this length; `reference` is what a relative value multiplies."""
        if self.unit is Unit.PIXELS:
            return self.value
        if self.unit is Unit.RELATIVE:
            return self.value * reference
        side = initial[0] if self.unit is Unit.INITIAL_WIDTH else initial[1]
        return self.value * side


@dataclass(frozen=True)
class Ratio:
    """An aspect ratio as the user wrote it: `16:9` or `1.5` (denominator 1)."""

    numerator: float
    denominator: float = 1.0

    @property
    def value(self) -> float:
        return self.numerator / self.denominator


@dataclass(frozen=True)
class Colour:
    """An RGBA colour (0-255 each) with the text it was written as (`red`, `rgb:ff000080`)."""

    red: int
    green: int
    blue: int
    alpha: int
    text: str

    @property
    def rgba(self) -> tuple[int, int, int, int]:
        return (self.red, self.green, self.blue, self.alpha)

    @property
    def opaque(self) -> bool:
        return self.alpha == 255


@dataclass(frozen=True)
class Border:
    width: int
    colour: Colour


class AngleMode(StrEnum):
    HFLIP = "hflip"
    VFLIP = "vflip"
    IGNORE = "ignore"


Angle = int | AngleMode


@dataclass(frozen=True)
class Radius:
    """Corner radii in pixels, CSS order from top-left clockwise; `maximum` is `r_max`."""

    corners: tuple[int, ...] = ()
    maximum: bool = False


class Format(StrEnum):
    JPG = "jpg"
    PNG = "png"
    WEBP = "webp"
    AVIF = "avif"
    GIF = "gif"
    TIFF = "tiff"
    AUTO = "auto"


@dataclass(frozen=True)
class Quality:
    """`q_80[:420|444]` (level set) or `q_auto[:best|good|eco|low]` (auto set)."""

    level: int | None = None
    auto: str | None = None
    chroma: int | None = None


@dataclass(frozen=True)
class Flag:
    """One `fl_` flag with its optional argument (`attachment:name`, `progressive:steep`)."""

    name: str
    argument: str | None = None


@dataclass(frozen=True)
class Effect:
    """One `e_` effect with its arguments, already validated against the registry."""

    name: str
    arguments: tuple[str, ...] = ()


@dataclass(frozen=True)
class Step:
    """One URL component. Fields left as None were not given."""

    crop: CropMode | None = None
    gravity: Gravity | None = None
    width: Length | None = None
    height: Length | None = None
    aspect_ratio: Ratio | None = None
    x: Length | None = None
    y: Length | None = None
    zoom: float | None = None
    dpr: float | None = None
    angles: tuple[Angle, ...] = ()
    radius: Radius | None = None
    background: Colour | None = None
    border: Border | None = None
    opacity: int | None = None
    colour: Colour | None = None
    effect: Effect | None = None
    quality: Quality | None = None
    format: Format | None = None
    flags: tuple[Flag, ...] = ()
    page: int | None = None
    delay: int | None = None
    # `d_`: the public id to render instead when the original is missing, as written
    # (Cloudinary's `folder:name.ext` form); the origins resolve it, the pipeline ignores it.
    default_image: str | None = None
    # `l_`/`u_` with its whole sub-chain; a Step holding a layer holds nothing else.
    layer: Layer | None = None

    def has_flag(self, name: str) -> bool:
        return any(flag.name == name for flag in self.flags)

    def flag(self, name: str) -> Flag | None:
        return next((flag for flag in self.flags if flag.name == name), None)


class LayerKind(StrEnum):
    IMAGE = "image"  # l_<public id>, u_<public id>
    FETCH = "fetch"  # l_fetch:<base64url URL>
    TEXT = "text"  # l_text:<style>:<text>


@dataclass(frozen=True)
class TextStyle:
    """`l_text:` style. `font` is the name as written (matched case-insensitively);
    `size` is in pixels (points at 72 dpi); `weight` is normal, bold, thin, light or
    100-900; spacings are pixels (None: the font's own)."""

    font: str
    size: int
    weight: str = "normal"
    italic: bool = False
    decoration: str = "normal"  # or underline, strikethrough
    alignment: str = "left"  # or center, right, start, end, justify
    letter_spacing: int | None = None
    line_spacing: int | None = None


# Flags that only mean something inside a layer's sub-chain.
LAYER_FLAGS = (
    "layer_apply",
    "relative",
    "region_relative",
    "tiled",
    "no_overflow",
    "cutter",
    "text_disallow_overflow",
)


@dataclass(frozen=True)
class Layer:
    """An overlay (`l_`) or underlay (`u_`): a sub-chain that renders one image and places it.

    `source` is the public id (folders with `/`, an extension kept as written), the fetched
    URL, or the text. `head` is the rest of the `l_` component, `steps` the components
    after it and `apply` the closing `fl_layer_apply` component without that flag. When
    `apply` is None the layer applies at the end of its own component, and `head`'s
    gravity, x and y place it.
    """

    kind: LayerKind
    source: str
    underlay: bool = False
    style: TextStyle | None = None
    head: Step = field(default_factory=lambda: Step())
    steps: tuple[Step, ...] = ()
    apply: Step | None = None

    @property
    def placement(self) -> Step:
        """The component whose gravity, x and y place the layer."""
        return self.apply if self.apply is not None else self.head

    @property
    def components(self) -> tuple[Step, ...]:
        """Every component of the sub-chain, as written."""
        return (self.head, *self.steps, *((self.apply,) if self.apply is not None else ()))

    def has_flag(self, name: str) -> bool:
        return any(step.has_flag(name) for step in self.components)

    @property
    def chain(self) -> tuple[Step, ...]:
        """The steps that make the layer's image: every component, the placement one
        without its gravity and offsets (they place the layer instead)."""
        placed = replace(self.placement, gravity=None, x=None, y=None)
        if self.apply is None:
            return (placed,)
        return (self.head, *self.steps, placed)


class Delivery(StrEnum):
    UPLOAD = "upload"
    FETCH = "fetch"
    PRIVATE = "private"
    AUTHENTICATED = "authenticated"


@dataclass(frozen=True)
class Transformation:
    """A parsed delivery URL: the steps, the source and how the result is delivered.

    `public_id` is percent-decoded and has no extension; `extension` is the output
    format the URL's extension asked for (None when it had none). `substitute_for` is set
    when the `d_` placeholder stands in for a missing original: the X-Cld-Error message.
    """

    steps: tuple[Step, ...]
    public_id: str
    extension: Format | None = None
    delivery: Delivery = Delivery.UPLOAD
    version: int | None = None
    cloud_name: str | None = field(default=None, compare=False)
    signature: str | None = field(default=None, compare=False)
    signed_part: str = field(default="", compare=False)
    substitute_for: str | None = field(default=None, compare=False)

    @property
    def requested_format(self) -> Format | None:
        """`f_` of the last step that sets it, else the URL's extension."""
        for step in reversed(self.steps):
            if step.format is not None:
                return step.format
        return self.extension

    @property
    def quality(self) -> Quality | None:
        return next((s.quality for s in reversed(self.steps) if s.quality), None)

    def flag(self, name: str) -> Flag | None:
        """The last occurrence of a delivery flag anywhere in the chain."""
        for step in reversed(self.steps):
            found = step.flag(name)
            if found is not None:
                return found
        return None

    @property
    def default_image(self) -> str | None:
        """`d_` of the last step that sets it."""
        return next((s.default_image for s in reversed(self.steps) if s.default_image), None)

    @property
    def negotiates_format(self) -> bool:
        return self.requested_format is Format.AUTO

    @property
    def ignores_orientation(self) -> bool:
        return any(AngleMode.IGNORE in step.angles for step in self.steps)

    @property
    def layers(self) -> tuple[Layer, ...]:
        """The overlays and underlays of the chain, in order."""
        return tuple(step.layer for step in self.steps if step.layer is not None)


@dataclass(frozen=True)
class Rendered:
    """The result of a render: encoded bytes plus what `fl_getinfo` and headers need.

    `negotiated` is True when the format came from the Accept header (`f_auto`), so the
    response must carry `Vary: Accept`. For `fl_getinfo`, `data` is the JSON document and
    `media_type` is `application/json`. `cacheable` is False when a detector failed and
    the crop fell back: such a degraded result must not be stored.
    """

    data: bytes
    media_type: str
    format: str
    width: int
    height: int
    negotiated: bool = False
    info: dict[str, object] = field(default_factory=dict, compare=False)
    cacheable: bool = True


@dataclass(frozen=True)
class Limits:
    """Safety limits a render enforces; the server fills them from its settings.

    Source pixels count every frame of an animation; bytes are the encoded original's;
    components are Steps after named transformations are expanded.
    """

    max_source_pixels: int = 50_000_000
    max_output_side: int = 8192
    max_dpr: float = 4.0
    max_source_bytes: int = 50 * 1024 * 1024
    max_components: int = 20
    # GIF and animated outputs: frames x width x height (GIF quantisation costs ~2.5 s of
    # CPU per megapixel).
    max_animation_pixels: int = 4_000_000
    # Frames of an animation or pages of a TIFF: each costs a decode whatever its size.
    max_source_pages: int = 1000
