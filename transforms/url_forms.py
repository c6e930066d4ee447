"""The other URL forms the SDKs write, rewritten to the long form before parsing:
`/images/` SEO suffixes, `/iu/` (shorten), the root path, and delivery types pixcast
cannot serve (each a 400 that says why)."""

from __future__ import annotations

import re
from collections.abc import Callable

from transforms.errors import BadRequest

_VERSION = re.compile(r"^v\d{1,12}$")
_SIGNATURE = re.compile(r"^s--[A-Za-z0-9_-]{8,32}--$")
# Cloudinary delivery types for social pictures, video thumbnails and generators.
NOT_SERVED = {
    "facebook": "social profile pictures",
    "twitter": "social profile pictures",
    "twitter_name": "social profile pictures",
    "gravatar": "social profile pictures",
    "instagram_name": "social profile pictures",
    "youtube": "video thumbnails",
    "hulu": "video thumbnails",
    "vimeo": "video thumbnails",
    "animoto": "video thumbnails",
    "worldstarhiphop": "video thumbnails",
    "dailymotion": "video thumbnails",
    "list": "tag lists (it has no library of tags yet)",
    "multi": "animations made from tags",
    "text": "text images (use an l_text: layer)",
    "url2png": "website screenshots",
    "sprite": "sprites",
    "asset": "static assets",
}
ASSET_TYPES = ("video", "raw")
DELIVERIES = ("upload", "private", "authenticated", "fetch")


def long_form(segments: list[str], is_component: Callable[[str], bool]) -> list[str]:
    """`segments` of a delivery path in the `[<cloud>/]image/<delivery>/...` form when
    they were written in another one; unchanged otherwise."""
    if len(segments) > 1 and segments[0] in ("images", "iu"):
        return _shortcut(segments[0], segments[1:])
    if len(segments) > 2 and segments[1] in ("images", "iu") and not is_component(segments[0]):
        return [segments[0], *_shortcut(segments[1], segments[2:])]
    _refuse_asset_type(segments, is_component)
    _refuse_delivery(segments, is_component)
    if len(segments) > 2 and _root_path(segments, is_component):
        return [segments[0], "image", "upload", *segments[1:]]
    return segments


def _shortcut(name: str, rest: list[str]) -> list[str]:
    return ["image", "upload", *(_without_seo_name(rest) if name == "images" else rest)]


def _without_seo_name(rest: list[str]) -> list[str]:
    """`<public_id>/<seo-name>.<ext>` → `<public_id>.<ext>`: the SEO name is only words."""
    if len(rest) < 2 or _VERSION.match(rest[-2]):
        raise BadRequest("Invalid URL: an /images/ URL ends with <public_id>/<seo-name>.<ext>")
    seo, dot, extension = rest[-1].rpartition(".")
    return [*rest[:-2], rest[-2] + (dot + extension if seo else "")]


def _root_path(segments: list[str], is_component: Callable[[str], bool]) -> bool:
    """`/<cloud>/<transformations or version>/<public_id>`: the cloud name, then a
    component, a version or a signature."""
    first, second = segments[0], segments[1]
    if is_component(first) or _VERSION.match(first) or _SIGNATURE.match(first):
        return False
    if second == "image":
        return False
    return is_component(second) or bool(_VERSION.match(second) or _SIGNATURE.match(second))


def _refuse_asset_type(segments: list[str], is_component: Callable[[str], bool]) -> None:
    """`[<cloud>/]video/upload/...`: only with a delivery type after it, so a folder named
    `video` (`/video/cats/x.jpg`) stays a folder."""
    for index in (0, 1):
        if len(segments) <= index + 2 or segments[index] not in ASSET_TYPES:
            continue
        if index == 1 and is_component(segments[0]):
            return
        if segments[index + 1] in DELIVERIES:
            raise BadRequest(
                f"Invalid URL: pixcast delivers images; {segments[index]} assets are not supported"
            )


def _refuse_delivery(segments: list[str], is_component: Callable[[str], bool]) -> None:
    for index in (0, 1):
        if len(segments) > index + 2 and segments[index] == "image":
            kind = segments[index + 1]
            if kind in NOT_SERVED and not (index == 1 and is_component(segments[0])):
                raise BadRequest(
                    f"Invalid delivery type: {kind} (pixcast does not serve "
                    f"{NOT_SERVED[kind]}; deliver the picture through fetch or upload)"
                )
