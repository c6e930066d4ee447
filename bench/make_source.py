"""Build the benchmark's source image: a real 4000x3000 photo as a baseline JPEG.

pixcast's benchmark transforms one large camera-sized JPEG (4000x3000, quality 90,
4:2:0 chroma subsampling). The image is too big to keep in git, so this script
rebuilds it from a photo that Debian ships:

    package  lomiri-wallpapers-20.04 (Debian main; source package lomiri-wallpapers)
    file     /usr/share/backgrounds/Kleiber_by_Lukas_Baubkus.jpg (6028x3391)
    author   Lukas Baubkus, 2021
    licence  CC-BY-SA-3.0 (as stated in /usr/share/doc/lomiri-wallpapers-20.04/copyright)

It is the largest real photo among Debian's wallpaper packages: a nuthatch on a
tree trunk, with sharp bark texture on one side and a smooth out-of-focus background
on the other. The package is fetched with ``apt-get download`` (no root needed, no
installation) and unpacked with ``dpkg-deb -x`` into a work directory. The photo is
scaled down so that it covers 4000x3000 and the centre is cropped out.

Usage::

    python bench/make_source.py [OUTPUT] [--work-dir DIR] [--force]

OUTPUT defaults to ``bench/.work/source-4000x3000.jpg`` and DIR to ``bench/.work/debs``
(``bench/.work/`` is ignored by git). The script is idempotent: when OUTPUT already
holds a 4000x3000 image it does nothing. Needs ``apt-get`` with up-to-date package
lists (``apt-get update``) and ``dpkg-deb``, both part of any Debian system.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pyvips

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUTPUT = REPO_ROOT / "bench" / ".work" / "source-4000x3000.jpg"
DEFAULT_WORK_DIR = REPO_ROOT / "bench" / ".work" / "debs"

PACKAGE = "lomiri-wallpapers-20.04"
MEMBER = "usr/share/backgrounds/Kleiber_by_Lukas_Baubkus.jpg"
AUTHOR = "Lukas Baubkus"
LICENCE = "CC-BY-SA-3.0"
# SHA-256 of MEMBER in lomiri-wallpapers-20.04 20.04.0-2 (Debian 12 "bookworm").
EXPECTED_SHA256 = "6572410c09f4492c74ccadde133565a14c0161617d5917d4c820c66d65a44ba7"

WIDTH = 4000
HEIGHT = 3000
QUALITY = 90


def log(message: str) -> None:
    """Print a progress line, prefixed with the script's name."""
    print(f"make_source: {message}", flush=True)


def sha256_of(path: Path) -> str:
    """Return the hex SHA-256 digest of a file."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def existing_output_ok(output: Path) -> bool:
    """Tell whether OUTPUT already holds a readable image of the right size."""
    if not output.is_file():
        return False
    try:
        image = pyvips.Image.new_from_file(str(output))
    except pyvips.Error as exc:
        log(f"{output} exists but cannot be read ({exc}); rebuilding it")
        return False
    if (image.width, image.height) != (WIDTH, HEIGHT):
        log(f"{output} is {image.width}x{image.height}, not {WIDTH}x{HEIGHT}; rebuilding it")
        return False
    return True


def find_deb(work_dir: Path) -> Path | None:
    """Return the newest already-downloaded .deb of PACKAGE in WORK_DIR, if any."""
    debs = sorted(work_dir.glob(f"{PACKAGE}_*.deb"))
    return debs[-1] if debs else None


def download_deb(work_dir: Path) -> Path:
    """Fetch PACKAGE's .deb into WORK_DIR with ``apt-get download``."""
    log(f"downloading {PACKAGE} with apt-get download into {work_dir}")
    result = subprocess.run(
        ["apt-get", "download", PACKAGE],
        cwd=work_dir,
        capture_output=True,
        text=True,
        check=False,
    )
    deb = find_deb(work_dir)
    if result.returncode != 0 or deb is None:
        sys.stderr.write(result.stdout + result.stderr)
        raise SystemExit(
            f"make_source: apt-get download {PACKAGE} failed; "
            "run 'apt-get update' first (as root) and check that Debian's main "
            "archive is in the apt sources"
        )
    return deb


