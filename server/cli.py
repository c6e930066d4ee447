"""The `pixcast` command: `pixcast serve [flags]` runs the server under uvicorn;
`pixcast sign` signs a URL; `pixcast cache stats|verify|purge` maintains the cache.

Flags override PIXCAST_* environment variables, which override the --config TOML file.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from server.app import create_app
from server.maintenance import add_cache_arguments, cache_command
from server.settings import CONFIG_ENV, NAMED_TABLE, SettingsError, load_settings
from server.signing import add_sign_arguments, sign_command
from server.workers import serve

# Flags take strings; settings.py converts and checks them, with the same messages as
# for the environment and the config file.
_FLAGS: dict[str, str] = {
    "host": "interface to bind (default 127.0.0.1)",
    "port": "TCP port (default 8080)",
    "originals": "directory of original images (default ./examples/images)",
    "cache_dir": "result cache directory (default ./var/cache)",
    "cache_size_mb": "result cache size bound in MiB (default 1024)",
    "workers": "worker processes sharing the socket and the cache (default 1)",
    "render_threads": "renders at once per process (default: 2 x CPUs / workers)",
    "queue_limit": "renders that may wait for a thread; past it 503 (default 64)",
    "access_log": "access log: text, json or off (default text)",
    "vips_concurrency": "libvips threads per render (default 1)",
    "max_dpr": "largest dpr_ a URL may ask for (default 4.0)",
    "cache_control_max_age": "max-age for unversioned URLs, seconds (default 86400)",
    NAMED_TABLE: 'JSON object of named transformations, e.g. \'{"thumb": "c_fill,w_150"}\'',
    "detectors": "detectors to enable, comma-separated (default: all of "
    "faces,landmarks,people,objects,text,segmentation,saliency)",
    "models_dir": "directory of model files (default ./models)",
    "face_model": "face model file (default face_detection_full_range_sparse.tflite)",
    "person_model": "person model file (default pose_detection.tflite)",
    "landmark_model": "face landmark model file (default face_landmark.tflite)",
    "segmentation_model": "person matte model file (default selfie_segmentation.tflite)",
    "object_model": "object model: .onnx (onnxruntime) or .pt (ultralytics); default yolo11n.pt",
    "label_aliases": 'JSON object: model class → URL name, e.g. \'{"Fall": "person"}\'',
    "playground": "serve the browser playground at /playground: true or false (default false)",
    "uploads_dir": "where playground uploads are stored (default ./var/uploads)",
    "upload_max_mb": "largest playground upload in MiB (default 20)",
    "fonts_dir": "directory of font files for text layers (default: bundled DejaVu Sans only)",
    "api_secret": "API secrets for signed URLs, comma-separated, current first",
    "api_key": "API keys pairing with api_secret (same order), comma-separated",
    "database_url": "PostgreSQL URL for the media library (default: SQLite at library_path)",
    "library_path": "SQLite file of the media library (default ./var/library.sqlite3)",
    "unsigned_upload_presets": "upload presets that allow unsigned uploads, comma-separated",
    "cloud_name": "the only <cloud> name delivery, upload and admin URLs answer (default: any)",
    "strict": "strict mode: unsigned URLs may only use strict_allowed (default false)",
    "strict_allowed": "transformations allowed unsigned in strict mode, separated by ; or spaces",
    "fetch_allowed_hosts": "hosts fetch may read from, comma-separated; *.domain, * (default none)",
    "allow_private_networks": "CIDRs the SSRF guard lets through, comma-separated (default none)",
    "origins": "HTTP origins: prefix=base-URL pairs, comma-separated",
    "max_source_megapixels": "largest original in megapixels, all frames (default 50)",
    "max_animation_megapixels": "largest GIF or animated output, all frames (default 4)",
    "max_source_bytes": "largest original in bytes (default 52428800)",
    "max_output_side": "largest output width or height in pixels (default 8192)",
    "max_components": "most chained components after named expansion (default 20)",
    "max_source_pages": "most frames or pages an original may have (default 1000)",
    "request_timeout": "seconds a request may take before a 504 (default 30)",
    "remote_ttl": "seconds before a remote original is revalidated (default 3600)",
    "remote_cache_size_mb": "remote originals cache bound in MiB (default 1024)",
    "result_storage": "results shared by replicas: s3://bucket/prefix or a directory",
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
    add_sign_arguments(commands.add_parser("sign", help="print a URL with its signature"))
    add_cache_arguments(commands.add_parser("cache", help="stats, verify, purge the cache"))
    return top


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.command == "sign":
        return sign_command(args, os.environ)
    if args.command == "cache":
        return cache_command(args, os.environ)
    try:
        settings = load_settings(vars(args), os.environ)
        app = create_app(settings)
    except SettingsError as error:
        print(f"pixcast: error: {error}", file=sys.stderr)
        return 2
    serve(app, settings, vars(args), args.log_level)
    return 0
