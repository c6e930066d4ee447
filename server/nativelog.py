"""Native libraries' own log lines (mediapipe, LiteRT, TensorFlow Lite, absl) routed into
pixcast's log: one `pixcast.native` record each, at DEBUG (errors at WARNING), instead of
dozens of raw lines on stderr at every start.

They write straight to file descriptor 2, so while detectors load (and run once, to warm
up) descriptor 2 is a pipe; a thread reads it, logs the native lines and passes every other
line (Python's own output, tracebacks) through to the real stderr unchanged.
"""

from __future__ import annotations

import logging
import os
import re
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager

log = logging.getLogger("pixcast.native")

# glog/absl (`W0000 00:00:...`), LiteRT and TF Lite (`INFO: [file.cc:12] ...`,
# `INFO: Created TensorFlow Lite ...`) and absl's notice before InitGoogle.
_NATIVE = re.compile(
    r"^(?:[IWEF]\d{4} \d\d:\d\d:\d\d|(?:VERBOSE|INFO|WARNING|ERROR): (?:\[\w+\.\w+:\d+\]|"
    r"Created TensorFlow Lite|Logging before InitGoogle))"
)
_SERIOUS = re.compile(r"^(?:[EF]\d{4}|ERROR:)")
DRAIN_SECONDS = 5.0


def is_native(line: str) -> bool:
    return bool(_NATIVE.match(line))


@contextmanager
def native_lines_to_log() -> Iterator[None]:
    """Within the block, native lines on descriptor 2 become `pixcast.native` records."""
    sys.stderr.flush()
    real = os.dup(2)
    read, write = os.pipe()
    os.dup2(write, 2)
    os.close(write)
    reader = threading.Thread(target=_forward, args=(read, real), name="pixcast-native-log")
    reader.start()
    try:
        yield
    finally:
        sys.stderr.flush()
        os.dup2(real, 2)  # closes the pipe's last write end: the reader sees its end
        reader.join(DRAIN_SECONDS)
        os.close(real)


def _forward(read: int, real: int) -> None:
    with os.fdopen(read, "rb") as pipe:
        for raw in pipe:
            line = raw.decode("utf-8", "replace").rstrip("\n")
            if not is_native(line):
                os.write(real, raw)
            else:
                # "native: " first, so a handler writing to stderr never matches again.
                log.log(logging.WARNING if _SERIOUS.match(line) else logging.DEBUG,
                        "native: %s", line)  # fmt: skip
