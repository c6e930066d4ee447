"""Settings: one frozen value built from defaults < TOML file < PIXCAST_* env < CLI flags.

Every layer uses the same names (host, port, originals, ...). Values are checked once, when
the Settings is built, so a bad value stops start-up with a message that names it.
"""

from __future__ import annotations

import ipaddress
import json
import os
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import MISSING, dataclass, field, fields
from pathlib import Path
from types import MappingProxyType
from typing import Any

ENV_PREFIX = "PIXCAST_"
CONFIG_ENV = "PIXCAST_CONFIG"
NAMED_TABLE = "named_transformations"
ORIGINS_TABLE = "origins"
# `.` chains names in `t_a.b`, and `,` and `/` separate parameters and components.
_NAME = re.compile(r"^[A-Za-z0-9_-]{1,100}$")

# A layer maps a setting's name to (raw value, where it came from) for error messages.
Layer = dict[str, tuple[object, str]]
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
# A fetch allow-list entry: a host name, `*.` + a domain (its subdomains), or `*` (any host).
_LABEL = r"[a-z0-9]([a-z0-9-]*[a-z0-9])?"
_HOST_PATTERN = re.compile(rf"^(\*|(\*\.)?{_LABEL}(\.{_LABEL})*)$")
_BASE_URL = re.compile(r"^https?://[^/?#@\s]+(/[^?#\s]*)?$")
# S3 storages (server/storage/s3.py): a bucket, a key prefix, options after `?`.
_S3_URL = re.compile(r"^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](/[^?#\s]*)?(\?[^#\s]*)?$")


class SettingsError(ValueError):
    """A setting is malformed or out of range; the message names the setting."""


RENDERS_PER_CPU = 2


