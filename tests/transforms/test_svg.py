"""SVG originals: recognised from their markup, read and rasterised at `dn_`, refused
from their declared size, never reading anything outside themselves."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import pytest
import pyvips

from transforms import pipeline
from transforms.errors import PayloadTooLarge, Unprocessable
from transforms.formats import sniff
from transforms.grammar import parse_url
from transforms.steps import load

LOGO = (
    b'<svg xmlns="http://www.w3.org/2000/svg" width="40" height="20">'
    b'<rect width="20" height="20" fill="#f00"/></svg>'
)
HUGE = b'<svg xmlns="http://www.w3.org/2000/svg" width="100000" height="100000"/>'


@pytest.mark.parametrize(
    ("data", "found"),
    [
        (LOGO, "svg"),
        (b'\xef\xbb\xbf\n <?xml version="1.0"?>\n<!-- made by hand -->\n' + LOGO, "svg"),
        (b'<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" "svg11.dtd">' + LOGO, "svg"),
        (b"<html><body>" + LOGO, None),
        (b"<svgfont/>", None),
        (b"plain text <svg>", None),
    ],
)
def test_svg_is_sniffed_from_its_markup(data: bytes, found: str | None) -> None:
    assert sniff(data) == found


def render(url: str, source: bytes) -> pyvips.Image:
    rendered = pipeline.render(parse_url(url), source, None)
    return pyvips.Image.new_from_buffer(rendered.data, "")


def test_density_scales_the_rasterised_size() -> None:
    assert (render("/f_png/logo.svg", LOGO).width, render("/f_png/logo", LOGO).height) == (40, 20)
    doubled = render("/dn_144,f_png/logo.svg", LOGO)
    assert (doubled.width, doubled.height) == (80, 40)


def test_a_transformed_svg_is_a_transparent_png() -> None:
    rendered = pipeline.render(parse_url("/c_crop,w_30,h_20,g_west/logo.svg"), LOGO, None)
    assert rendered.media_type == "image/png"
    image = pyvips.Image.new_from_buffer(rendered.data, "")
    assert (image.width, image.height, image.bands) == (30, 20, 4)
    assert image.getpoint(5, 5) == [255, 0, 0, 255]
    assert image.getpoint(25, 5)[3] == 0  # outside the rectangle: transparent


def test_a_huge_declared_size_is_refused_before_any_rasterising(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    decoded: list[Any] = []
    monkeypatch.setattr(load, "load", lambda *args, **kwargs: decoded.append(args))
    with pytest.raises(PayloadTooLarge, match=r"10000\.0 megapixels"):
        pipeline.render(parse_url("/w_100/huge.svg"), HUGE, None)
    assert decoded == []


def test_malformed_svg_is_unprocessable() -> None:
    with pytest.raises(Unprocessable):
        pipeline.render(parse_url("/w_10/bad.svg"), LOGO[:60], None)


class Recorder(http.server.BaseHTTPRequestHandler):
    requests: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        Recorder.requests.append(self.path)
        self.send_response(404)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def loopback() -> Iterator[int]:
    server = http.server.HTTPServer(("127.0.0.1", 0), Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def test_an_svg_fetches_and_reads_nothing_outside_itself(loopback: int, tmp_path: Path) -> None:
    green = tmp_path / "green.png"
    pyvips.Image.black(10, 10).new_from_image([0, 255, 0]).write_to_file(str(green))
    svg = (
        f'<svg xmlns="http://www.w3.org/2000/svg" '
        f'xmlns:xlink="http://www.w3.org/1999/xlink" width="10" height="10">'
        f'<image href="http://127.0.0.1:{loopback}/x.png" width="10" height="10"/>'
        f'<image xlink:href="file://{green}" width="10" height="10"/>'
        f'<image href="file:///etc/passwd" width="10" height="10"/></svg>'
    ).encode()
    Recorder.requests.clear()
    image = render("/f_png/remote.svg", svg)
    assert Recorder.requests == []
    assert image.getpoint(5, 5)[-1] == 0  # the local PNG was not drawn: nothing is there
    # The control: the same markup opened from a file (with a base location) draws it.
    (tmp_path / "art.svg").write_bytes(svg)
    assert pyvips.Image.new_from_file(str(tmp_path / "art.svg")).getpoint(5, 5)[1] == 255
