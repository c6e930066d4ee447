"""A default install is ready: a detector is on when the operator asked for it or when its
default model is there, and /readyz fails only for what was asked for and cannot load.

The story: `pixcast serve` with no settings answered /readyz 503 forever, because the
default `detectors` includes `objects`, whose default model (yolo11n.pt) is not shipped;
in Kubernetes such a pod never takes traffic.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from starlette.testclient import TestClient

from server.app import create_app
from server.detections import required_detectors
from server.nativelog import is_native
from server.settings import Settings, load_settings
from tests.hardening.conftest import REPO
from tests.load.serving import Server, free_port, wait_until_healthy

FACE_URL = "/c_thumb,g_face,w_100,h_100/astronaut.jpg"
TEXT_URL = "/c_crop,g_ocr_text,w_100,h_100/astronaut.jpg"
# pixcast's own lines (server.workers.LOG_FORMAT), uvicorn's, and the access log's.
OWN_LINE = re.compile(
    r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ [A-Z]+ [\w.]+: |INFO: {5}|127\.0\.0\.1 )"
)


def bare_serve(tmp_path: Path) -> Server:
    """`pixcast serve` as a new user runs it: no flags but the port, no PIXCAST_* variables,
    in a directory holding the sample images and the models set-up fetched."""
    (tmp_path / "examples").mkdir()
    (tmp_path / "examples" / "images").symlink_to(REPO / "examples" / "images")
    (tmp_path / "models").symlink_to(REPO / "models")
    port = free_port()
    command = [str(Path(sys.executable).parent / "pixcast"), "serve", "--port", str(port)]
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIXCAST_")}
    log = tmp_path / "serve.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            command, cwd=tmp_path, stdout=output, stderr=subprocess.STDOUT, env=env
        )
    server = Server(process, port, log)
    wait_until_healthy(server)
    return server


def test_bare_serve_is_ready_and_logs_one_line_per_event(tmp_path: Path) -> None:
    server = bare_serve(tmp_path)
    try:
        ready = httpx.get(server.base + "/readyz", timeout=30)
        face = httpx.get(server.base + FACE_URL, timeout=30)
        text = httpx.get(server.base + TEXT_URL, timeout=30)
    finally:
        assert server.stop() in (0, -15)
    assert ready.status_code == 200, ready.text
    assert ready.json() == {
        "ready": True,
        "checks": {"models": "ok", "cache": "ok", "originals": "ok"},
    }
    assert face.status_code == 200  # the default face model is there, so faces are on
    assert text.status_code == 200, text.text  # text is on by default: its models are fetched
    lines = [line for line in server.output().splitlines() if line.strip()]
    assert not [line for line in lines if is_native(line)], "mediapipe's native lines leaked"
    assert all(OWN_LINE.match(line) for line in lines), server.output()
    off = [line for line in lines if "objects detector is not available" in line]
    assert len(off) == 1 and " INFO pixcast.detectors: " in off[0]


def settings_from(tmp_path: Path, originals: Path, **environ: str) -> Settings:
    base = {"PIXCAST_ORIGINALS": str(originals), "PIXCAST_CACHE_DIR": str(tmp_path / "cache")}
    return load_settings({}, base | environ)


@pytest.mark.parametrize(
    ("environ", "required"),
    [
        ({}, set()),
        ({"PIXCAST_DETECTORS": "faces,objects,saliency"}, {"faces", "objects", "saliency"}),
        ({"PIXCAST_DETECTORS": "saliency"}, {"saliency"}),
        ({"PIXCAST_OBJECT_MODEL": "mine.onnx"}, {"objects"}),
        ({"PIXCAST_FACE_MODEL": "mine.tflite"}, {"faces"}),
        ({"PIXCAST_MODELS_DIR": "/nowhere"}, set()),
    ],
)
def test_what_counts_as_asked_for(
    tmp_path: Path, originals: Path, environ: dict[str, str], required: set[str]
) -> None:
    assert required_detectors(settings_from(tmp_path, originals, **environ)) == required


def test_settings_built_in_code_count_values_off_their_default(originals: Path) -> None:
    assert required_detectors(Settings(originals=originals)) == set()
    assert required_detectors(Settings(originals=originals, detectors="objects")) == {"objects"}


def test_an_asked_for_model_that_cannot_load_fails_readiness_and_is_named(
    tmp_path: Path, originals: Path
) -> None:
    empty = tmp_path / "no-models"
    empty.mkdir()
    settings = settings_from(
        tmp_path, originals, PIXCAST_MODELS_DIR=str(empty), PIXCAST_OBJECT_MODEL="mine.onnx"
    )
    with TestClient(create_app(settings)) as client:
        response = client.get("/readyz")
    assert response.status_code == 503
    models = response.json()["checks"]["models"]
    assert "objects" in models and "mine.onnx" in models
    assert "faces" not in models  # off too (no model in the empty dir), but not asked for


def test_default_detectors_without_their_models_are_off_not_unready(
    tmp_path: Path, originals: Path
) -> None:
    empty = tmp_path / "no-models"
    empty.mkdir()
    settings = settings_from(tmp_path, originals, PIXCAST_MODELS_DIR=str(empty))
    with TestClient(create_app(settings)) as client:
        ready = client.get("/readyz")
        face = client.get("/c_thumb,g_face,w_50,h_50/camera.jpg")
    assert ready.status_code == 200
    # A URL that needs the detector still gets the reason it is off.
    assert face.status_code == 400 and "faces detector" in face.headers["x-cld-error"]
