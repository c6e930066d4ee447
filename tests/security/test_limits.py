"""How much may be asked: every limit answers its own clear 4xx (or 504), cheaply."""

from __future__ import annotations

import resource
import struct
import time
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import diskcache
import pytest
import pyvips
from starlette.testclient import TestClient

from server.app import create_app
from tests.origins.helpers import gradient, jpeg, make_settings
from transforms import pipeline
from transforms.errors import GatewayTimeout, PayloadTooLarge
from transforms.grammar import parse_url
from transforms.limits import check_deadline, deadline
from transforms.model import Limits


def bomb_png(width: int = 30000, height: int = 30000) -> bytes:
    """A valid 1-bit PNG of `width`x`height` zeros: about 110 KB for 900 megapixels."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    packer = zlib.compressobj(9)
    row = b"\0" * (1 + (width + 7) // 8)
    body = b"".join(packer.compress(row) for _ in range(height)) + packer.flush()
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", body) + chunk(b"IEND", b"")
    )


def animated_gif(frames: int, side: int) -> bytes:
    strip = gradient(side, side * frames).copy()
    strip.set_type(pyvips.GValue.gint_type, "page-height", side)
    return bytes(strip.gifsave_buffer())


def app_client(tmp_path: Path, **overrides: Any) -> TestClient:
    settings = make_settings(tmp_path, **overrides)
    (settings.originals / "camera.jpg").write_bytes(jpeg(400, 300))
    return TestClient(create_app(settings))


def result_cache_size(tmp_path: Path) -> int:
    with diskcache.Cache(str(tmp_path / "cache" / "results")) as store:
        return sum(1 for key in store if isinstance(key, str) and len(key) == 64)


LIMITS: list[tuple[dict[str, Any], str, int, str]] = [
    ({"max_source_megapixels": 0.1}, "/w_10/camera.jpg", 413,
     "The original has 0.1 megapixels (the limit is 0.1)"),
    ({"max_source_bytes": 2048}, "/w_10/camera.jpg", 413, "The original is"),
    ({"max_output_side": 200}, "/w_300/camera.jpg", 400,
     "Requested size 300x225 is larger than the limit of 200 pixels per side"),
    ({"max_output_side": 200}, "/c_pad,w_100,h_201/camera.jpg", 400, "Requested size 100x201"),
    ({"max_dpr": 2.0}, "/w_10,dpr_3.0/camera.jpg", 400,
     "Invalid dpr in transformation: 3 (at most 2)"),
    ({"max_components": 2}, "/w_100/w_50/w_20/camera.jpg", 400,
     "Too many chained transformations: 3 components (at most 2"),
    ({"max_components": 2, "named_transformations": {"three": "w_90/w_80/w_70"}},
     "/t_three/camera.jpg", 400, "Too many chained transformations: 3 components"),
    ({}, "/e_blur:2001/camera.jpg", 400, "Invalid"),
    ({}, "/e_sepia:101/camera.jpg", 400, "Invalid"),
    ({}, "/e_brightness:-100/camera.jpg", 400, "Invalid"),
]  # fmt: skip


@pytest.mark.parametrize(("settings", "path", "status", "message"), LIMITS)
def test_each_limit_answers_its_status(
    tmp_path: Path, settings: dict[str, Any], path: str, status: int, message: str
) -> None:
    with app_client(tmp_path, **settings) as client:
        response = client.get(path)
    assert response.status_code == status, response.text
    assert response.headers["x-cld-error"].startswith(message)
    assert result_cache_size(tmp_path) == 0


def test_limits_leave_ordinary_requests_alone(tmp_path: Path) -> None:
    settings = {"max_output_side": 300, "max_dpr": 2.0, "max_components": 2}
    with app_client(tmp_path, **settings) as client:
        assert client.get("/w_150,dpr_2.0/w_100/camera.jpg").status_code == 200


def test_a_decompression_bomb_is_refused_in_milliseconds(tmp_path: Path) -> None:
    """A 110 KB PNG that declares 30000x30000 (900 MP): refused from its header."""
    data = bomb_png()
    assert len(data) < 200_000
    with app_client(tmp_path) as client:
        (tmp_path / "originals" / "bomb.png").write_bytes(data)
        client.get("/w_10/camera.jpg")  # warm up the app, so only the refusal is timed
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        started = time.perf_counter()
        response = client.get("/w_100/bomb.png")
        took = time.perf_counter() - started
        rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    assert response.status_code == 413
    assert response.headers["x-cld-error"] == (
        "The original has 900.0 megapixels (the limit is 50)"
    )
    assert took < 0.1
    assert rss_after - rss_before < 100 * 1024  # KiB: nothing near 900 MB was decoded


def test_the_render_refuses_the_bomb_before_decoding() -> None:
    data = bomb_png()
    started = time.perf_counter()
    with pytest.raises(PayloadTooLarge):
        pipeline.render(parse_url("/w_100/bomb.png"), data, None)
    assert time.perf_counter() - started < 0.1


def test_frames_of_an_animation_count(tmp_path: Path) -> None:
    """Ten 100x100 frames are 0.1 MP: over a 0.05 MP limit, though one frame is not."""
    with app_client(tmp_path, max_source_megapixels=0.05) as client:
        (tmp_path / "originals" / "spin.gif").write_bytes(animated_gif(10, 100))
        (tmp_path / "originals" / "still.gif").write_bytes(animated_gif(1, 100))
        spin = client.get("/w_50/spin.gif")
        still = client.get("/w_50/still.gif")
    assert spin.status_code == 413
    assert spin.headers["x-cld-error"].startswith("The original has 0.1 megapixels")
    assert still.status_code == 200


def test_the_request_deadline_is_504(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def slow(*args: object) -> object:
        time.sleep(1.0)  # bounded: the thread ends on its own after the response
        raise AssertionError("the response must not wait for this")

    monkeypatch.setattr(pipeline, "render", slow)
    with app_client(tmp_path, request_timeout=0.2) as client:
        started = time.perf_counter()
        response = client.get("/w_10/camera.jpg")
        took = time.perf_counter() - started
    assert response.status_code == 504
    assert response.headers["x-cld-error"] == (
        "The request took longer than 0.2 seconds (request_timeout)"
    )
    assert response.headers["cache-control"] == "no-store"
    assert took < 0.8


def test_a_render_past_its_deadline_stops_between_steps() -> None:
    t = parse_url("/w_100/w_50/camera.jpg")
    with deadline(0.0):
        time.sleep(0.01)
        with pytest.raises(GatewayTimeout):
            check_deadline()
        with pytest.raises(GatewayTimeout):
            pipeline.render(t, jpeg(), None, Limits())
    check_deadline()  # outside the scope, no deadline
    assert pipeline.render(t, jpeg(), None, Limits()).width == 50


def test_nested_deadlines_keep_the_earlier_one() -> None:
    with deadline(0.0), deadline(60.0):
        time.sleep(0.01)
        with pytest.raises(GatewayTimeout):
            check_deadline()


def _truncated(data: bytes) -> bytes:
    return data[: len(data) // 2]


def _corrupt(data: bytes) -> bytes:
    middle = len(data) // 3
    return (
        data[:middle] + bytes(b ^ 0x5A for b in data[middle : middle + 200]) + data[middle + 200 :]
    )


FORMATS: dict[str, Callable[[pyvips.Image], bytes]] = {
    "jpg": lambda image: bytes(image.jpegsave_buffer()),
    "png": lambda image: bytes(image.pngsave_buffer()),
    "webp": lambda image: bytes(image.webpsave_buffer()),
    "gif": lambda image: bytes(image.gifsave_buffer()),
    "tiff": lambda image: bytes(image.tiffsave_buffer(compression="deflate")),
    "avif": lambda image: bytes(image.heifsave_buffer(compression="av1")),
}


@pytest.mark.parametrize("damage", [_truncated, _corrupt])
def test_damaged_images_of_every_format_are_4xx_and_not_cached(
    tmp_path: Path, damage: Callable[[bytes], bytes]
) -> None:
    """Damage the decoder notices is a 4xx; damage it cannot see (flipped bits inside
    compressed data) may decode as noise, which is a 200. Never a 500, and only the 200s
    are in the cache."""
    statuses: dict[str, int] = {}
    with app_client(tmp_path) as client:
        for extension, save in FORMATS.items():
            broken = damage(save(gradient(300, 200)))
            (tmp_path / "originals" / f"broken-{extension}.{extension}").write_bytes(broken)
            response = client.get(f"/w_50/broken-{extension}.png")
            statuses[extension] = response.status_code
            assert response.status_code in (200, 413, 415, 422), (extension, response.text)
            assert response.status_code == 200 or response.headers["x-cld-error"]
    if damage is _truncated:
        assert set(statuses.values()) <= {415, 422}, statuses
    assert result_cache_size(tmp_path) == list(statuses.values()).count(200)
