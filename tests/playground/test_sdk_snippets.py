"""The official Cloudinary SDKs pointed at pixcast (examples/sdk/): their URLs are served.

The Python SDK runs here for real. The JavaScript SDK's URLs below are what
`node examples/sdk/url-gen.mjs http://testserver` printed with @cloudinary/url-gen 1.22.0
(the version examples/sdk/package.json pins); running node is not part of this suite.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable, Iterator
from types import ModuleType

import cloudinary
import pytest
import pyvips
from starlette.testclient import TestClient

from server.app import create_app
from server.settings import Settings
from tests.playground.conftest import IMAGES, REPO

URL_GEN = {
    "http://testserver/demo/image/upload/c_thumb,g_face,h_200,w_200/r_max/f_png/astronaut": (
        200, 200, "image/png"),
    "http://testserver/demo/image/upload/ar_16:9,c_fill,w_1200/q_auto/f_auto/sample": (
        1200, 675, "image/avif"),
    "http://testserver/demo/image/upload/c_fill,h_300,w_400/e_sepia:60/dogs.jpg": (
        400, 300, "image/jpeg"),
    "http://testserver/demo/image/upload/c_scale,w_300/fig": (300, 203, "image/jpeg"),
}  # fmt: skip


@pytest.fixture
def samples(make_settings: Callable[..., Settings]) -> Iterator[TestClient]:
    with TestClient(create_app(make_settings(originals=IMAGES))) as client:
        yield client


@pytest.fixture
def snippet() -> Iterator[ModuleType]:
    path = REPO / "examples" / "sdk" / "python_cloudinary.py"
    spec = importlib.util.spec_from_file_location("python_cloudinary", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    yield module
    cloudinary.reset_config()


def fetch(client: TestClient, url: str) -> tuple[int, int, str]:
    response = client.get(url, headers={"accept": "image/avif,image/webp,*/*"})
    assert response.status_code == 200, (url, response.headers.get("x-cld-error"))
    image = pyvips.Image.new_from_buffer(response.content, "")
    return image.width, image.height, response.headers["content-type"]


def test_python_sdk_urls_are_served(samples: TestClient, snippet: ModuleType) -> None:
    snippet.configure("http://testserver")
    urls = snippet.examples()
    assert urls["face thumbnail"] == (
        "http://testserver/demo/image/upload/c_thumb,g_face,h_200,w_200/r_max/astronaut.png"
    )
    assert fetch(samples, urls["face thumbnail"]) == (200, 200, "image/png")
    assert fetch(samples, urls["responsive hero"]) == (1200, 675, "image/avif")
    assert fetch(samples, urls["sepia card"]) == (400, 300, "image/jpeg")
    assert fetch(samples, urls["retina logo"]) == (128, 128, "image/png")
    tag = urls["img tag"]
    src = tag.split('src="')[1].split('"')[0]
    assert fetch(samples, src) == (300, 203, "image/jpeg")


def test_python_sdk_https_configuration(snippet: ModuleType) -> None:
    snippet.configure("https://img.example.com")
    assert snippet.examples()["sepia card"] == (
        "https://img.example.com/demo/image/upload/c_fill,e_sepia:60,h_300,w_400/dogs.jpg"
    )


@pytest.mark.parametrize(("url", "expected"), URL_GEN.items())
def test_javascript_sdk_urls_are_served(
    samples: TestClient, url: str, expected: tuple[int, int, str]
) -> None:
    assert fetch(samples, url) == expected
