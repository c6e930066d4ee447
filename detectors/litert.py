"""Bare `.tflite` models on Google's LiteRT runtime (`ai-edge-litert`): one interpreter per
model, called under a lock (an interpreter is not thread-safe), float tensors in and out."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from detectors.base import FETCH_COMMAND, DetectorSettings, DetectorUnavailable

Floats = npt.NDArray[np.float32]


class TfliteModel:
    """One loaded model; `run` feeds its single input and returns every output, in the
    order the model declares them."""

    def __init__(self, path: Path, threads: int = 1) -> None:
        interpreter_class = _interpreter_class()
        self._interpreter: Any = interpreter_class(model_path=str(path), num_threads=threads)
        self._interpreter.allocate_tensors()
        self._input = self._interpreter.get_input_details()[0]
        self._outputs = [d["index"] for d in self._interpreter.get_output_details()]
        self._lock = threading.Lock()

    @property
    def input_size(self) -> tuple[int, int]:
        """(height, width) of the model's input in pixels."""
        shape = self._input["shape"]
        return (int(shape[1]), int(shape[2]))

    def run(self, batch: Floats) -> list[Floats]:
        with self._lock:
            self._interpreter.set_tensor(self._input["index"], batch.astype(np.float32))
            self._interpreter.invoke()
            return [np.array(self._interpreter.get_tensor(i)) for i in self._outputs]


def _interpreter_class() -> Any:
    try:
        from ai_edge_litert.interpreter import Interpreter
    except ImportError as missing:
        raise DetectorUnavailable(
            "litert", "ai-edge-litert is not installed", "Install pixcast's 'detectors' extra."
        ) from missing
    return Interpreter


def load(detector: str, settings: DetectorSettings, model: str, setting: str) -> TfliteModel:
    """The named model file for `detector`; raises DetectorUnavailable naming the missing
    model and the setting that chooses it."""
    path = settings.locate(model)
    if path is None:
        raise DetectorUnavailable(
            detector,
            f"the model '{model}' is not in {settings.models_dir}",
            f"Run `{FETCH_COMMAND}` (pixcast's set-up does) or set {setting}.",
        )
    try:
        return TfliteModel(path)
    except DetectorUnavailable as off:
        raise DetectorUnavailable(detector, off.reason, off.remedy) from off
    except (RuntimeError, ValueError) as broken:
        raise DetectorUnavailable(
            detector,
            f"the model {path} could not be loaded ({broken})",
            f"Run `{FETCH_COMMAND}` again to restore it.",
        ) from broken
