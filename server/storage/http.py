"""The HTTP backend: originals read over HTTP(S) through pixcast's guarded client
(server.remote: SSRF guard, redirects re-checked, byte cap, magic bytes). Read-only."""

from __future__ import annotations

from server.remote import FetchHosts, RemoteClient
from server.storage.base import Blob, StorageError, Version
from transforms.errors import NotFound


class HttpStorage:
    """Objects at `base` + key. `hosts` (fetch delivery) must allow every hop; mapped
    origins pass None (the operator chose the base)."""

    def __init__(self, client: RemoteClient, base: str = "", hosts: FetchHosts | None = None):
        self.client = client
        self.base = base
        self.hosts = hosts

    def url(self, key: str) -> str:
        return self.base + key

    async def get(
        self, key: str, since: Version | None = None, name: str | None = None
    ) -> Blob | None:
        wanted = _validators(since)
        try:
            fetched = await self.client.get(self.url(key), name or key, self.hosts, wanted)
        except NotFound:
            return None
        if fetched is None:
            assert since is not None  # a 304 answers only a conditional request
            return Blob(None, since)
        version = Version(fetched.etag, fetched.last_modified, len(fetched.data))
        return Blob(fetched.data, version)

    async def put(self, key: str, data: bytes) -> Version:
        raise StorageError(f"HTTP origin {self.base or 'fetch'} is read-only")

    async def delete(self, key: str) -> None:
        raise StorageError(f"HTTP origin {self.base or 'fetch'} is read-only")

    async def stat(self, key: str) -> Version | None:
        blob = await self.get(key)
        return None if blob is None else blob.version


def _validators(since: Version | None) -> dict[str, str]:
    if since is None:
        return {}
    found = {"if-none-match": since.etag, "if-modified-since": since.last_modified}
    return {header: value for header, value in found.items() if value}
