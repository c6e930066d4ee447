"""The `pixcast` command: `pixcast serve [flags]` runs the server under uvicorn.

Flags override PIXCAST_* environment variables, which override the --config TOML file.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence

import uvicorn

from server.app import create_app
from server.settings import CONFIG_ENV, NAMED_TABLE, SettingsError, load_settings

# Flags take strings; settings.py converts and checks them, with the same messages as
# for the environment and the config file.
_FLAGS: dict[str, str] = {
    "host": "interface to bind (default 127.0.0.1)",
    "port": "TCP port (default 8080)",
    "originals": "directory of original images (default ./examples/images)",
    "cache_dir": "result cache directory (default ./var/cache)",
    "cache_size_mb": "result cache size bound in MiB (default 1024)",
    "workers": "render threads (default: the CPUs available)",
    "max_dpr": "largest dpr_ a URL may ask for (default 4.0)",
    "cache_control_max_age": "max-age for unversioned URLs, seconds (default 86400)",
    NAMED_TABLE: 'JSON object of named transformations, e.g. \'{"thumb": "c_fill,w_150"}\'',
    "detectors": "detectors to enable, comma-separated (default faces,objects,saliency)",
    "models_dir": "directory of model files (default ./models)",
    "face_model": "face model file (default face_detection_full_range_sparse.tflite)",
    "object_model": "object model: .onnx (onnxruntime) or .pt (ultralytics); default yolo11n.pt",
    "label_aliases": 'JSON object: model class → URL name, e.g. \'{"Fall": "person"}\'',
    "playground": "serve the browser playground at /playground: true or false (default false)",
    "uploads_dir": "where playground uploads are stored (default ./var/uploads)",
    "upload_max_mb": "largest playground upload in MiB (default 20)",
}


_LOG_LEVELS = ("critical", "error", "warning", "info", "debug")


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="pixcast", description="Cloudinary-style image server")
    commands = top.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="serve images over HTTP")
    serve.add_argument("--config", help=f"TOML config file (or ${CONFIG_ENV})")
    for name, help_text in _FLAGS.items():
        serve.add_argument(f"--{name.replace('_', '-')}", dest=name, help=help_text)
    serve.add_argument("--log-level", default="info", choices=_LOG_LEVELS, help="default info")
    return top


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        settings = load_settings(vars(args), os.environ)
        app = create_app(settings)
    except SettingsError as error:
        print(f"pixcast: error: {error}", file=sys.stderr)
        return 2
    # uvicorn configures only its own loggers; this sends pixcast's (tracebacks of
    # unexpected errors, cache failures) to stderr at the same level.
    logging.basicConfig(
        level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    uvicorn.run(app, host=settings.host, port=settings.port, log_level=args.log_level)
    return 0
