"""Object detection with Ultralytics YOLO models. `.onnx` exports run on onnxruntime alone (no
torch in the process: the lean choice for production); other files load through ultralytics.
Both share the letterbox, decoding and per-label NMS here, so they find the same boxes."""

from __future__ import annotations

import ast
import importlib
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from detectors.base import DetectorSettings, DetectorUnavailable, Region
from detectors.probe import Probe, to_array

# Before ultralytics is imported anywhere: it must never download weights or pip-install
# packages from inside a request.
os.environ["YOLO_OFFLINE"] = "1"
os.environ["YOLO_AUTOINSTALL"] = "False"
os.environ.setdefault("YOLO_VERBOSE", "False")

Floats = npt.NDArray[np.float32]

PAD_GREY = [114.0, 114.0, 114.0]
"""Letterbox padding; the grey Ultralytics trains with."""

IOU_THRESHOLD = 0.45
MAX_CANDIDATES = 300
"""Best-scoring boxes kept for NMS: enough for any photo, and it bounds NMS's cost."""


class Backend(Protocol):
    """Runs the network: (1, 3, height, width) float RGB in 0..1 -> (4 + classes, boxes),
    each column a box (centre x, centre y, width, height in input pixels) and class scores."""

    names: Mapping[int, str]
    input_size: tuple[int, int]

    def forward(self, batch: Floats) -> Floats: ...


class OnnxBackend:
    """An ONNX model exported by ultralytics; class names and size come from its metadata."""

    def __init__(self, path: Path) -> None:
        ort = _import_module("onnxruntime", "onnxruntime")
        options = ort.SessionOptions()
        options.log_severity_level = 3  # its warnings are about graph optimisation, not us
        # Detection shares the CPUs with libvips in the worker pool: idle threads should sleep.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self._session = ort.InferenceSession(
            str(path), sess_options=options, providers=["CPUExecutionProvider"]
        )
        metadata = self._session.get_modelmeta().custom_metadata_map
        self.names: Mapping[int, str] = parse_names(metadata.get("names", ""))
        model_input = self._session.get_inputs()[0]
        self._input = model_input.name
        self._dtype = np.float16 if model_input.type == "tensor(float16)" else np.float32
        self.input_size: tuple[int, int] = (int(model_input.shape[2]), int(model_input.shape[3]))

    def forward(self, batch: Floats) -> Floats:
        output = self._session.run(None, {self._input: batch.astype(self._dtype)})[0]
        return np.asarray(output[0], dtype=np.float32)


class TorchBackend:
    """Anything `ultralytics.YOLO` loads into a PyTorch network (.pt weights). The network is
    called directly: ultralytics' predictor would import torchvision, whose PyPI build (for
    CUDA) does not load beside CPU torch."""

    def __init__(self, path: Path, input_size: int = 640) -> None:
        ultralytics = _import_module("ultralytics", "ultralytics")
        import torch

        self._torch = torch
        model = ultralytics.YOLO(str(path), task="detect")
        network: Any = model.model
        _require_network(network, torch.nn.Module)
        self._net: Any = network.fuse(verbose=False).eval()
        self.names: Mapping[int, str] = dict(model.names)
        self.input_size: tuple[int, int] = (input_size, input_size)

    def forward(self, batch: Floats) -> Floats:
        with self._torch.inference_mode():
            output = self._net(self._torch.from_numpy(batch))
        first = output[0] if isinstance(output, list | tuple) else output
        return np.asarray(first[0].float().numpy(), dtype=np.float32)


def _require_network(network: object, module_type: type) -> None:
    # Exported formats (TensorRT, OpenVINO...) load in ultralytics too, but as opaque backends.
    if not isinstance(network, module_type):
        raise TypeError("not PyTorch weights; give pixcast a .pt file or an ONNX export")


@dataclass(frozen=True)
class Letterbox:
    """How the probe sits in the network's input: scaled by `scale`, offset by (left, top)."""

    scale: float
    left: int
    top: int


class ObjectDetector:
    """Objects as Regions labelled with the model's class names after `label_aliases`
    (e.g. {'Normal': 'person', 'Fall': 'person'}). Thread-safe."""

    name = "objects"

    def __init__(
        self, backend: Backend, label_aliases: Mapping[str, str], min_score: float = 0.25
    ) -> None:
        self._backend = backend
        self._min_score = min_score
        names = [label_aliases.get(n, n) for _, n in sorted(backend.names.items())]
        self._labels = np.array(names, dtype=object)
        self.labels: frozenset[str] = frozenset(names)

    def detect(self, probe: Probe) -> list[Region]:
        """Objects in normalised [0,1] coordinates of the probe (and of the upright source)."""
        batch, box = letterbox(probe, self._backend.input_size)
        boxes, scores, classes = decode(self._backend.forward(batch), self._min_score)
        labels = self._labels[classes]
        keep = nms(boxes, scores, labels)
        return [_region(str(labels[i]), float(scores[i]), boxes[i], box, probe) for i in keep]

    def close(self) -> None:
        """Nothing native to free: the model goes with the object."""


