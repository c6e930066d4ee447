"""Upload API request signatures, checked as Cloudinary signs them: the parameters other than
`file`, `cloud_name`, `resource_type`, `api_key`, `signature` and `signature_algorithm`,
non-empty ones only, as `key=value` sorted and joined by `&`, then the secret appended, as
a hex SHA-1 (40 digits) or SHA-256 (64 digits). The SDKs' signature version 2 writes `&`
inside a value as `%26`; version 1 did not: both verify. `timestamp` is at most an hour old.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Mapping

from server.credentials import Credentials
from transforms.errors import Unauthorized

UNSIGNED = frozenset(
    {"file", "cloud_name", "resource_type", "api_key", "signature", "signature_algorithm"}
)
MAX_AGE_SECONDS = 3600
_DIGEST_LENGTHS = {40: "sha1", 64: "sha256"}


def string_to_sign(params: Mapping[str, str], version: int = 2) -> str:
    pairs = []
    for key, value in params.items():
        if key in UNSIGNED or not value:
            continue
        pair = f"{key}={value}"
        pairs.append(pair.replace("&", "%26") if version >= 2 else pair)
    return "&".join(sorted(pairs))


def sign(params: Mapping[str, str], secret: str, algorithm: str = "sha1") -> str:
    """The hex signature of `params` under `secret` (what the SDKs send as `signature`)."""
    return hashlib.new(algorithm, (string_to_sign(params) + secret).encode()).hexdigest()


def check_signed(
    params: Mapping[str, str], credentials: Credentials, now: float | None = None
) -> None:
    """Return when `params` carry a valid signature by a configured key; 401 otherwise."""
    api_key = params.get("api_key", "")
    secret = credentials.secret_for(api_key) if api_key else None
    if secret is None:
        raise Unauthorized(f"Unknown API key {api_key}" if api_key else "Must supply api_key")
    _check_timestamp(params.get("timestamp", ""), time.time() if now is None else now)
    given = params.get("signature", "").lower()
    algorithm = _algorithm(given, params.get("signature_algorithm", ""))
    matched = False
    for version in (1, 2):
        expected = hashlib.new(algorithm, (string_to_sign(params, version) + secret).encode())
        matched |= hmac.compare_digest(expected.hexdigest().encode(), given.encode())
    if not matched:
        raise Unauthorized(
            f"Invalid Signature {given}. String to sign - '{string_to_sign(params)}'."
        )


def _algorithm(given: str, named: str) -> str:
    algorithm = _DIGEST_LENGTHS.get(len(given))
    if algorithm is None:
        raise Unauthorized("Invalid Signature: expected 40 (SHA-1) or 64 (SHA-256) hex digits")
    if named and named.lower() != algorithm:
        raise Unauthorized(f"Invalid Signature: signature_algorithm is {named}, got {algorithm}")
    return algorithm


def _check_timestamp(raw: str, now: float) -> None:
    if not raw.strip().isdigit():
        raise Unauthorized("Missing required parameter - timestamp")
    age = now - int(raw)
    if age > MAX_AGE_SECONDS:
        raise Unauthorized(f"Stale request - reported time is {raw} which is more than 1 hour ago")
    if age < -MAX_AGE_SECONDS:
        raise Unauthorized(f"Invalid timestamp {raw}: more than 1 hour in the future")
