"""Regenerate tests/conformance/corpus.json: delivery URLs written by the official SDKs.

Three sources, each recorded with the version that made it:
- the expected URLs of pycloudinary's own test suite (test/test_utils.py, which ships in
  the sdist only: `pip download cloudinary --no-binary :all: --no-deps` fetches it);
- pycloudinary's cloudinary_url over the options its documentation lists (OPTIONS);
- @cloudinary/url-gen (npm) over its documented actions (tests/conformance/urlgen.cjs).

Usage: python scripts/conformance_corpus.py <dir with node_modules of @cloudinary/url-gen>
"""

from __future__ import annotations

import contextlib
import importlib
import io
import json
import subprocess
import sys
import tarfile
import tempfile
import types
import unittest
import unittest.mock
from importlib import metadata
from pathlib import Path
from typing import Any

import cloudinary  # type: ignore[import-untyped]
import cloudinary.utils  # type: ignore[import-untyped]

HERE = Path(__file__).resolve().parents[1] / "tests" / "conformance"
CORPUS = HERE / "corpus.json"
HOSTS = ("http://res.cloudinary.com/", "https://res.cloudinary.com/")

# Options from pycloudinary's documentation of image transformations (cloudinary_url).
OPTIONS: list[tuple[str, dict[str, Any]]] = [
    ("sample.jpg", {"width": 300, "height": 200, "crop": "fill"}),
    ("sample.jpg", {"width": 300, "height": 200, "crop": "fill", "gravity": "face"}),
    ("sample.jpg", {"width": 150, "height": 150, "crop": "thumb", "gravity": "faces"}),
    ("sample.jpg", {"width": 0.5, "crop": "scale"}),
    ("sample.jpg", {"width": 200, "crop": "limit", "format": "png"}),
    ("sample", {"width": 400, "height": 300, "crop": "pad", "background": "blue", "format": "jpg"}),
    ("sample.jpg", {"width": 400, "height": 300, "crop": "lpad", "background": "auto:predominant"}),
    ("sample.jpg", {"width": 400, "height": 300, "crop": "mpad"}),
    ("sample.jpg", {"width": 300, "height": 300, "crop": "fit"}),
    ("sample.jpg", {"width": 30, "height": 30, "crop": "mfit"}),
    ("sample.jpg", {"width": 300, "height": 300, "crop": "lfill"}),
    ("sample.jpg", {"width": 100, "height": 100, "crop": "crop", "x": 10, "y": 20}),
    ("sample.jpg", {"width": 200, "aspect_ratio": "16:9", "crop": "fill", "gravity": "auto"}),
    ("sample.jpg", {"aspect_ratio": 1.5, "crop": "crop"}),
    ("sample.jpg", {"width": 100, "height": 100, "crop": "thumb", "gravity": "face", "zoom": 0.7}),
    ("sample.jpg", {"angle": 90}),
    ("sample.jpg", {"angle": ["hflip", 45]}),
    ("sample.jpg", {"angle": "auto_right", "width": 300, "aspect_ratio": 0.7, "crop": "fill"}),
    ("sample.jpg", {"radius": 20}),
    ("sample.jpg", {"radius": "max", "width": 200, "height": 200, "crop": "fill"}),
    ("sample.jpg", {"radius": "10:20:30:40"}),
    ("sample.jpg", {"border": "3px_solid_black"}),
    ("sample.jpg", {"border": {"width": 4, "color": "red"}}),
    ("sample.jpg", {"opacity": 50}),
    ("sample.jpg", {"effect": "sepia"}),
    ("sample.jpg", {"effect": "sepia:-10"}),
    ("sample.jpg", {"effect": ["sepia", -10]}),
    ("sample.jpg", {"effect": "grayscale"}),
    ("sample.jpg", {"effect": "blur:300"}),
    ("sample.jpg", {"effect": "pixelate_faces:20"}),
    ("sample.jpg", {"effect": "art:zorro"}),
    ("sample.jpg", {"effect": "cartoonify"}),
    ("sample.jpg", {"effect": "vignette:30"}),
    ("sample.jpg", {"effect": "improve"}),
    ("sample.jpg", {"effect": "sharpen:200"}),
    ("sample.jpg", {"effect": "trim"}),
    ("sample.jpg", {"effect": "outline", "color": "red"}),
    ("sample.jpg", {"effect": "colorize:40", "color": "#ff0000"}),
    ("sample.jpg", {"effect": "shadow", "x": 5, "y": 5}),
    ("sample.jpg", {"effect": "gen_fill"}),
    ("sample.jpg", {"quality": "auto"}),
    ("sample.jpg", {"quality": "auto:eco"}),
    ("sample.jpg", {"quality": 60}),
    ("sample.jpg", {"quality": "jpegmini"}),
    ("sample.jpg", {"fetch_format": "auto"}),
    ("sample.jpg", {"fetch_format": "auto", "quality": "auto"}),
    ("sample.jpg", {"fetch_format": "webp"}),
    ("sample.jpg", {"fetch_format": "avif"}),
    ("sample.jpg", {"fetch_format": "jxl"}),
    ("sample.jpg", {"dpr": 2.0, "width": 100, "crop": "scale"}),
    ("sample.jpg", {"dpr": "auto", "width": 100, "crop": "scale"}),
    ("sample.jpg", {"width": "auto", "crop": "scale"}),
    ("sample.jpg", {"width": "auto:100:400", "crop": "limit"}),
    ("sample.jpg", {"responsive_width": True, "width": "auto", "crop": "limit"}),
    ("sample.jpg", {"flags": "progressive"}),
    ("sample.jpg", {"flags": ["progressive", "strip_profile"]}),
    ("sample.jpg", {"flags": "attachment:my_photo"}),
    ("sample.jpg", {"flags": "preserve_transparency", "fetch_format": "auto"}),
    ("sample.jpg", {"flags": "png8", "format": "png"}),
    ("sample.jpg", {"flags": "force_strip"}),
    ("sample.jpg", {"flags": "keep_iptc"}),
    ("sample.jpg", {"flags": "immutable_cache"}),
    ("sample.jpg", {"flags": "getinfo", "width": 100, "crop": "scale"}),
    ("sample.jpg", {"color_space": "srgb"}),
    ("sample.jpg", {"color_space": "no_cmyk"}),
    ("sample.jpg", {"density": 300}),
    ("sample.jpg", {"page": 1}),
    ("sample.jpg", {"default_image": "avatar.png"}),
    ("sample.jpg", {"overlay": "logo", "gravity": "south_east", "x": 10, "y": 10}),
    ("sample.jpg", {"overlay": "text:Arial_40:Hello", "gravity": "north"}),
    ("sample.jpg", {"underlay": "logo", "width": 1.0, "flags": "relative"}),
    ("sample.jpg", {"overlay": "video:dog"}),
    ("sample.jpg", {"transformation": "media_lib_thumb"}),
    ("sample.jpg", {"transformation": [{"width": 100, "crop": "scale"}, {"effect": "sepia"}]}),
    (
        "sample.jpg",
        {
            "variables": [["$w", "200"], ["$ar", "0.8"]],
            "width": "$w",
            "aspect_ratio": "$ar",
            "crop": "fill",
        },
    ),
    ("sample.jpg", {"transformation": [{"if": "w > 1000", "width": 1000, "crop": "scale"}]}),
    (
        "sample.jpg",
        {
            "transformation": [
                {"if": "width > 300 && aspect_ratio < 1"},
                {"effect": "oil_paint"},
                {"if": "end"},
            ]
        },
    ),
    (
        "sample.jpg",
        {
            "transformation": [
                {"if": "initial_width >= 800"},
                {"width": 400, "crop": "scale"},
                {"if": "else"},
                {"width": 100, "crop": "scale"},
                {"if": "end"},
            ]
        },
    ),
    ("sample.jpg", {"transformation": [{"if": "face_count > 0", "effect": "blur_faces"}]}),
    ("sample.jpg", {"width": "iw_div_2", "crop": "scale"}),
    ("sample.jpg", {"width": "$small * 2", "variables": [["$small", "100"]], "crop": "scale"}),
    ("sample.jpg", {"url_suffix": "my-sample", "width": 100, "crop": "scale"}),
    ("sample.jpg", {"use_root_path": True, "width": 100, "crop": "scale"}),
    ("sample.jpg", {"shorten": True, "width": 100, "crop": "scale"}),
    ("sample.jpg", {"type": "private", "width": 100, "crop": "scale"}),
    ("sample.jpg", {"type": "facebook"}),
    ("sample.jpg", {"version": 1234, "width": 100, "crop": "scale"}),
    ("folder/sample.jpg", {"width": 100, "crop": "scale"}),
]