def letterbox(probe: Probe, size: tuple[int, int]) -> tuple[Floats, Letterbox]:
    """The probe scaled to fit `size` (height, width), centred on grey, as a (1, 3, h, w)
    float32 batch in 0..1."""
    height, width = size
    scale = min(height / probe.height, width / probe.width)
    inner_w, inner_h = max(1, round(probe.width * scale)), max(1, round(probe.height * scale))
    resized = probe.image.resize(inner_w / probe.width, vscale=inner_h / probe.height)
    left, top = (width - inner_w) // 2, (height - inner_h) // 2
    canvas = resized.embed(left, top, width, height, extend="background", background=PAD_GREY)
    pixels = np.ascontiguousarray(to_array(canvas).transpose(2, 0, 1)[np.newaxis])
    return (pixels.astype(np.float32) / 255.0, Letterbox(scale, left, top))


def decode(output: Floats, min_score: float) -> tuple[Floats, Floats, npt.NDArray[np.intp]]:
    """Boxes (x0, y0, x1, y1 in input pixels), scores and class indices scoring at least
    `min_score`, best first, at most MAX_CANDIDATES."""
    class_scores = output[4:]
    classes = class_scores.argmax(axis=0)
    scores = class_scores[classes, np.arange(class_scores.shape[1])]
    order = np.argsort(-scores)[:MAX_CANDIDATES]
    order = order[scores[order] >= min_score]
    cx, cy, w, h = output[:4, order]
    boxes = np.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], axis=1)
    return (boxes, scores[order], classes[order])


def nms(boxes: Floats, scores: Floats, labels: npt.NDArray[Any]) -> list[int]:
    """Indices kept by greedy NMS run separately for each label, best score first."""
    keep: list[int] = []
    for label in set(labels.tolist()):
        members = np.flatnonzero(labels == label)
        keep.extend(int(members[i]) for i in _nms_one(boxes[members], scores[members]))
    return sorted(keep, key=lambda i: -float(scores[i]))


def _nms_one(boxes: Floats, scores: Floats) -> list[int]:
    order = np.argsort(-scores)
    keep: list[int] = []
    while order.size:
        best, rest = order[0], order[1:]
        keep.append(int(best))
        order = rest[_iou(boxes[best], boxes[rest]) <= IOU_THRESHOLD]
    return keep


def _iou(box: Floats, others: Floats) -> Floats:
    top_left = np.maximum(box[:2], others[:, :2])
    bottom_right = np.minimum(box[2:], others[:, 2:])
    shared = np.prod(np.clip(bottom_right - top_left, 0, None), axis=1)
    area = np.prod(box[2:] - box[:2])
    areas = np.prod(others[:, 2:] - others[:, :2], axis=1)
    return np.asarray(shared / np.maximum(area + areas - shared, 1e-9), dtype=np.float32)


def _region(label: str, score: float, xyxy: Floats, box: Letterbox, probe: Probe) -> Region:
    x0, y0, x1, y1 = (float(v) for v in xyxy)
    return Region.from_corners(
        label,
        score,
        (x0 - box.left) / box.scale / probe.width,
        (y0 - box.top) / box.scale / probe.height,
        (x1 - box.left) / box.scale / probe.width,
        (y1 - box.top) / box.scale / probe.height,
    )


def parse_names(text: str) -> dict[int, str]:
    """Class names from an ultralytics export's metadata, e.g. "{0: 'person', 1: 'bicycle'}"."""
    try:
        names = ast.literal_eval(text)
    except (ValueError, SyntaxError) as bad:
        raise ValueError(f"the model's class names are unreadable: {text[:80]!r}") from bad
    if not isinstance(names, dict):
        raise ValueError("the model carries no class names (export it with ultralytics)")
    return {int(k): str(v) for k, v in names.items()}


def _import_module(module: str, package: str) -> Any:
    try:
        return importlib.import_module(module)
    except ImportError as missing:
        raise DetectorUnavailable(
            "objects", f"{package} is not installed", "Install pixcast's 'objects' extra."
        ) from missing


def build(settings: DetectorSettings) -> ObjectDetector:
    """The object detector the settings name; raises DetectorUnavailable when its model file
    is not on disk or cannot be loaded. Never downloads."""
    path = settings.locate(settings.object_model)
    if path is None:
        raise DetectorUnavailable(
            "objects",
            f"the object model '{settings.object_model}' is not a file in "
            f"{settings.models_dir} or the working directory (pixcast never downloads models)",
            "Put a YOLO .pt or .onnx model there and set PIXCAST_OBJECT_MODEL to it.",
        )
    return _load(path, settings)


def _load(path: Path, settings: DetectorSettings) -> ObjectDetector:
    try:
        backend: Backend = OnnxBackend(path) if path.suffix == ".onnx" else TorchBackend(path)
        detector = ObjectDetector(backend, settings.label_aliases, settings.object_min_score)
        _check_output(backend)
    except DetectorUnavailable:
        raise
    except Exception as broken:  # a model file can fail to load in many ways; all mean "off"
        raise DetectorUnavailable(
            "objects",
            f"the object model {path} could not be loaded ({broken})",
            "Set PIXCAST_OBJECT_MODEL to a YOLO detection model exported by ultralytics.",
        ) from broken
    return detector


def _check_output(backend: Backend) -> None:
    # One blank forward at start-up: a model with another output layout fails here, with
    # a reason, rather than inside a request.
    height, width = backend.input_size
    output = backend.forward(np.zeros((1, 3, height, width), dtype=np.float32))
    if output.ndim != 2 or output.shape[0] != 4 + len(backend.names):
        raise ValueError(
            f"its output is {list(output.shape)}, not (4 + classes, boxes) as a YOLO "
            "detection model without built-in NMS gives"
        )
