"""Settings: one frozen value built from defaults < TOML file < PIXCAST_* env < CLI flags.

Every layer uses the same names (host, port, originals, ...). Values are checked once, when
the Settings is built, so a bad value stops start-up with a message that names it.
"""

from __future__ import annotations

import json
import os
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from types import MappingProxyType
from typing import Any

ENV_PREFIX = "PIXCAST_"
CONFIG_ENV = "PIXCAST_CONFIG"
NAMED_TABLE = "named_transformations"
# `.` chains names in `t_a.b`, and `,` and `/` separate parameters and components.
_NAME = re.compile(r"^[A-Za-z0-9_-]{1,100}$")

# A layer maps a setting's name to (raw value, where it came from) for error messages.
Layer = dict[str, tuple[object, str]]


class SettingsError(ValueError):
    """A setting is malformed or out of range; the message names the setting."""


def default_workers() -> int:
    """CPUs this process may run on (honours cpusets in containers), at least 1."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _empty_named() -> Mapping[str, str]:
    return MappingProxyType({})


@dataclass(frozen=True)
class Settings:
    """Everything the server is configured with. Sizes in MiB, ages in seconds."""

    host: str = "127.0.0.1"
    port: int = 8080
    originals: Path = Path("examples/images")
    cache_dir: Path = Path("var/cache")
    cache_size_mb: int = 1024
    workers: int = field(default_factory=default_workers)
    max_dpr: float = 4.0
    cache_control_max_age: int = 86400
    named_transformations: Mapping[str, str] = field(default_factory=_empty_named)
    detectors: str = "faces,objects,saliency"
    models_dir: Path = Path("models")
    face_model: str = "face_detection_full_range_sparse.tflite"
    object_model: str = "yolo11n.pt"
    label_aliases: Mapping[str, str] = field(default_factory=_empty_named)
    playground: bool = False
    uploads_dir: Path = Path("var/uploads")
    upload_max_mb: int = 20

    def __post_init__(self) -> None:
        _check_ranges(self)
        _check_paths(self)
        _check_names(self.named_transformations)
        # Read-only, so the frozen Settings cannot be changed through its table either.
        object.__setattr__(self, NAMED_TABLE, MappingProxyType(dict(self.named_transformations)))
        object.__setattr__(self, "label_aliases", MappingProxyType(dict(self.label_aliases)))
        _check_detectors(self.detectors)

    @property
    def detector_names(self) -> tuple[str, ...]:
        return tuple(name for name in self.detectors.replace(" ", "").split(",") if name)


def _check_ranges(s: Settings) -> None:
    _require(bool(s.host.strip()), "host must not be empty")
    _require(1 <= s.port <= 65535, f"port must be between 1 and 65535, got {s.port}")
    _require(s.cache_size_mb >= 1, f"cache_size_mb must be at least 1, got {s.cache_size_mb}")
    _require(1 <= s.workers <= 256, f"workers must be between 1 and 256, got {s.workers}")
    _require(1.0 <= s.max_dpr <= 10.0, f"max_dpr must be between 1 and 10, got {s.max_dpr}")
    _require(
        s.cache_control_max_age >= 0,
        f"cache_control_max_age must be 0 or more seconds, got {s.cache_control_max_age}",
    )
    _require(
        1 <= s.upload_max_mb <= 1024,
        f"upload_max_mb must be between 1 and 1024, got {s.upload_max_mb}",
    )


def _check_paths(s: Settings) -> None:
    _require(s.originals.is_dir(), f"originals must be an existing directory: {s.originals}")
    _require(
        not s.cache_dir.exists() or s.cache_dir.is_dir(),
        f"cache_dir exists and is not a directory: {s.cache_dir}",
    )
    _require(
        not s.uploads_dir.exists() or s.uploads_dir.is_dir(),
        f"uploads_dir exists and is not a directory: {s.uploads_dir}",
    )


def _check_names(table: Mapping[str, str]) -> None:
    for name, value in table.items():
        _require(
            isinstance(name, str) and bool(_NAME.match(name)),
            f"named transformation name {name!r} must be letters, digits, '_' or '-'",
        )
        _require(
            isinstance(value, str) and bool(value.strip("/")),
            f"named transformation {name!r} must be a non-empty transformation string",
        )


DETECTOR_NAMES = ("faces", "objects", "saliency")


def _check_detectors(text: str) -> None:
    unknown = [n for n in text.replace(" ", "").split(",") if n and n not in DETECTOR_NAMES]
    _require(not unknown, f"detectors: unknown {unknown} (choose from {', '.join(DETECTOR_NAMES)})")


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise SettingsError(message)


# --- turning raw layer values into typed ones --------------------------------------------


def _as_int(raw: object) -> int:
    if isinstance(raw, int) and not isinstance(raw, bool):
        return raw
    if isinstance(raw, str) and re.fullmatch(r"\s*[+-]?\d+\s*", raw):
        return int(raw)
    raise ValueError("an integer")


def _as_float(raw: object) -> float:
    if isinstance(raw, int | float) and not isinstance(raw, bool):
        return float(raw)
    if isinstance(raw, str):
        try:
            return float(raw)
        except ValueError:
            pass
    raise ValueError("a number")


def _as_str(raw: object) -> str:
    if isinstance(raw, str):
        return raw
    raise ValueError("a string")


_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off")


def _as_bool(raw: object) -> bool:
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, str) and raw.strip().lower() in _TRUE + _FALSE:
        return raw.strip().lower() in _TRUE
    raise ValueError("true or false (also 1/0, yes/no, on/off)")


def _as_path(raw: object) -> Path:
    if isinstance(raw, Path):
        return raw
    if isinstance(raw, str) and raw.strip():
        return Path(raw)
    raise ValueError("a path")


def _as_table(raw: object) -> Mapping[str, str]:
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except json.JSONDecodeError:
            raise ValueError("a JSON object of name → transformation string") from None
    if isinstance(raw, Mapping) and all(isinstance(v, str) for v in raw.values()):
        return dict(raw)
    raise ValueError("a table of name → transformation string")


_COERCE: dict[str, Callable[[object], Any]] = {
    "host": _as_str,
    "port": _as_int,
    "originals": _as_path,
    "cache_dir": _as_path,
    "cache_size_mb": _as_int,
    "workers": _as_int,
    "max_dpr": _as_float,
    "cache_control_max_age": _as_int,
    NAMED_TABLE: _as_table,
    "detectors": _as_str,
    "models_dir": _as_path,
    "face_model": _as_str,
    "object_model": _as_str,
    "label_aliases": _as_table,
    "playground": _as_bool,
    "uploads_dir": _as_path,
    "upload_max_mb": _as_int,
}
NAMES = tuple(f.name for f in fields(Settings))
_PATHS = ("originals", "cache_dir", "models_dir", "uploads_dir")


def _coerce(name: str, raw: object, source: str) -> Any:
    try:
        return _COERCE[name](raw)
    except ValueError as error:
        raise SettingsError(f"{name} (from {source}): expected {error}, got {raw!r}") from None


# --- the layers --------------------------------------------------------------------------


def read_config(path: Path) -> Layer:
    """The TOML file's settings; relative paths in it are relative to the file itself."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise SettingsError(f"cannot read config file {path}: {error}") from None
    unknown = sorted(set(data) - set(NAMES))
    _require(not unknown, f"unknown setting(s) in {path}: {', '.join(unknown)}")
    source = f"config file {path}"
    return {name: (_relative_to(path, name, raw), source) for name, raw in data.items()}