def pycloudinary_tests(test_utils: Path) -> list[str]:
    """Every res.cloudinary.com URL the sdist's test_utils.py expects, collected by
    running its tests with assertEqual recording string arguments."""
    found: list[str] = []
    real = unittest.TestCase.assertEqual

    def recording(self: unittest.TestCase, first: Any, second: Any, msg: Any = None) -> None:
        for value in (first, second):
            if isinstance(value, str) and value.startswith(HOSTS):
                found.append(value)
        real(self, first, second, msg)

    # The sdist's tests import `test.helper_test`: its root comes before the stdlib `test`.
    _stub_helpers(test_utils.parent)
    unittest.TestCase.assertEqual = recording  # type: ignore[method-assign]
    try:
        module = importlib.import_module(f"test.{test_utils.stem}")
        suite = unittest.defaultTestLoader.loadTestsFromModule(module)
        with contextlib.redirect_stderr(io.StringIO()):
            unittest.TextTestRunner(stream=io.StringIO()).run(suite)
    finally:
        unittest.TestCase.assertEqual = real  # type: ignore[method-assign]
    return list(dict.fromkeys(found))


def _stub_helpers(folder: Path) -> None:
    """test_utils.py imports helpers the sdist leaves out (helper_test.py) and a few
    constants of test_api.py (which needs a live account): stand-ins for both."""
    package = types.ModuleType("test")
    package.__path__ = [str(folder)]
    helper = types.ModuleType("test.helper_test")
    helper.TEST_IMAGE = str(folder / "resources" / "logo.png")  # type: ignore[attr-defined]
    helper.REMOTE_TEST_IMAGE = "http://cloudinary.com/images/old_logo.png"  # type: ignore[attr-defined]
    helper.patch = unittest.mock.patch  # type: ignore[attr-defined]
    api = types.ModuleType("test.test_api")
    overlay = "text:arial_20:pixcast"
    api.API_TEST_TRANS_SCALE100 = {"crop": "scale", "width": 100, "overlay": overlay}  # type: ignore[attr-defined]
    api.API_TEST_TRANS_SCALE100_STR = f"c_scale,l_{overlay},w_100"  # type: ignore[attr-defined]
    api.API_TEST_TRANS_SEPIA = {"crop": "lfill", "width": 400, "effect": "sepia"}  # type: ignore[attr-defined]
    api.API_TEST_TRANS_SEPIA_STR = "c_lfill,e_sepia,w_400"  # type: ignore[attr-defined]
    sys.modules |= {"test": package, "test.helper_test": helper, "test.test_api": api}


