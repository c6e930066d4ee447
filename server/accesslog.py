"""One access-log line per request on the `pixcast.access` logger, as text or JSON.

Fields: client, method, path (with query), status, body bytes sent, route, cache status
(X-Cache: HIT, MISS, PASS, or - when there is none), whether a miss was answered by an
identical request's render (coalesced), total milliseconds and each phase's.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field

LOGGER = "pixcast.access"
log = logging.getLogger(LOGGER)


@dataclass(frozen=True)
class AccessRecord:
    """One answered request. Durations in milliseconds."""

    client: str
    method: str
    path: str
    status: int
    sent: int
    route: str
    cache: str
    coalesced: bool
    total_ms: float
    phases_ms: Mapping[str, float] = field(default_factory=dict)
    user_agent: str = ""

    def text(self) -> str:
        phases = " ".join(f"{name}={ms:.1f}" for name, ms in self.phases_ms.items())
        shared = " coalesced" if self.coalesced else ""
        return (
            f'{self.client} "{self.method} {self.path}" {self.status} {self.sent} '
            f"{self.cache}{shared} {self.total_ms:.1f}ms {phases}".rstrip()
        )

    def json(self) -> str:
        return json.dumps(
            {
                "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                "client": self.client,
                "method": self.method,
                "path": self.path,
                "status": self.status,
                "bytes": self.sent,
                "route": self.route,
                "cache": self.cache,
                "coalesced": self.coalesced,
                "ms": round(self.total_ms, 2),
                "phases_ms": {name: round(ms, 2) for name, ms in self.phases_ms.items()},
                "user_agent": self.user_agent,
            },
            ensure_ascii=False,
        )


class AccessLog:
    """Writes records in the configured format: `text`, `json` or `off`."""

    def __init__(self, style: str) -> None:
        self.style = style

    def write(self, record: AccessRecord) -> None:
        if self.style == "off" or not log.isEnabledFor(logging.INFO):
            return
        log.info("%s", record.json() if self.style == "json" else record.text())


def send_to_stdout() -> None:
    """Access lines go to stdout alone, bare (a JSON line stays parseable); other logs
    keep their own handlers. Called once per serving process."""
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(logging.Formatter("%(message)s"))
    log.handlers[:] = [handler]
    log.setLevel(logging.INFO)
    log.propagate = False
