"""Fixtures for remote originals: a fake upstream behind httpx.MockTransport, and a real
upstream on 127.0.0.1 (the tests that use it allow loopback through the settings)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from server import remote
from tests.origins.helpers import FakeUpstream, Upstream, serve


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> FakeUpstream:
    """Every app built in this test reads remote originals from this fake upstream."""
    upstream = FakeUpstream()
    monkeypatch.setattr(remote, "transport_for", upstream.transport)
    return upstream


@pytest.fixture
def upstream() -> Iterator[Upstream]:
    yield from serve(Upstream())
