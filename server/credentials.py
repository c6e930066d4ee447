"""The operator's API credentials: `api_key`/`api_secret` pairs, checked as HTTP Basic
`api_key:api_secret` by the playground's signing and uploads and by the admin API, and
looked up by key for signed upload API calls. Every comparison runs in constant time.
"""

from __future__ import annotations

import base64
import binascii
import hmac
from dataclasses import dataclass

from server.settings import Settings
from transforms.errors import Unauthorized

REALM = 'Basic realm="pixcast", charset="UTF-8"'


@dataclass(frozen=True, repr=False)
class Credentials:
    """The configured pairs, current first; empty when the server has no api_secret."""

    pairs: tuple[tuple[str, str], ...]

    @classmethod
    def of(cls, settings: Settings) -> Credentials:
        return cls(tuple(zip(settings.api_key, settings.api_secret, strict=False)))

    @property
    def enabled(self) -> bool:
        return bool(self.pairs)

    def secret_for(self, api_key: str) -> str | None:
        """The secret that pairs with `api_key`, or None for an unknown key."""
        found = None
        for key, secret in self.pairs:
            if hmac.compare_digest(key.encode(), api_key.encode()):
                found = secret
        return found

    def check_basic(self, authorization: str | None) -> None:
        """Return when the header carries a configured pair; 401 (naming why) otherwise."""
        if not self.pairs:
            raise Unauthorized("This server has no api_key/api_secret pair to check credentials")
        if not authorization:
            raise Unauthorized("Missing credentials: send HTTP Basic api_key:api_secret")
        api_key, api_secret = _basic_pair(authorization)
        secret = self.secret_for(api_key)
        matched = hmac.compare_digest((secret or "\0").encode(), api_secret.encode())
        if secret is None or not matched:
            raise Unauthorized("Invalid credentials: unknown api_key or wrong api_secret")


def _basic_pair(authorization: str) -> tuple[str, str]:
    scheme, _, encoded = authorization.strip().partition(" ")
    if scheme.lower() != "basic":
        raise Unauthorized("Invalid credentials: expected HTTP Basic api_key:api_secret")
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise Unauthorized("Invalid credentials: the Basic value is not base64 text") from None
    api_key, colon, api_secret = decoded.partition(":")
    if not colon:
        raise Unauthorized("Invalid credentials: expected api_key:api_secret")
    return api_key, api_secret


def challenge() -> dict[str, str]:
    """The WWW-Authenticate header of a 401 that asks for Basic credentials."""
    return {"www-authenticate": REALM}
