"""The render Context that every pipeline step reads and replaces its image in."""

from __future__ import annotations

from dataclasses import dataclass, field

import pyvips

from detectors.service import RegionService, SourceRegions
from transforms.focus import Mapping
from transforms.model import Limits


@dataclass
class Context:
    """One render in progress.

    `image` is sRGB uchar (3 bands, or 4 with alpha) after loading; `initial` is the
    original's size after EXIF rotation, what `iw`/`ih` refer to. `regions` finds
    detections of the original; `mapping` carries them into `image`'s pixels (None once
    a rotation or a canvas change has made that impossible).
    """

    image: pyvips.Image
    initial: tuple[int, int]
    source_format: str
    source_bytes: int
    limits: Limits = field(default_factory=Limits)
    regions: SourceRegions | None = None
    mapping: Mapping | None = None
    crop: dict[str, float] | None = None
    streaming: bool = False
    detection: RegionService | None = None

    @property
    def size(self) -> tuple[int, int]:
        return (self.image.width, self.image.height)