def _relative_to(config: Path, name: str, raw: object) -> object:
    if name in _PATHS and isinstance(raw, str) and not Path(raw).is_absolute():
        return str(config.parent / raw)
    return raw


def read_environ(environ: Mapping[str, str]) -> Layer:
    """`PIXCAST_<NAME>` variables; other PIXCAST_* names belong to other tools."""
    layer: Layer = {}
    for name in NAMES:
        variable = ENV_PREFIX + name.upper()
        if variable in environ:
            layer[name] = (environ[variable], f"environment {variable}")
    return layer


def read_flags(flags: Mapping[str, object | None]) -> Layer:
    """CLI flags that were given (None means the flag was not on the command line)."""
    return {
        name: (value, f"flag --{name.replace('_', '-')}")
        for name, value in flags.items()
        if value is not None and name in NAMES
    }


def config_path(flags: Mapping[str, object | None], environ: Mapping[str, str]) -> Path | None:
    chosen = flags.get("config") or environ.get(CONFIG_ENV)
    return Path(str(chosen)) if chosen else None


def load_settings(
    flags: Mapping[str, object | None] | None = None, environ: Mapping[str, str] | None = None
) -> Settings:
    """Settings from defaults < config file < environment < flags (later layers win)."""
    flags = flags or {}
    environ = os.environ if environ is None else environ
    merged: Layer = {}
    config = config_path(flags, environ)
    if config is not None:
        merged.update(read_config(config))
    merged.update(read_environ(environ))
    merged.update(read_flags(flags))
    values = {name: _coerce(name, raw, source) for name, (raw, source) in merged.items()}
    return Settings(**values)
