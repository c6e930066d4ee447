"""Background removal on real pixels: the same person on three backgrounds gets mattes that
agree, the background away from her turns transparent, a product shot on a plain background
uses the border-colour matte, and JPEG output is flattened on b_ (or white)."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import numpy.typing as npt
import pytest
import pyvips

from detectors.base import DetectorSettings, load_detectors
from detectors.service import RegionService
from tests.focus.conftest import IMAGES, MODELS
from transforms.errors import BadRequest
from transforms.grammar import parse_url
from transforms.pipeline import render

BACKGROUNDS = ("sample.jpg", "fig.jpg", "café terrace.jpg")
LEFT = 500
"""Where the person goes on each 1600 px background: standing on its bottom edge, as her
photo cuts her off at the waist."""
AWAY = 40
"""Pixels farther than this from her count as background 'away from the person'."""

AGREEMENT = 0.95
"""IoU the three mattes must reach pairwise (0.978 to 0.979 here, docs/detectors.md)."""

Mask = npt.NDArray[np.bool_]


@pytest.fixture(scope="module")
def matting() -> Iterator[RegionService]:
    detectors = load_detectors(DetectorSettings(models_dir=MODELS),
                               ["faces", "people", "segmentation"])  # fmt: skip
    assert not detectors.missing, f"set-up must fetch the models: {detectors.missing}"
    yield RegionService(detectors)
    detectors.close()


def _alpha(url: str, data: bytes, matting: RegionService) -> npt.NDArray[np.uint8]:
    rendered = render(parse_url(url), data, None, detection=matting)
    image = pyvips.Image.new_from_buffer(rendered.data, "")
    assert image.hasalpha()
    return np.asarray(image[image.bands - 1].numpy(), dtype=np.uint8)


@pytest.fixture(scope="module")
def person(matting: RegionService) -> pyvips.Image:
    """The astronaut cut out along her own matte, 760 px tall, with a hard edge."""
    astronaut = (IMAGES / "astronaut.jpg").read_bytes()
    alpha = _alpha("/e_background_removal/x.png", astronaut, matting)
    edge = pyvips.Image.new_from_array(np.where(alpha >= 128, 255, 0).astype(np.uint8))
    cut = pyvips.Image.new_from_buffer(astronaut, "").bandjoin(edge.cast("uchar"))
    return cut.resize(760 / 512).copy(interpretation="srgb")


def _where(person: pyvips.Image, background: pyvips.Image) -> Mask:
    """Her pixels on the background's canvas."""
    canvas = np.zeros((background.height, background.width), dtype=bool)
    top = background.height - person.height
    canvas[top:, LEFT : LEFT + person.width] = person[3].numpy() >= 128
    return canvas


def _grown(mask: Mask, by: int) -> Mask:
    image = pyvips.Image.new_from_array(mask.astype(np.uint8) * 255)
    grown = image.dilate(pyvips.Image.new_from_array([[255] * 3] * 3).cast("uchar"))
    for _ in range(by - 1):
        grown = grown.dilate(pyvips.Image.new_from_array([[255] * 3] * 3).cast("uchar"))
    return np.asarray(grown.numpy()) > 0


def test_same_person_on_three_backgrounds_gets_the_same_matte(
    matting: RegionService, person: pyvips.Image
) -> None:
    mattes: list[Mask] = []
    for name in BACKGROUNDS:
        background = pyvips.Image.new_from_file(str(IMAGES / name))
        top = background.height - person.height
        photo = background.composite(person, "over", x=LEFT, y=top).flatten()
        alpha = _alpha("/e_background_removal/x.png", bytes(photo.pngsave_buffer()), matting)
        mattes.append(alpha[top:, LEFT : LEFT + person.width] >= 128)  # in her own frame
        away = ~_grown(_where(person, background), AWAY)
        transparent = float((alpha[away] <= 25).mean())
        assert transparent >= 0.98, f"{name}: {transparent:.3f} of the background is clear"
    for first, second in ((0, 1), (0, 2), (1, 2)):
        union = mattes[first] | mattes[second]
        iou = float((mattes[first] & mattes[second]).sum() / union.sum())
        assert iou >= AGREEMENT, f"mattes {first} and {second} agree by {iou:.3f}"


def _product() -> bytes:
    canvas = (pyvips.Image.black(600, 400, bands=3) + 245).cast("uchar")
    shot = canvas.draw_circle([200, 40, 40], 300, 200, 120, fill=True)
    return bytes(shot.copy(interpretation="srgb").jpegsave_buffer(Q=92))


def test_a_product_shot_uses_the_border_colour(matting: RegionService) -> None:
    rendered = render(parse_url("/e_background_removal/x.png"), _product(), None,
                      detection=matting)  # fmt: skip
    assert rendered.info["background_removal"] == "border_colour"
    alpha = pyvips.Image.new_from_buffer(rendered.data, "")[3].numpy()
    assert alpha[200, 300] == 255 and alpha[10, 10] == 0 and alpha[390, 590] == 0


@pytest.mark.parametrize(("url", "corner"), [
    ("/e_background_removal/x.jpg", [255, 255, 255]),
    ("/e_background_removal/b_rgb:0000ff/x.jpg", [0, 0, 255]),
])  # fmt: skip
def test_jpeg_output_is_flattened_on_the_background_colour(
    matting: RegionService, url: str, corner: list[int]
) -> None:
    rendered = render(parse_url(url), _product(), None, detection=matting)
    image = pyvips.Image.new_from_buffer(rendered.data, "")
    assert image.bands == 3
    assert list(image(5, 5)) == pytest.approx(corner, abs=6)


def test_background_removal_without_detectors_is_a_400() -> None:
    with pytest.raises(BadRequest, match="background_removal needs the detectors"):
        render(parse_url("/e_background_removal/x.png"), _product(), None)
