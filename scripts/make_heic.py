"""Make the HEIC test original set-up provides: examples/images/astronaut.jpg (public
domain, see examples/images/PROVENANCE.md) encoded as HEVC by pillow-heif (libheif with
x265), written with a provenance note beside it. Safe to re-run: an existing file stays.

    python scripts/make_heic.py --dest var/test-images
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pillow_heif
from PIL import Image

SOURCE = Path(__file__).resolve().parents[1] / "examples" / "images" / "astronaut.jpg"
NAME = "astronaut.heic"
QUALITY = 80

PROVENANCE = """# {name}: where it comes from

Made by pixcast's set-up (`scripts/make_heic.py`), not downloaded.
- Source: examples/images/astronaut.jpg (NASA photograph of astronaut Eileen Collins, via
  scikit-image's `skimage.data.astronaut`; public domain: see examples/images/PROVENANCE.md).
- Encoding: HEVC (HEIC brand `heic`), quality {quality}, {width}x{height}, 8-bit RGB, by
  pillow-heif {heif} (libheif {libheif}, encoder: {encoder}).
- Licence: public domain, like its source.
"""


def make(dest: Path) -> Path:
    dest.mkdir(parents=True, exist_ok=True)
    target = dest / NAME
    if target.is_file() and target.stat().st_size > 0:
        return target
    with Image.open(SOURCE) as image:
        picture = image.convert("RGB")
    partial = target.with_suffix(".partial")
    pillow_heif.from_pillow(picture).save(partial, quality=QUALITY)
    partial.replace(target)  # whole or not at all
    info = pillow_heif.libheif_info()
    facts = {"name": NAME, "quality": QUALITY, "width": picture.width}
    facts |= {"height": picture.height, "heif": pillow_heif.__version__}
    facts |= {"libheif": info["libheif"], "encoder": info["HEIF"]}
    (dest / f"{NAME}.PROVENANCE.md").write_text(PROVENANCE.format(**facts))
    return target


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dest", type=Path, default=Path("var/test-images"))
    print(make(parser.parse_args().dest), file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
