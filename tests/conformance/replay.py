"""Replaying the SDK corpus against the app: every URL renders (an image of the right
format, and of the right size where the URL fixes it; JSON for fl_getinfo) or answers one
of the 400s documented in docs/url-api.md ("What pixcast refuses").

`python -m tests.conformance.replay` prints the counts.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from tempfile import TemporaryDirectory
from unittest import mock
from urllib.parse import urlsplit

import httpx
import pyvips
from starlette.testclient import TestClient

from server import remote
from server.app import create_app
from server.settings import Settings
from transforms.errors import PixcastError
from transforms.grammar import parse_url
from transforms.model import LayerKind, Transformation

CORPUS = Path(__file__).with_name("corpus.json")
SOURCE_SIZE = (400, 300)
# The refusals docs/url-api.md documents, by the words their X-Cld-Error carries.
DOCUMENTED = {
    "video or raw asset": r"pixcast delivers images; (video|raw|videos|files) assets",
    "delivery type not served": r"Invalid delivery type: \w+ \(pixcast does not serve",
    "generative AI": r"needs a generative model; pixcast has none",
    "add-on": r"is a Cloudinary add-on pixcast does not have",
    "video layer": r"(video|audio|subtitles|lut) layers are not supported",
    "video-only parameter": r"is a video parameter",
    "breakpoints as JSON": r"does not answer breakpoints as JSON",
    "fc without the face detector": r"fc \(face count\) needs the faces detector",
    "detection gravity without detectors": r"needs detectors",
    "needs a signature": r"needs a signed URL",
    "auth token": r"token",
    "detection without its model": r"the (objects|text) detector is not enabled",
    "text layer without a style": r"expected text:<font>_<size>:<text>",
    "page beyond the image": r"Invalid page in transformation: \d+ \(the image has",
    "unknown flag": r"Invalid flag in transformation: (abc|def) ",
    "unknown named transformation": r"Invalid named transformation: \w+ \(not defined",
    "custom functions": r"custom functions run code pixcast does not run",
    "pixcast cannot do it": r"(pixcast has none|pixcast delivers raster|pixcast delivers sRGB)",
}


@dataclass(frozen=True)
class Outcome:
    url: str
    status: int
    kind: str  # "rendered", a DOCUMENTED key, or "wrong: <why>"


def corpus_urls() -> Iterator[tuple[str, str]]:
    corpus = json.loads(CORPUS.read_text())
    for source, urls in corpus["sources"].items():
        for url in urls:
            yield source, url


def delivery_path(url: str) -> str:
    """`https://res.cloudinary.com/demo/image/upload/...` → `/demo/image/upload/...`."""
    parts = urlsplit(url)
    return parts.path


_PARAMETER_LIKE = re.compile(r"^[a-z]{1,3}_|,")
_FOLDERS = {"private": "private/", "authenticated": "authenticated/"}


def public_ids(paths: list[str]) -> set[str]:
    """Every original and layer image the corpus names, to be written as files. A public
    id whose folder looks like a transformation (`cs_srgb/sample`: an unknown parameter
    read as a folder) gets no file, so it answers 404 and counts as wrong."""
    found: set[str] = set()
    for path in paths:
        try:
            t = parse_url(path)
        except PixcastError:
            continue
        folders = t.public_id.split("/")[:-1]
        if any(_PARAMETER_LIKE.search(f) for f in folders):
            continue
        if not t.public_id.startswith(("http:", "https:")):
            found.add(_FOLDERS.get(t.delivery.value, "") + t.public_id)
        found |= {layer.source for layer in t.layers if layer.kind is LayerKind.IMAGE}
        if t.default_image:
            found.add(t.default_image.replace(":", "/").rpartition(".")[0])
    return found


def _image(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    xyz = pyvips.Image.xyz(*SOURCE_SIZE)
    image = (xyz[0] * 0.6).bandjoin([xyz[1] * 0.8, xyz[0] * 0 + 90]).cast("uchar")
    image.copy(interpretation="srgb").write_to_file(str(path.with_suffix(".jpg")))


def _upstream(request: httpx.Request) -> httpx.Response:
    xyz = pyvips.Image.xyz(*SOURCE_SIZE)
    data = xyz[0].bandjoin([xyz[1], xyz[0]]).cast("uchar").copy(interpretation="srgb")
    body = data.write_to_buffer(".jpg")
    return httpx.Response(200, content=body, headers={"content-type": "image/jpeg"})


@contextmanager
def app(paths: list[str]) -> Iterator[TestClient]:
    with TemporaryDirectory() as folder:
        root = Path(folder) / "originals"
        for public_id in public_ids(paths):
            _image(root / public_id)
        settings = Settings(
            originals=root,
            cache_dir=Path(folder) / "cache",
            render_threads=2,
            api_secret=("b", "secret", "X7qLTrsES31MzxxkxPPA-pAGGfU"),
            fetch_allowed_hosts=("*",),
        )
        transport = mock.patch.object(
            remote, "transport_for", lambda *a: httpx.MockTransport(_upstream)
        )
        with transport, TestClient(create_app(settings)) as client:
            yield client


def judge(client: TestClient, url: str) -> Outcome:
    path = delivery_path(url)
    response = client.get(path)
    if response.status_code == 200:
        return Outcome(url, 200, _check_rendered(path, response))
    error = response.headers.get("x-cld-error", "")
    for name, pattern in DOCUMENTED.items():
        if response.status_code in (400, 401) and re.search(pattern, error):
            return Outcome(url, response.status_code, name)
    return Outcome(url, response.status_code, f"wrong: {response.status_code} {error}")


_FORMATS = {"jpg": "jpeg", "jpeg": "jpeg", "png": "png", "webp": "webp", "avif": "heif",
            "gif": "gif", "tiff": "tiff", "jxl": "jxl"}  # fmt: skip


def _check_rendered(path: str, response: httpx.Response) -> str:
    media = response.headers["content-type"]
    if "fl_getinfo" in path:
        json.loads(response.content)
        return "rendered" if media == "application/json" else f"wrong: getinfo as {media}"
    if not media.startswith("image/"):
        return f"wrong: {media}"
    t = parse_url(path)
    wanted = t.requested_format
    if wanted is not None and wanted.value != "auto":
        subtype = media.split("/")[1].replace("jpeg", "jpeg")
        expected = _FORMATS.get(wanted.value, wanted.value)
        if expected not in (subtype, "heif" if subtype == "avif" else subtype):
            return f"wrong: asked for {wanted.value}, got {media}"
    return _check_size(t, response.content)


def _check_size(t: Transformation, data: bytes) -> str:
    """Where the last step fixes the output size in pixels, the image has that size."""
    if len(t.steps) != 1 or data[:4] == b"\x00\x00\x00\x0c":  # JPEG XL: not decodable here
        return "rendered"
    step = t.steps[0]
    exact = ("fill", "pad", "crop", "thumb", "scale", "fill_pad", "auto", "auto_pad")
    sized = step.width and step.height and step.width.unit.value == "px"
    if not sized or step.height.unit.value != "px" or (step.crop or "scale") not in exact:
        return "rendered"
    if step.dpr or step.layer or step.angles or step.border or step.effect:
        return "rendered"
    image = pyvips.Image.new_from_buffer(data, "")
    want = (int(step.width.value), int(step.height.value))
    got = (image.width, image.height)
    return "rendered" if got == want else f"wrong: size {got}, expected {want}"


def replay() -> list[Outcome]:
    entries = list(corpus_urls())
    paths = [delivery_path(url) for _, url in entries]
    with app(paths) as client:
        return [judge(client, url) for _, url in entries]


def main() -> None:
    outcomes = replay()
    counts = Counter("rendered" if o.kind == "rendered" else
                     "wrong" if o.kind.startswith("wrong") else "documented 4xx"
                     for o in outcomes)  # fmt: skip
    print(dict(counts), "of", len(outcomes))
    for outcome in outcomes:
        if outcome.kind != "rendered":
            print(outcome.status, outcome.kind, outcome.url)


if __name__ == "__main__":
    main()
