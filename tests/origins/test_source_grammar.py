"""The URL grammar's share of sources: fetch URLs (with their `//`) and `d_`."""

from __future__ import annotations

import pytest

from transforms.errors import BadRequest
from transforms.grammar import canonical, parse_url
from transforms.model import Delivery, Length, Step


@pytest.mark.parametrize(
    ("path", "remote", "steps", "version"),
    [
        ("/image/fetch/w_300/https://example.org/cat.jpg", "https://example.org/cat.jpg",
         (Step(width=Length(300)),), None),
        ("/image/fetch/w_300/https%3A%2F%2Fexample.org%2Fcat.jpg", "https://example.org/cat.jpg",
         (Step(width=Length(300)),), None),
        ("/image/fetch/https:%2F%2Fexample.org%2Fa%20b.jpg", "https://example.org/a b.jpg", (),
         None),
        ("/demo/image/fetch/v12/http://example.org:8080/a//b.png", "http://example.org:8080/a//b.png",
         (), 12),
        ("/image/fetch/s--hH_YcbiS--/v1234/http://google.com/path/to/image.png",
         "http://google.com/path/to/image.png", (), 1234),
    ],
)  # fmt: skip
def test_fetch_urls(path: str, remote: str, steps: tuple[Step, ...], version: int | None) -> None:
    t = parse_url(path)
    assert t.delivery is Delivery.FETCH
    assert (t.public_id, t.steps, t.version, t.extension) == (remote, steps, version, None)


def test_fetch_round_trips_through_canonical() -> None:
    t = parse_url("/image/fetch/c_fill,w_30,h_20/https://example.org/x/cat.jpg")
    assert canonical(t) == "/image/fetch/c_fill,h_20,w_30/https://example.org/x/cat.jpg"
    assert parse_url(canonical(t)) == t


def test_signed_part_of_a_fetch_url_keeps_its_slashes() -> None:
    t = parse_url("/image/fetch/s--hH_YcbiS--/v1234/http://google.com/path/to/image.png")
    assert t.signed_part == "v1234/http://google.com/path/to/image.png"


@pytest.mark.parametrize(
    "path",
    [
        "/w_10//x.jpg",  # upload: // is always an empty component
        "/image/upload/https://example.org/x.jpg",
        "/image//fetch/https://example.org/x.jpg",
        "/image/fetch/w_10//https://example.org/x.jpg",  # before the URL starts
    ],
)
def test_empty_components_outside_a_fetched_url_are_400(path: str) -> None:
    with pytest.raises(BadRequest, match="empty path component"):
        parse_url(path)


def test_default_image_is_kept_as_written_and_round_trips() -> None:
    t = parse_url("/w_100,d_docs:avatar.png/missing.jpg")
    assert t.default_image == "docs:avatar.png"
    assert canonical(t) == "/image/upload/d_docs:avatar.png,w_100/missing.jpg"
    assert parse_url(canonical(t)) == t


def test_the_last_default_image_wins() -> None:
    assert parse_url("/d_a.png/w_10,d_b.png/x.jpg").default_image == "b.png"
