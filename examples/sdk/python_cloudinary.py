"""Point the official Cloudinary Python SDK (`pip install cloudinary`) at a pixcast server.

Code written for Cloudinary keeps working: the SDK builds its usual delivery URLs, and
pixcast serves them. Only the configuration changes.

    python examples/sdk/python_cloudinary.py                      # http://127.0.0.1:8080
    python examples/sdk/python_cloudinary.py https://img.example.com
"""

from __future__ import annotations

import sys

import cloudinary
from cloudinary import CloudinaryImage


def configure(server: str) -> None:
    """Send the SDK's URLs to `server` (scheme and host, with a port if any).

    For plain http the SDK writes `http://<cname>/<cloud_name>/image/upload/...`; for https
    it writes `https://<secure_distribution>/<cloud_name>/image/upload/...`. pixcast serves
    both forms, whatever the cloud name. analytics=False keeps the SDK's `?_a=` tracking
    parameter off the URLs (pixcast would ignore it anyway).
    """
    scheme, _, host = server.rstrip("/").partition("://")
    if scheme == "https":
        cloudinary.config(cloud_name="demo", secure=True, secure_distribution=host, analytics=False)
    else:
        cloudinary.config(cloud_name="demo", secure=False, cname=host, analytics=False)


def examples() -> dict[str, str]:
    """Delivery URLs and a tag built exactly as an application written for Cloudinary does."""
    return {
        "face thumbnail": CloudinaryImage("astronaut").build_url(
            transformation=[
                {"crop": "thumb", "gravity": "face", "width": 200, "height": 200},
                {"radius": "max"},
            ],
            format="png",
        ),
        "responsive hero": CloudinaryImage("sample").build_url(
            transformation=[
                {"crop": "fill", "aspect_ratio": "16:9", "width": 1200},
                {"quality": "auto", "fetch_format": "auto"},
            ]
        ),
        "sepia card": CloudinaryImage("dogs").build_url(
            width=400, height=300, crop="fill", effect="sepia:60", format="jpg"
        ),
        "retina logo": CloudinaryImage("logo").build_url(
            width=64, dpr=2.0, crop="scale", format="png"
        ),
        "img tag": CloudinaryImage("fig").image(width=300, crop="scale", alt="A fig"),
    }


if __name__ == "__main__":
    configure(sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8080")
    for name, url in examples().items():
        print(f"{name:16} {url}")
