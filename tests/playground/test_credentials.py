"""With an api_secret set, the playground's signing and uploads need HTTP Basic
api_key:api_secret: an anonymous visitor can neither sign a URL nor upload (issue 12)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from starlette.testclient import TestClient

from server.app import create_app
from server.settings import Settings, SettingsError

SIGN = "/playground/api/sign"
UPLOAD = "/playground/api/uploads"
PATH = {"path": "/image/upload/w_10/astronaut.jpg"}


@pytest.fixture
def guarded(make_settings: Callable[..., Settings]) -> Iterator[TestClient]:
    settings = make_settings(api_secret=("s-new", "s-old"), api_key=("k-new", "k-old"))
    with TestClient(create_app(settings)) as client:
        yield client


@pytest.mark.parametrize(
    ("auth", "reason"),
    [
        (None, "Missing credentials"),
        (("k-new", "wrong"), "Invalid credentials"),
        (("nobody", "s-new"), "Invalid credentials"),
        (("k-new", "s-old"), "Invalid credentials"),  # a pair, not any key with any secret
    ],
)
def test_signing_and_uploads_refuse_without_the_pair(
    guarded: TestClient, auth: tuple[str, str] | None, reason: str
) -> None:
    signed = guarded.get(SIGN, params=PATH, auth=auth)
    assert signed.status_code == 401 and reason in signed.json()["error"]
    assert reason in signed.headers["x-cld-error"]
    # No WWW-Authenticate: the page asks itself instead of the browser's own dialog.
    assert "www-authenticate" not in signed.headers
    uploaded = guarded.post(UPLOAD, params={"name": "a.png"}, content=b"x" * 100, auth=auth)
    assert uploaded.status_code == 401 and reason in uploaded.json()["error"]


def test_every_configured_pair_signs(guarded: TestClient) -> None:
    for pair in (("k-new", "s-new"), ("k-old", "s-old")):
        answer = guarded.get(SIGN, params=PATH, auth=pair)
        assert answer.status_code == 200 and answer.json()["path"].startswith("/image/upload/s--")


def test_a_malformed_authorization_header_is_401(guarded: TestClient) -> None:
    for header in ("Bearer abc", "Basic !!!", "Basic a2V5"):  # the last has no colon
        answer = guarded.get(SIGN, params=PATH, headers={"authorization": header})
        assert answer.status_code == 401, header


def test_a_secret_without_a_key_signs_for_no_one(make_settings: Callable[..., Settings]) -> None:
    with TestClient(create_app(make_settings(api_secret=("s",)))) as client:
        answer = client.get(SIGN, params=PATH, auth=("", "s"))
        assert answer.status_code == 401 and "no api_key" in answer.json()["error"]


def test_keys_and_secrets_must_pair(make_settings: Callable[..., Settings]) -> None:
    with pytest.raises(SettingsError, match="api_key has 2 entries but api_secret has 1"):
        make_settings(api_secret=("s",), api_key=("a", "b"))
