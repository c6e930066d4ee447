"""Upload API parameters as the SDKs send them (form fields, `name[]` for lists), read into
typed values. Each bad value is a 400 naming the parameter; features pixcast leaves out are
a 400 that names them (docs/upload.md).
"""

from __future__ import annotations

import re
import secrets
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import PurePosixPath

from server.library.repository import Box
from server.origins import check_public_id
from transforms.errors import BadRequest

TYPES = ("upload", "private", "authenticated")
MAX_SEGMENTS = 16
MAX_PUBLIC_ID = 255
LEFT_OUT = {
    "moderation": "moderation add-ons",
    "backup": "backups",
    "raw_convert": "raw conversion add-ons",
    "ocr": "the OCR add-on",
    "background_removal": "background removal add-ons",
    "detection": "detection add-ons (use categorization)",
    "auto_transcription": "video transcription",
    "async": "asynchronous uploads",
    "eager_async": "asynchronous eager transformations",
    "notification_url": "notifications",
    "eager_notification_url": "notifications",
    "responsive_breakpoints": "responsive breakpoints",
}
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_UNESCAPED_BAR = re.compile(r"(?<!\\)\|")
_UNESCAPED_EQUALS = re.compile(r"(?<!\\)=")
_FILENAME_UNSAFE = re.compile(r"[^A-Za-z0-9_-]+")
_TRUE = ("1", "true")
_FALSE = ("0", "false", "")


def flatten(items: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Form fields → one value per name; `tags[]=a&tags[]=b` becomes `tags=a,b`."""
    values: dict[str, list[str]] = {}
    for key, value in items:
        values.setdefault(key.removesuffix("[]"), []).append(value)
    return {key: ",".join(found) for key, found in values.items()}


def refuse_left_out(params: Mapping[str, str]) -> None:
    named = sorted(key for key in params if key in LEFT_OUT and params[key])
    if named:
        what = ", ".join(f"{key} ({LEFT_OUT[key]})" for key in named)
        raise BadRequest(f"Not supported by pixcast: {what}")


def flag(params: Mapping[str, str], name: str, default: bool) -> bool:
    raw = params.get(name)
    if raw is None:
        return default
    if raw.strip().lower() in _TRUE:
        return True
    if raw.strip().lower() in _FALSE:
        return False
    raise BadRequest(f"Invalid {name}: expected true or false, got {raw!r}")


def delivery_type(params: Mapping[str, str]) -> str:
    found = params.get("type") or "upload"
    if found not in TYPES:
        raise BadRequest(f"Invalid type: expected one of {', '.join(TYPES)}, got {found!r}")
    return found


def tag_list(raw: str | None) -> tuple[str, ...]:
    names = [name.strip() for name in (raw or "").split(",") if name.strip()]
    for name in names:
        if _CONTROL.search(name) or len(name) > 255:
            raise BadRequest(f"Invalid tag {name[:40]!r}: at most 255 printable characters")
    return tuple(dict.fromkeys(names))


def context_map(raw: str | None) -> dict[str, str]:
    """`alt=A dog|caption=On the beach` (`\\|` and `\\=` escape) → {"alt": ..., ...}."""
    found: dict[str, str] = {}
    for item in _UNESCAPED_BAR.split(raw or ""):
        if not item:
            continue
        key, equals, value = (part for part in _split_once(item))
        if not equals or not key:
            raise BadRequest(
                f"Invalid context: expected key=value pairs separated by |, got {item!r}"
            )
        found[_unescape(key)] = _unescape(value)
    return found


def _split_once(item: str) -> tuple[str, str, str]:
    match = _UNESCAPED_EQUALS.search(item)
    if match is None:
        return item, "", ""
    return item[: match.start()], "=", item[match.end() :]


def _unescape(text: str) -> str:
    return text.replace("\\|", "|").replace("\\=", "=")


def boxes(raw: str | None, name: str) -> tuple[Box, ...]:
    """`x,y,w,h|x,y,w,h` in source pixels."""
    found: list[Box] = []
    for item in (raw or "").split("|"):
        if not item.strip():
            continue
        parts = item.split(",")
        if len(parts) != 4 or not all(part.strip().isdigit() for part in parts):
            raise BadRequest(f"Invalid {name}: expected x,y,width,height|..., got {item!r}")
        x, y, width, height = (int(part) for part in parts)
        found.append((x, y, width, height))
    return tuple(found)


def threshold(raw: str | None) -> float | None:
    if not raw:
        return None
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not 0.0 <= value <= 1.0:
        raise BadRequest(f"Invalid auto_tagging: expected a confidence from 0 to 1, got {raw!r}")
    return value


def eager_list(raw: str | None) -> tuple[str, ...]:
    """`c_fill,w_100|w_200/e_sepia` → each transformation, as URL components."""
    return tuple(item.strip("/") for item in (raw or "").split("|") if item.strip("/"))


def checked_public_id(public_id: str) -> str:
    """The id as given, or a 400 naming what is wrong with it."""
    if _CONTROL.search(public_id):
        raise BadRequest(f"Invalid public_id {public_id!r}: control characters are not allowed")
    if len(public_id) > MAX_PUBLIC_ID:
        raise BadRequest(f"Invalid public_id: at most {MAX_PUBLIC_ID} characters")
    if public_id.count("/") >= MAX_SEGMENTS:
        raise BadRequest(f"Invalid public_id: at most {MAX_SEGMENTS} folder levels")
    if public_id.split("/", 1)[0] in ("private", "authenticated", ".pixcast-incoming"):
        raise BadRequest(f"Invalid public_id {public_id!r}: that first folder is reserved")
    check_public_id(public_id)
    return public_id


@dataclass(frozen=True)
class Naming:
    public_id: str | None
    folder: str
    use_filename: bool
    unique_filename: bool


def naming(params: Mapping[str, str]) -> Naming:
    folder = (params.get("folder") or "").strip("/")
    return Naming(
        public_id=params.get("public_id") or None,
        folder=f"{folder}/" if folder else "",
        use_filename=flag(params, "use_filename", False),
        unique_filename=flag(params, "unique_filename", True),
    )


def choose_public_id(how: Naming, filename: str) -> str:
    """As Cloudinary names an upload: the given id, else the file's name (with 6 random
    characters unless unique_filename is false), else 20 random characters."""
    if how.public_id is not None:
        chosen = how.public_id
    elif how.use_filename and filename:
        stem = _filename_stem(filename)
        chosen = f"{stem}_{_random(6)}" if how.unique_filename else stem
    else:
        chosen = _random(20)
    return checked_public_id(how.folder + chosen)


def _filename_stem(filename: str) -> str:
    stem = PurePosixPath(filename.replace("\\", "/")).stem
    ascii_stem = unicodedata.normalize("NFKD", stem).encode("ascii", "ignore").decode()
    return _FILENAME_UNSAFE.sub("_", ascii_stem).strip("_")[:100] or "file"


def _random(length: int) -> str:
    alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
    return "".join(secrets.choice(alphabet) for _ in range(length))
