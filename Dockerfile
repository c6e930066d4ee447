# pixcast's production image: slim Python, libvips from the pyvips wheel, the face model
# fetched and checked at build time, a non-root user, every setting from PIXCAST_* env.
#
#   docker build -t pixcast .
#   docker run -p 8080:8080 -v /srv/images:/data/originals:ro -v pixcast-cache:/data/cache pixcast
#
# Set-up is the Makefile's (`make setup`): a virtualenv, the project with its extras, then
# scripts/fetch_models.py; without the dev tools, torch, or the test-only models.

FROM python:3.11-slim-bookworm AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /opt/pixcast
RUN python -m venv .venv && .venv/bin/python -m pip install --quiet --upgrade pip
COPY pyproject.toml README.md ./
COPY server ./server
COPY transforms ./transforms
COPY detectors ./detectors
# faces: mediapipe (and its opencv-contrib-python, the one cv2); litert: the people,
# landmark and matte models; ocr: rapidocr's dependencies (rapidocr itself --no-deps, so
# no second OpenCV); heic: pillow-heif for HEIC (HEVC) originals; objects: onnxruntime for
# .onnx object models (mount one and set PIXCAST_OBJECT_MODEL and PIXCAST_DETECTORS).
RUN .venv/bin/python -m pip install --quiet '.[faces,litert,ocr,objects,heic]' \
    && .venv/bin/python -m pip install --quiet --no-deps rapidocr-onnxruntime==1.4.4
COPY scripts ./scripts
RUN .venv/bin/python scripts/fetch_models.py --dest models --no-test-models

FROM python:3.11-slim-bookworm
# mediapipe's native libraries link against EGL and GLES (no GPU is used); text layers
# render with Pango, whose fontconfig wants its default configuration (pixcast passes its
# bundled font file itself).
RUN apt-get update \
    && apt-get install -y --no-install-recommends libegl1 libgles2 fontconfig-config \
    && rm -rf /var/lib/apt/lists/*
RUN useradd --system --uid 10001 --home-dir /opt/pixcast --shell /usr/sbin/nologin pixcast \
    && mkdir -p /data/originals /data/cache /data/library \
    && chown pixcast:pixcast /data/cache /data/library
COPY --from=build /opt/pixcast/.venv /opt/pixcast/.venv
COPY --from=build /opt/pixcast/models /opt/pixcast/models
WORKDIR /opt/pixcast
ENV PATH=/opt/pixcast/.venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    MALLOC_ARENA_MAX=2 \
    PIXCAST_HOST=0.0.0.0 \
    PIXCAST_PORT=8080 \
    PIXCAST_ORIGINALS=/data/originals \
    PIXCAST_CACHE_DIR=/data/cache \
    PIXCAST_LIBRARY_PATH=/data/library/library.sqlite3 \
    PIXCAST_MODELS_DIR=/opt/pixcast/models \
    PIXCAST_DETECTORS=faces,landmarks,people,text,segmentation,saliency \
    PIXCAST_ACCESS_LOG=json
VOLUME ["/data/originals", "/data/cache", "/data/library"]
USER pixcast
EXPOSE 8080
# Liveness only; orchestrators should route traffic by /readyz.
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen(f\"http://127.0.0.1:{os.environ.get('PIXCAST_PORT', '8080')}/healthz\", timeout=2)"]
# SIGTERM: requests in flight finish (up to request_timeout + 5 s): give `docker stop`
# that long (-t 40, or stop_grace_period: 40s in compose).
STOPSIGNAL SIGTERM
ENTRYPOINT ["pixcast", "serve"]
