"""The images bench/peers.py serves: the 4000x3000 benchmark JPEG, a 1280x720 photo with
two faces, and byte-distinct copies of it for face crops that must detect every time.

    large.jpg      bench/make_source.py's photo (4000x3000, Q90, 4:2:0): ops a, b, c
    zidane.jpg     ultralytics' sample asset (1280x720, two faces): op d
    zc/z<N>.jpg    zidane.jpg with a distinct JPEG comment each: op d, cold detection
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import make_source

FACES_ASSET = "ultralytics/assets/zidane.jpg"


def build(images: Path, copies: int) -> None:
    """Make whatever of the corpus is missing under `images` (idempotent)."""
    images.mkdir(parents=True, exist_ok=True)
    large = images / "large.jpg"
    if not make_source.existing_output_ok(large):
        work = images.parent / "debs"
        make_source.build(make_source.extract_photo(work), large)
    faces = images / "zidane.jpg"
    if not faces.exists():
        faces.write_bytes(faces_photo())
    write_copies(faces.read_bytes(), images / "zc", copies)


def faces_photo() -> bytes:
    """zidane.jpg from the installed ultralytics package, else from its wheel on PyPI."""
    spec = importlib.util.find_spec("ultralytics")
    if spec is not None and spec.origin is not None:
        installed = Path(spec.origin).parent.parent / FACES_ASSET
        if installed.exists():
            return installed.read_bytes()
    with tempfile.TemporaryDirectory() as work:
        command = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
                   "ultralytics", "-d", work]  # fmt: skip
        subprocess.run(command, check=True)
        wheel = next(Path(work).glob("ultralytics-*.whl"))
        with zipfile.ZipFile(wheel) as archive:
            return archive.read(FACES_ASSET)


def write_copies(jpeg: bytes, folder: Path, copies: int) -> None:
    """`copies` files z<N>.jpg, each `jpeg` with its own comment segment after SOI."""
    folder.mkdir(exist_ok=True)
    for index in range(copies):
        path = folder / f"z{index}.jpg"
        if path.exists():
            continue
        comment = f"pixcast bench copy {index}".encode()
        segment = b"\xff\xfe" + (len(comment) + 2).to_bytes(2, "big") + comment
        partial = path.with_suffix(".partial")
        partial.write_bytes(jpeg[:2] + segment + jpeg[2:])
        partial.replace(path)
