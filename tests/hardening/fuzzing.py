"""What the URL fuzz test draws from: originals of every format (good, truncated, corrupt)
and transformation URLs from the grammar's vocabulary and from its near misses."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pyvips
from hypothesis import strategies as st

from tests.load.conftest import gradient
from transforms.effects.registry import REGISTRY

# CI runs a fixed number of examples from a fixed seed; `make fuzz` sets a larger number.
EXAMPLES = int(os.environ.get("PIXCAST_FUZZ_EXAMPLES", "250"))
SEED = 20261201

ENCODERS: dict[str, Callable[[pyvips.Image], bytes]] = {
    "jpg": lambda image: bytes(image.jpegsave_buffer()),
    "png": lambda image: bytes(image.pngsave_buffer()),
    "webp": lambda image: bytes(image.webpsave_buffer()),
    "gif": lambda image: bytes(image.gifsave_buffer()),
    "tiff": lambda image: bytes(image.tiffsave_buffer(compression="deflate")),
    "avif": lambda image: bytes(image.heifsave_buffer(compression="av1")),
    "svg": lambda image: (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{image.width}" height="{image.height}">'
        '<rect width="50%" height="50%" fill="#0a0" opacity="0.5"/></svg>'
    ).encode(),
}


def damaged(kind: str, data: bytes) -> bytes:
    if kind == "truncated":
        return data[: len(data) // 2]
    middle = len(data) // 3  # corrupt: flipped bits inside the compressed data
    return data[:middle] + bytes(b ^ 0x5A for b in data[middle : middle + 64]) + data[middle + 64 :]


def write_originals(root: Path, extra: dict[str, bytes]) -> list[str]:
    """good-, truncated- and corrupt-<format> files of each format (plus `extra`, e.g. the
    HEIC set-up made); the file names (public id + extension)."""
    image = gradient(64, 48)
    names = []
    for fmt, encode in ENCODERS.items():
        data = encode(image)
        for kind in ("good", "truncated", "corrupt"):
            name = f"{kind}-{fmt}.{fmt}"
            (root / name).write_bytes(data if kind == "good" else damaged(kind, data))
            names.append(name)
    for name, data in extra.items():
        (root / name).write_bytes(data)
        names.append(name)
    (root / "text.jpg").write_bytes(b"not an image at all\n")
    return [*names, "text.jpg", "missing.jpg"]


NUMBER = st.one_of(
    st.integers(-50, 3000).map(str),
    st.floats(0.01, 4.0).map(lambda x: f"{x:.2f}"),
    st.sampled_from(["auto", "0", "-0", "1e9", "99999999999", "0.0", "nan", "", "1.5.2", "x"]),
)
CROPS = ["scale", "fit", "limit", "mfit", "fill", "lfill", "pad", "lpad", "mpad", "crop",
         "thumb", "auto", "fill_pad", "auto_pad", "bogus"]  # fmt: skip
GRAVITIES = ["north_west", "north", "east", "center", "south", "auto", "face", "faces",
             "auto:subject", "xy_center", "auto:objects", "nowhere"]  # fmt: skip
FLAGS = ["progressive", "attachment", "lossy", "getinfo", "animated", "ignore_aspect_ratio",
         "strip_profile", "keep_iptc", "nonsense"]  # fmt: skip
FORMATS = ["jpg", "png", "webp", "avif", "gif", "tiff", "auto", "bmp"]


def _with_value(key: str, values: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return values.map(lambda value: f"{key}_{value}")


EFFECT = st.tuples(st.sampled_from([*REGISTRY, "nope"]), st.one_of(st.none(), NUMBER)).map(
    lambda pair: f"e_{pair[0]}" + ("" if pair[1] is None else f":{pair[1]}")
)
PARAMETER = st.one_of(
    _with_value("c", st.sampled_from(CROPS)),
    _with_value("g", st.sampled_from(GRAVITIES)),
    _with_value("w", NUMBER),
    _with_value("h", NUMBER),
    _with_value("ar", st.sampled_from(["16:9", "1.5", "0:0", "3:", "-1"])),
    _with_value("x", NUMBER),
    _with_value("y", NUMBER),
    _with_value("z", NUMBER),
    _with_value("dpr", NUMBER),
    _with_value("q", st.one_of(NUMBER, st.sampled_from(["auto:eco", "80:420", "auto:x"]))),
    _with_value("f", st.sampled_from(FORMATS)),
    _with_value("fl", st.sampled_from(FLAGS)),
    _with_value("r", st.one_of(NUMBER, st.just("max"), st.just("10:20:30:40:50"))),
    _with_value("a", st.sampled_from(["90", "-45", "hflip", "auto_right", "400", "x"])),
    _with_value("b", st.sampled_from(["red", "rgb:ff0000", "rgb:zz", "auto", "#fff"])),
    _with_value("bo", st.sampled_from(["3px_solid_black", "0px_solid_red", "9999px_solid_x"])),
    _with_value("o", NUMBER),
    _with_value("pg", st.sampled_from(["1", "2", "-1", "0", "1-3", "999"])),
    _with_value("dn", st.sampled_from(["1", "144", "1200", "0", "x"])),
    _with_value("l", st.sampled_from(["text:Arial_20:Hi", "good-png", "missing", "text:"])),
    _with_value("t", st.sampled_from(["thumb", "unknown"])),
    EFFECT,
    # Near misses: unknown keys, stray separators, raw junk.
    st.sampled_from(["zz_1", "w", "_", "w__", ",", "c_", "e_", "%", "%zz", "w_%00", "..", "~"]),
    st.text("abcdefghijklmnopqrstuvwxyz_:,.-%0123456789", max_size=12),
)
COMPONENT = st.lists(PARAMETER, min_size=1, max_size=4).map(",".join)


def url_strategy(names: list[str]) -> st.SearchStrategy[str]:
    """A delivery path: a few components, then an original with its own extension or
    another (or none, or one that is no format)."""
    source = st.tuples(
        st.sampled_from(names),
        st.sampled_from([None, "", "jpg", "png", "webp", "avif", "gif", "tiff", "exe"]),
    ).map(lambda pair: _source_name(*pair))
    components = st.lists(COMPONENT, min_size=0, max_size=3)
    return st.tuples(components, source).map(lambda pair: "/" + "/".join([*pair[0], pair[1]]))


def _source_name(name: str, extension: str | None) -> str:
    if extension is None:
        return name
    stem = name.rsplit(".", 1)[0]
    return f"{stem}.{extension}" if extension else stem
