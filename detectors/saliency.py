"""Saliency, the model-free fallback: libvips' attention strategy (edges, skin tones and
saturated colour, blurred) names the most interesting point, and the Region is the square
window that libvips' smartcrop would cut around it."""

from __future__ import annotations

from detectors.base import DetectorSettings, Region
from detectors.probe import Probe

WINDOW = 0.75
"""Side of the window, as a fraction of the probe's short side. libvips blurs its attention
map in proportion to the window, so the window sets how large a thing counts as interesting.
g_auto crops are mostly large (a 1:1 fill of a 3:2 photo keeps the whole short side); on the
astronaut, windows of 0.25 and 0.5 centre on the helmet in her hands, 0.75 on her face."""


class SaliencyDetector:
    """One Region labelled 'saliency' (score 1.0) for every probe. Uses smartcrop's
    attention point rather than its cropped pixels, so the box comes out in the probe's
    coordinates; no model, so it is always available."""

    name = "saliency"

    def detect(self, probe: Probe) -> list[Region]:
        """The attention window in normalised [0,1] coordinates of the probe."""
        left, top, side = attention_window(probe)
        w, h = probe.width, probe.height
        box = (left / w, top / h, (left + side) / w, (top + side) / h)
        return [Region.from_corners("saliency", 1.0, *box)]

    def close(self) -> None:
        """Nothing to free."""


def attention_window(probe: Probe) -> tuple[int, int, int]:
    """left, top and side (probe pixels) of the square window smartcrop would keep."""
    side = max(1, round(WINDOW * min(probe.width, probe.height)))
    _, point = probe.image.smartcrop(
        side, side, interesting="attention", attention_x=True, attention_y=True
    )
    left = _start(point["attention_x"], side, probe.width)
    return (left, _start(point["attention_y"], side, probe.height), side)


def _start(center: float, side: int, limit: int) -> int:
    # As libvips does: centre the window on the point, then slide it back inside the image.
    return int(min(max(center - side // 2, 0), limit - side))


def build(settings: DetectorSettings) -> SaliencyDetector:
    """Always available: libvips is all it needs."""
    del settings
    return SaliencyDetector()