def package_version(deb: Path) -> str:
    """Return the Version field of a .deb file."""
    result = subprocess.run(
        ["dpkg-deb", "-f", str(deb), "Version"],
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout.strip()


def extract_photo(work_dir: Path) -> Path:
    """Make sure the source photo is unpacked under WORK_DIR and return its path."""
    work_dir.mkdir(parents=True, exist_ok=True)
    root = work_dir / PACKAGE
    photo = root / MEMBER
    if photo.is_file():
        log(f"using already unpacked {photo}")
        return photo
    deb = find_deb(work_dir)
    if deb is None:
        deb = download_deb(work_dir)
    else:
        log(f"using already downloaded {deb.name}")
    log(f"unpacking {deb.name} (version {package_version(deb)}) into {root}")
    subprocess.run(["dpkg-deb", "-x", str(deb), str(root)], check=True)
    if not photo.is_file():
        raise SystemExit(f"make_source: {deb.name} has no /{MEMBER}")
    return photo


def build(photo: Path, output: Path) -> None:
    """Scale PHOTO to cover WIDTHxHEIGHT, crop the centre and save it as OUTPUT."""
    digest = sha256_of(photo)
    if digest != EXPECTED_SHA256:
        log(
            f"warning: {photo.name} has SHA-256 {digest}, expected {EXPECTED_SHA256}; "
            "the package changed, so results may not compare with earlier runs"
        )
    image = pyvips.Image.new_from_file(str(photo), access="sequential")
    log(f"source photo {photo.name}: {image.width}x{image.height}, by {AUTHOR}, {LICENCE}")
    if image.width < WIDTH or image.height < HEIGHT:
        raise SystemExit(
            f"make_source: {photo} is {image.width}x{image.height}, "
            f"smaller than {WIDTH}x{HEIGHT}; refusing to upscale"
        )
    scale = max(WIDTH / image.width, HEIGHT / image.height)
    resized = image.resize(scale, kernel="lanczos3")
    left = (resized.width - WIDTH) // 2
    top = (resized.height - HEIGHT) // 2
    cropped = resized.crop(left, top, WIDTH, HEIGHT)
    log(
        f"resized by {scale:.4f} to {resized.width}x{resized.height}, "
        f"cropped {WIDTH}x{HEIGHT} at ({left}, {top})"
    )

    output.parent.mkdir(parents=True, exist_ok=True)
    partial = output.with_name(f".{output.name}.partial")
    cropped.jpegsave(
        str(partial),
        Q=QUALITY,
        subsample_mode="on",
        optimize_coding=True,
        keep="none",
    )
    os.replace(partial, output)

    check = pyvips.Image.new_from_file(str(output))
    log(
        f"wrote {output}: {check.width}x{check.height}, "
        f"chroma {check.get('jpeg-chroma-subsample')}, Q {QUALITY}, "
        f"{output.stat().st_size} bytes"
    )


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(
        description=f"Build the {WIDTH}x{HEIGHT} benchmark source JPEG from a Debian photo."
    )
    parser.add_argument(
        "output",
        nargs="?",
        type=Path,
        default=DEFAULT_OUTPUT,
        help=f"where to write the JPEG (default: {DEFAULT_OUTPUT.relative_to(REPO_ROOT)})",
    )
    parser.add_argument(
        "--work-dir",
        type=Path,
        default=DEFAULT_WORK_DIR,
        help="where to download and unpack the .deb "
        f"(default: {DEFAULT_WORK_DIR.relative_to(REPO_ROOT)})",
    )
    parser.add_argument(
        "--force",
        action="store_true",
        help="rebuild the JPEG even when it already exists",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Entry point: build the benchmark source unless it is already there."""
    args = parse_args(argv)
    output: Path = args.output
    if not args.force and existing_output_ok(output):
        log(f"{output} already exists ({WIDTH}x{HEIGHT}); nothing to do")
        return 0
    photo = extract_photo(args.work_dir)
    build(photo, output)
    return 0


if __name__ == "__main__":
    sys.exit(main())
