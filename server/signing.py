"""Cloudinary-compatible URL signatures: `s--XXXXXXXX--` right after the delivery type.

What is signed is the URL path after the signature (`<transformations>/<public id>.<ext>`,
as percent-encoded in the URL) followed by the API secret: a plain SHA-1 or SHA-256 digest,
not an HMAC, URL-safe base64, cut to 8 characters (32 for long signatures, always SHA-256).
The SDKs leave the `v<version>` component out; Cloudinary's docs say it is in: both verify.

`sign_url` is the helper applications (and `pixcast sign`) use to sign a URL or path.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import re
import sys
from collections.abc import Iterable, Mapping
from urllib.parse import quote, urlsplit, urlunsplit

from transforms.grammar import looks_like_component

SHORT = 8
LONG = 32
ALGORITHMS = ("sha1", "sha256")
SECRET_ENV = "PIXCAST_API_SECRET"
_VERSION = re.compile(r"^v\d{1,12}$")
_SIGNATURE = re.compile(r"^s--[A-Za-z0-9_-]{8,32}--$")
# As the server reads a request path: printable ASCII stays, anything else becomes %XX.
_PATH_SAFE = "".join(chr(code) for code in range(0x21, 0x7F))


def signature(payload: str, secret: str, algorithm: str = "sha1", length: int = SHORT) -> str:
    """The signature characters (without `s--`/`--`) for `payload` under `secret`."""
    digest = hashlib.new(algorithm, (payload + secret).encode("utf-8")).digest()
    return base64.urlsafe_b64encode(digest)[:length].decode("ascii")


def payloads(signed_part: str) -> tuple[str, ...]:
    """What a client may have signed: the part after the signature without its version
    component (what the SDKs sign) and, when it has one, with it (what the docs say)."""
    segments = signed_part.split("/")
    index = _version_index(segments)
    if index is None:
        return (signed_part,)
    return ("/".join(segments[:index] + segments[index + 1 :]), signed_part)


def _version_index(segments: list[str]) -> int | None:
    """Where the version is, read as the grammar reads it: after the components only."""
    for index, segment in enumerate(segments[:-1]):
        if _VERSION.match(segment):
            return index
        if not looks_like_component(segment):
            return None
    return None


def verify(given: str, signed_part: str, secrets: Iterable[str]) -> bool:
    """True when `given` signs `signed_part` under one of `secrets` (rotation).

    Every candidate is computed and compared in constant time, so the time taken says
    nothing about which secret, algorithm or prefix came close.
    """
    algorithms = ALGORITHMS if len(given) == SHORT else ("sha256",)
    if len(given) not in (SHORT, LONG):
        return False
    matched = False
    for secret in secrets:
        for payload in payloads(signed_part):
            for algorithm in algorithms:
                expected = signature(payload, secret, algorithm, len(given))
                matched |= hmac.compare_digest(expected.encode(), given.encode())
    return matched


def split_path(path: str) -> tuple[list[str], list[str]]:
    """A delivery path → (prefix up to the delivery type, the part a signature covers),
    dropping a signature already there. The short form has an empty prefix."""
    segments = path.strip("/").split("/")
    if len(segments) > 2 and segments[0] == "image":
        head, rest = segments[:2], segments[2:]
    elif len(segments) > 3 and segments[1] == "image" and not looks_like_component(segments[0]):
        head, rest = segments[:3], segments[3:]
    else:
        head, rest = [], segments
    if len(rest) > 1 and _SIGNATURE.match(rest[0]):
        rest = rest[1:]
    return head, rest


def sign_url(url: str, secret: str, algorithm: str = "sha1", long: bool = False) -> str:
    """`url` (absolute, or a path) with a signature after its delivery type.

    `long` makes a 32-character SHA-256 signature, as the SDKs' `long_url_signature`.
    The signature leaves the version out, as the SDKs do.
    """
    if algorithm not in ALGORITHMS:
        raise ValueError(f"algorithm must be one of {', '.join(ALGORITHMS)}, got {algorithm!r}")
    parts = urlsplit(url)
    head, rest = split_path(quote(parts.path, safe=_PATH_SAFE))
    signed_part = "/".join(rest)
    chosen = signature(
        payloads(signed_part)[0], secret, "sha256" if long else algorithm, LONG if long else SHORT
    )
    path = "/" + "/".join([*head, f"s--{chosen}--", *rest])
    return urlunsplit(parts._replace(path=path))


# --- `pixcast sign URL-OR-PATH` ----------------------------------------------------------


def add_sign_arguments(command: argparse.ArgumentParser) -> None:
    command.add_argument("url", metavar="URL-OR-PATH", help="delivery URL or path to sign")
    command.add_argument(
        "--secret", help="API secret (default: the first of $PIXCAST_API_SECRET, the current one)"
    )
    command.add_argument("--algorithm", choices=ALGORITHMS, default="sha1", help="default sha1")
    command.add_argument(
        "--long", action="store_true", help="32-character SHA-256 signature (long_url_signature)"
    )


def sign_command(args: argparse.Namespace, environ: Mapping[str, str]) -> int:
    """Print the signed URL; exit status 2 when there is no secret to sign with."""
    secrets = [s.strip() for s in environ.get(SECRET_ENV, "").split(",") if s.strip()]
    secret = args.secret or (secrets[0] if secrets else None)
    if not secret:
        print(f"pixcast: error: give --secret or set {SECRET_ENV}", file=sys.stderr)
        return 2
    print(sign_url(args.url, secret, args.algorithm, args.long))
    return 0
