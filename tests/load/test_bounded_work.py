"""Expensive outputs are bounded: GIF and animated renders have a pixel budget (frames x
width x height, a 400 naming it), and a render whose deadline passes is killed inside
libvips, so its 504 gives the render thread back at once."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import pyvips
from starlette.testclient import TestClient

from server.app import create_app
from server.settings import Settings
from tests.load.conftest import gradient, metric
from transforms import pipeline
from transforms.errors import BadRequest, GatewayTimeout
from transforms.grammar import parse_url
from transforms.limits import deadline
from transforms.model import Limits


def gif(width: int, height: int, frames: int = 1) -> bytes:
    strip = gradient(width, height * frames).copy()
    if frames > 1:
        strip.set_type(pyvips.GValue.gint_type, "page-height", height)
    return bytes(strip.gifsave_buffer())


@pytest.fixture
def gifs(originals: Path) -> Path:
    (originals / "still.gif").write_bytes(gif(640, 480))
    (originals / "spin.gif").write_bytes(gif(100, 100, frames=10))
    return originals


def test_an_upscaled_gif_is_refused_before_it_is_computed(
    make_settings: Callable[..., Settings], gifs: Path
) -> None:
    with TestClient(create_app(make_settings())) as client:
        refused = client.get("/h_4000/still.gif")
        kept = client.get("/h_400/still.gif")
        as_jpeg = client.get("/h_1500/still.jpg")
    assert refused.status_code == 400
    assert refused.headers["x-cld-error"] == (
        "A GIF render of 5333x4000 = 21.3 megapixels is over the limit for GIF and "
        "animated outputs (4 megapixels, max_animation_megapixels)"
    )
    assert (kept.status_code, kept.headers["content-type"]) == (200, "image/gif")
    assert (as_jpeg.status_code, as_jpeg.headers["content-type"]) == (200, "image/jpeg")


def test_every_frame_of_an_animation_counts(
    make_settings: Callable[..., Settings], gifs: Path
) -> None:
    """Ten 300x300 frames are 0.9 MP: over a 0.5 MP budget, though one frame is not."""
    with TestClient(create_app(make_settings(max_animation_megapixels=0.5))) as client:
        animated = client.get("/w_300/spin.gif")
        one_frame = client.get("/w_300,pg_2/spin.gif")
        first_frame_jpeg = client.get("/w_300/spin.jpg")
    assert animated.status_code == 400
    assert animated.headers["x-cld-error"].startswith(
        "A GIF render of 300x300 x 10 frames = 0.9 megapixels is over the limit"
    )
    assert one_frame.status_code == 200
    assert first_frame_jpeg.status_code == 200


def test_an_animated_webp_output_counts_too() -> None:
    source = gif(100, 100, frames=10)
    limits = Limits(max_animation_pixels=500_000)
    with pytest.raises(BadRequest, match="A WEBP render of 300x300 x 10 frames"):
        pipeline.render(parse_url("/w_300,f_webp/spin.gif"), source, None, limits)
    still = pipeline.render(parse_url("/w_300,f_webp,pg_1/spin.gif"), source, None, limits)
    assert (still.format, still.width, still.height) == ("webp", 300, 300)


# One step (no check between steps) that takes over ten seconds of CPU: a blur of sigma 40
# on 8000x6000. Only a kill inside libvips ends it at the deadline.
ENDLESS = "/w_8000,e_blur:2000/camera.jpg"


def test_a_render_past_its_deadline_is_killed() -> None:
    source = bytes(gradient(400, 300).jpegsave_buffer())
    with pytest.raises(GatewayTimeout, match="stopped"), deadline(0.5):
        pipeline.render(parse_url(ENDLESS), source, None)  # without the kill, it renders


def test_a_deadline_frees_the_render_thread(make_settings: Callable[..., Settings]) -> None:
    """With one render thread, a request after a timed-out one gets the thread (the
    timed-out render would otherwise hold it for minutes, and this one would time out)."""
    settings = make_settings(render_threads=1, request_timeout=3)
    with TestClient(create_app(settings)) as client:
        timed_out = client.get(ENDLESS)
        after = client.get("/w_50/other.jpg")
        text = client.get("/metrics").text
    assert timed_out.status_code == 504
    assert after.status_code == 200
    assert metric(text, "pixcast_renders_running") == 0