def sdist_tests() -> list[str]:
    version = metadata.version("cloudinary")
    with tempfile.TemporaryDirectory() as folder:
        subprocess.run(
            [sys.executable, "-m", "pip", "download", f"cloudinary=={version}",
             "--no-binary", ":all:", "--no-deps", "-q", "-d", folder],
            check=True,
        )  # fmt: skip
        archive = next(Path(folder).glob("cloudinary-*.tar.gz"))
        with tarfile.open(archive) as tar:
            tar.extractall(folder, filter="data")
        test_dir = next(Path(folder).glob("cloudinary-*/test"))
        return pycloudinary_tests(test_dir / "test_utils.py")


def documented_options() -> list[str]:
    # A fresh configuration: the sdist's tests leave theirs behind.
    cloudinary.reset_config()
    cloudinary.config(cloud_name="demo", api_secret="secret", api_key="1")
    urls = []
    for public_id, options in OPTIONS:
        url, _ = cloudinary.utils.cloudinary_url(public_id, **dict(options))
        urls.append(url)
    return urls


def url_gen(node_modules: Path) -> tuple[str, list[str]]:
    script = HERE / "urlgen.cjs"
    output = subprocess.run(
        ["node", str(script)], check=True, capture_output=True, text=True,
        env={"NODE_PATH": str(node_modules), "PATH": "/usr/bin:/bin"},
    )  # fmt: skip
    package = json.loads((node_modules / "@cloudinary" / "url-gen" / "package.json").read_text())
    return package["version"], output.stdout.split()


def main() -> None:
    node_modules = Path(sys.argv[1]) / "node_modules"
    urlgen_version, urlgen_urls = url_gen(node_modules)
    corpus = {
        "pycloudinary": metadata.version("cloudinary"),
        "url-gen": urlgen_version,
        "sources": {
            "pycloudinary test/test_utils.py": sdist_tests(),
            "pycloudinary cloudinary_url": documented_options(),
            "@cloudinary/url-gen": urlgen_urls,
        },
    }
    CORPUS.write_text(json.dumps(corpus, indent=1) + "\n")


if __name__ == "__main__":
    main()
