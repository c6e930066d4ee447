"""Detectors choose what a crop keeps: faces, objects and saliency as Regions in normalised
[0,1] coordinates of the upright source, found on a small probe of it."""

from detectors.base import (
    Detector,
    Detectors,
    DetectorSettings,
    DetectorUnavailable,
    Region,
    build_detector,
    load_detectors,
)
from detectors.probe import Probe, probe_from_bytes, probe_from_image

__all__ = [
    "Detector",
    "DetectorSettings",
    "DetectorUnavailable",
    "Detectors",
    "Probe",
    "Region",
    "build_detector",
    "load_detectors",
    "probe_from_bytes",
    "probe_from_image",
]
