"""The URL forms the SDKs write besides the long form: `/images/` SEO suffixes, `/iu/`,
the root path; and delivery types pixcast cannot serve, each a 400 that says why."""

from __future__ import annotations

import pytest
import pyvips
from starlette.testclient import TestClient

from transforms.grammar import canonical, parse_url


@pytest.mark.parametrize(
    ("url", "long"),
    [
        ("/demo/images/c_fill,w_300/v1/docs/sample/my-seo-name.jpg",
         "/image/upload/c_fill,w_300/v1/docs/sample.jpg"),
        ("/images/w_10/sample/nice-name.png", "/image/upload/w_10/sample.png"),
        ("/demo/iu/w_300/sample.jpg", "/image/upload/w_300/sample.jpg"),
        ("/iu/sample.jpg", "/image/upload/sample.jpg"),
        ("/demo/c_fill,w_300/sample.jpg", "/image/upload/c_fill,w_300/sample.jpg"),
        ("/demo/v12/folder/x.jpg", "/image/upload/v12/folder/x.jpg"),
        ("/folder/x.jpg", "/image/upload/folder/x.jpg"),
        ("/video/cats/x.jpg", "/image/upload/video/cats/x.jpg"),
        ("/raw/x.jpg", "/image/upload/raw/x.jpg"),
    ],
)  # fmt: skip
def test_forms_read_as_the_long_form(url: str, long: str) -> None:
    assert canonical(parse_url(url)) == long


def test_seo_suffix_is_not_part_of_the_signed_string() -> None:
    # pycloudinary signs `<transformation>/<public_id>.<ext>`, without the SEO name.
    t = parse_url("/demo/images/s--abcdefgh--/w_300/docs/sample/nice.jpg")
    assert t.signed_part == "w_300/docs/sample.jpg"


@pytest.mark.parametrize(
    "url",
    [
        "/demo/images/w_200/camera/a-nice-camera.jpg",
        "/images/w_200/camera/a-nice-camera.jpg",
        "/demo/iu/w_200/camera.jpg",
        "/demo/w_200/camera.jpg",
    ],
)
def test_forms_deliver(client: TestClient, url: str) -> None:
    response = client.get(url)
    assert response.status_code == 200, response.headers.get("x-cld-error")
    assert pyvips.Image.new_from_buffer(response.content, "").width == 200


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("/demo/image/facebook/w_100/65646572251.jpg", "social profile pictures"),
        ("/image/youtube/dQw4w9WgXcQ.jpg", "video thumbnails"),
        ("/demo/video/upload/w_100/dog.mp4", "video assets are not supported"),
        ("/images/camera.jpg", "<public_id>/<seo-name>.<ext>"),
        ("/l_video:dog/camera.jpg", "video layers are not supported"),
    ],
)
def test_what_pixcast_cannot_serve_says_why(client: TestClient, url: str, reason: str) -> None:
    response = client.get(url)
    assert response.status_code == 400
    assert reason in response.headers["x-cld-error"]