def available_cpus() -> int:
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
    # Serving under load (README "Under load"): processes, render threads per process
    # (0: the CPUs divided among the processes), renders that may wait for a thread.
    workers: int = 1
    render_threads: int = 0
    queue_limit: int = 64
    access_log: str = "text"
    vips_concurrency: int = 1
    max_dpr: float = 4.0
    cache_control_max_age: int = 86400
    named_transformations: Mapping[str, str] = field(default_factory=_empty_named)
    # `text` finds where text is (about 60 ms of CPU per new original); it reads the words
    # only for URLs that list them (fl_getinfo).
    detectors: str = "faces,landmarks,people,objects,text,segmentation,saliency"
    models_dir: Path = Path("models")
    face_model: str = "face_detection_full_range_sparse.tflite"
    person_model: str = "pose_detection.tflite"
    landmark_model: str = "face_landmark.tflite"
    segmentation_model: str = "selfie_segmentation.tflite"
    object_model: str = "yolo11n.pt"
    label_aliases: Mapping[str, str] = field(default_factory=_empty_named)
    playground: bool = False
    uploads_dir: Path = Path("var/uploads")
    upload_max_mb: int = 20
    # Text layers: font files found by name (`Arial` → arial.ttf); other names use the
    # bundled DejaVu Sans.
    fonts_dir: Path | None = None
    # Sources, signatures and limits (docs/security.md). Secrets never appear in repr().
    api_secret: tuple[str, ...] = field(default=(), repr=False)
    # The keys that pair with api_secret, in the same order (docs/upload.md): HTTP Basic
    # `api_key:api_secret` for the upload and admin APIs and the playground's signing.
    api_key: tuple[str, ...] = ()
    # The media library (docs/upload.md): SQLite at library_path unless database_url
    # names a PostgreSQL database; upload presets that allow unsigned uploads.
    database_url: str = field(default="", repr=False)
    library_path: Path = Path("var/library.sqlite3")
    unsigned_upload_presets: tuple[str, ...] = ()
    # Delivery, upload and admin URLs answer only this `<cloud>` name when it is set.
    cloud_name: str = ""
    strict: bool = False
    strict_allowed: tuple[str, ...] = ()
    fetch_allowed_hosts: tuple[str, ...] = ()
    allow_private_networks: tuple[Network, ...] = ()
    origins: Mapping[str, str] = field(default_factory=_empty_named)
    max_source_megapixels: float = 50.0
    max_animation_megapixels: float = 4.0
    max_source_bytes: int = 50 * 1024 * 1024
    max_output_side: int = 8192
    max_components: int = 20
    max_source_pages: int = 1000
    request_timeout: float = 30.0
    remote_ttl: int = 3600
    remote_cache_size_mb: int = 1024
    # Rendered variants and detections shared by replicas: `s3://bucket/prefix` or a
    # directory several hosts mount (docs/storage.md); empty: this server's cache only.
    result_storage: str = ""
    # Which settings the operator gave (config file, environment, flags); None when the
    # Settings is built in code, where a value that differs from its default counts as given.
    given: frozenset[str] | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        _check_ranges(self)
        _check_serving(self)
        if self.render_threads == 0:
            # Two renders per CPU: a render has serial, GIL-holding and I/O moments, and
            # one render per core left the cores idle in them (bench/run.py, width300 on
            # 2 CPUs: 55 req/s with 2 threads, 66-68 with 4, no gain with 6).
            threads = max(1, RENDERS_PER_CPU * available_cpus() // self.workers)
            object.__setattr__(self, "render_threads", threads)
        _check_paths(self)
        _check_names(self.named_transformations)
        _check_sources(self)
        # Read-only, so the frozen Settings cannot be changed through its table either.
        object.__setattr__(self, NAMED_TABLE, MappingProxyType(dict(self.named_transformations)))
        object.__setattr__(self, ORIGINS_TABLE, MappingProxyType(_origin_table(self.origins)))
        object.__setattr__(self, "label_aliases", MappingProxyType(dict(self.label_aliases)))
        _check_detectors(self.detectors)

    @property
    def detector_names(self) -> tuple[str, ...]:
        return tuple(name for name in self.detectors.replace(" ", "").split(",") if name)

    def is_given(self, name: str) -> bool:
        """Whether the operator set `name`, rather than leaving its default."""
        if self.given is not None:
            return name in self.given
        return bool(getattr(self, name) != _default(name))


def _check_ranges(s: Settings) -> None:
    _require(bool(s.host.strip()), "host must not be empty")
    _require(1 <= s.port <= 65535, f"port must be between 1 and 65535, got {s.port}")
    _require(s.cache_size_mb >= 1, f"cache_size_mb must be at least 1, got {s.cache_size_mb}")
    _require(1.0 <= s.max_dpr <= 10.0, f"max_dpr must be between 1 and 10, got {s.max_dpr}")
    _require(
        s.cache_control_max_age >= 0,
        f"cache_control_max_age must be 0 or more seconds, got {s.cache_control_max_age}",
    )
    _require(
        1 <= s.upload_max_mb <= 1024,
        f"upload_max_mb must be between 1 and 1024, got {s.upload_max_mb}",
    )


ACCESS_LOG_FORMATS = ("text", "json", "off")


def _check_serving(s: Settings) -> None:
    _require(1 <= s.workers <= 64, f"workers must be between 1 and 64 processes, got {s.workers}")
    _require(
        0 <= s.render_threads <= 256,
        f"render_threads must be between 1 and 256 (0: automatic), got {s.render_threads}",
    )
    _require(
        0 <= s.queue_limit <= 100_000,
        f"queue_limit must be between 0 and 100000, got {s.queue_limit}",
    )
    _require(
        s.access_log in ACCESS_LOG_FORMATS,
        f"access_log must be one of {', '.join(ACCESS_LOG_FORMATS)}, got {s.access_log!r}",
    )
    _require(
        1 <= s.vips_concurrency <= 64,
        f"vips_concurrency must be between 1 and 64, got {s.vips_concurrency}",
    )


def _check_sources(s: Settings) -> None:
    """Limits, secrets and fetch hosts (docs/security.md)."""
    _require(0 < s.max_source_megapixels <= 10_000, "max_source_megapixels must be in (0, 10000]")
    _require(
        0 < s.max_animation_megapixels <= 10_000, "max_animation_megapixels must be in (0, 10000]"
    )
    _require(s.max_source_bytes >= 1024, "max_source_bytes must be at least 1024")
    _require(1 <= s.max_output_side <= 65535, "max_output_side must be between 1 and 65535")
    _require(1 <= s.max_components <= 1000, "max_components must be between 1 and 1000")
    _require(1 <= s.max_source_pages <= 100_000, "max_source_pages must be between 1 and 100000")
    _require(0 < s.request_timeout <= 3600, "request_timeout must be in (0, 3600] seconds")
    _require(s.remote_ttl >= 0, "remote_ttl must be 0 or more seconds")
    _require(s.remote_cache_size_mb >= 1, "remote_cache_size_mb must be at least 1")
    _require(all(s.api_secret), "api_secret entries must not be empty")
    _require(
        not s.result_storage or bool(_S3_URL.match(s.result_storage) or s.result_storage[0] == "/"),
        f"result_storage must be s3://bucket/prefix or an absolute directory, "
        f"got {s.result_storage!r}",
    )
    _require(
        not s.api_key or len(s.api_key) == len(s.api_secret),
        f"api_key has {len(s.api_key)} entries but api_secret has {len(s.api_secret)}: "
        "each key pairs with the secret in the same place",
    )
    _require(
        not s.database_url or s.database_url.startswith(("postgresql://", "postgresql+psycopg://")),
        "database_url must be a postgresql:// URL (leave it empty for SQLite at library_path)",
    )
    for host in s.fetch_allowed_hosts:
        _require(
            bool(_HOST_PATTERN.match(host)),
            f"fetch_allowed_hosts entry {host!r} must be a lower-case host name, *.<domain> or *",
        )


def _origin_table(table: Mapping[str, str]) -> dict[str, str]:
    """Prefix → base URL, each ending in `/`, longest prefix first (the first match wins)."""
    clean: dict[str, str] = {}
    for prefix, base in table.items():
        key = prefix.strip("/") + "/"
        parts = key[:-1].split("/")
        _require(
            key != "/" and not {"", ".", ".."} & set(parts),
            f"origins prefix {prefix!r} must be a folder such as media/",
        )
        _require(
            bool(_BASE_URL.match(base) or _S3_URL.match(base)),
            f"origins base URL for {prefix!r} must be http(s)://host/path/ or "
            f"s3://bucket/prefix/, got {base!r}",
        )
        clean[key] = base if base.endswith("/") or "?" in base else base + "/"
    return dict(sorted(clean.items(), key=lambda item: -len(item[0])))


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
    _require(
        s.fonts_dir is None or s.fonts_dir.is_dir(),
        f"fonts_dir must be an existing directory: {s.fonts_dir}",
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


DETECTOR_NAMES = (
    "faces", "landmarks", "people", "objects", "text", "segmentation", "saliency",
)  # fmt: skip


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


def _as_words(separator: str) -> Callable[[object], tuple[str, ...]]:
    """A TOML array of strings, or one string split at `separator` (a regex)."""

    def parse(raw: object) -> tuple[str, ...]:
        if isinstance(raw, str):
            return tuple(word for word in re.split(separator, raw.strip()) if word)
        if isinstance(raw, list | tuple) and all(isinstance(word, str) for word in raw):
            return tuple(word.strip() for word in raw if word.strip())
        raise ValueError("a list of strings")

    return parse


def _as_networks(raw: object) -> tuple[Network, ...]:
    try:
        return tuple(ipaddress.ip_network(word) for word in _as_words(r"[,\s]+")(raw))
    except ValueError as error:
        raise ValueError(f"CIDR networks such as 127.0.0.0/8 ({error})") from None


def _as_mapping(raw: object) -> Mapping[str, str]:
    """A TOML table, or `prefix=url,prefix=url` from the environment or a flag."""
    if isinstance(raw, str):
        pairs = [item.partition("=") for item in raw.split(",") if item.strip()]
        if not all(sep for _, sep, _ in pairs):
            raise ValueError("prefix=base-URL pairs separated by commas")
        return {key.strip(): value.strip() for key, _, value in pairs}
    if isinstance(raw, Mapping) and all(isinstance(v, str) for v in raw.values()):
        return dict(raw)
    raise ValueError("a table of prefix → base URL")


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
    "render_threads": _as_int,
    "queue_limit": _as_int,
    "access_log": _as_str,
    "vips_concurrency": _as_int,
    "max_dpr": _as_float,
    "cache_control_max_age": _as_int,
    NAMED_TABLE: _as_table,
    "detectors": _as_str,
    "models_dir": _as_path,
    "face_model": _as_str,
    "person_model": _as_str,
    "landmark_model": _as_str,
    "segmentation_model": _as_str,
    "object_model": _as_str,
    "label_aliases": _as_table,
    "playground": _as_bool,
    "uploads_dir": _as_path,
    "upload_max_mb": _as_int,
    "fonts_dir": _as_path,
    "api_secret": _as_words(r"\s*,\s*"),
    "api_key": _as_words(r"\s*,\s*"),
    "database_url": _as_str,
    "library_path": _as_path,
    "unsigned_upload_presets": _as_words(r"[,\s]+"),
    "cloud_name": _as_str,
    "strict": _as_bool,
    # Transformations contain commas, so these are separated by spaces or `;`.
    "strict_allowed": _as_words(r"[;\s]+"),
    "fetch_allowed_hosts": _as_words(r"[,\s]+"),
    "allow_private_networks": _as_networks,
    ORIGINS_TABLE: _as_mapping,
    "max_source_megapixels": _as_float,
    "max_animation_megapixels": _as_float,
    "max_source_bytes": _as_int,
    "max_output_side": _as_int,
    "max_components": _as_int,
    "max_source_pages": _as_int,
    "request_timeout": _as_float,
    "remote_ttl": _as_int,
    "remote_cache_size_mb": _as_int,
    "result_storage": _as_str,
}
NAMES = tuple(f.name for f in fields(Settings) if f.name != "given")


def _default(name: str) -> object:
    """A setting's default value, as written on its field."""
    found = next(f for f in fields(Settings) if f.name == name)
    if found.default_factory is not MISSING:
        return found.default_factory()
    return found.default


_PATHS = ("originals", "cache_dir", "models_dir", "uploads_dir", "fonts_dir", "library_path")


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
    return Settings(**values, given=frozenset(values))
