"""Reading one remote original over HTTP: the shared client and every guard around it.

One `httpx.AsyncClient` per app (built in the lifespan) with connect/read timeouts, a total
deadline, redirects followed by hand (each hop re-checked: scheme, allowed host, SSRF
guard), a byte cap (Content-Length refused up front, the stream cut at the cap) and magic
bytes deciding whether the body is an image. Upstream failures become statuses:
missing 404, 5xx/refused/unreachable 502, timeout 504, too large 413, not an image 415.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass

import anyio
import httpcore
import httpx

from server.netguard import AddressGuard, GuardedBackend, Resolver, resolve
from transforms.errors import (
    BadGateway,
    BadRequest,
    Forbidden,
    GatewayTimeout,
    NotFound,
    PayloadTooLarge,
    PixcastError,
    UnsupportedMediaType,
)
from transforms.formats import sniff

MAX_REDIRECTS = 5
CONNECT_TIMEOUT = 5.0
READ_TIMEOUT = 10.0
USER_AGENT = "pixcast/0.1"
# Enough bytes for every signature transforms.formats.sniff knows (HEIF brands included).
_SNIFF_BYTES = 64
_REDIRECTS = (301, 302, 303, 307, 308)


@dataclass(frozen=True)
class FetchHosts:
    """The fetch allow-list: exact host names, `*.<domain>` for its subdomains, `*` for all."""

    patterns: tuple[str, ...] = ()

    def allows(self, host: str) -> bool:
        host = host.lower().rstrip(".")
        return any(
            pattern == "*"
            or host == pattern
            or (pattern.startswith("*.") and host.endswith(pattern[1:]))
            for pattern in self.patterns
        )


@dataclass(frozen=True)
class Fetched:
    """A 200 body that passed every check, with the validators for revalidation."""

    data: bytes
    etag: str | None
    last_modified: str | None


def remote_url(text: str, error: type[PixcastError] = BadRequest) -> httpx.URL:
    """An absolute http(s) URL without credentials, else `error` naming the problem."""
    try:
        url = httpx.URL(text)
    except (httpx.InvalidURL, TypeError):
        raise error(f"Invalid remote URL: {text[:200]}") from None
    if url.scheme not in ("http", "https") or not url.host:
        raise error(f"Invalid remote URL: {text[:200]} (expected an absolute http or https URL)")
    if url.userinfo:
        raise error(f"Invalid remote URL: {url.host} (user:password@ is not allowed)")
    return url


def check_fetch_enabled(hosts: FetchHosts) -> None:
    """403 when the allow-list is empty: fetch is off."""
    if not hosts.patterns:
        raise Forbidden(
            "Fetch delivery is disabled on this server "
            "(list the hosts it may fetch from in PIXCAST_FETCH_ALLOWED_HOSTS)"
        )


def check_fetch_host(url: httpx.URL, hosts: FetchHosts) -> None:
    """403 unless fetch is on and `url`'s host is on the allow-list."""
    check_fetch_enabled(hosts)
    if not hosts.allows(url.host):
        raise Forbidden(
            f"Fetch from host {url.host} is not allowed (add it to PIXCAST_FETCH_ALLOWED_HOSTS)"
        )


def build_client(guard: AddressGuard, timeout: float) -> httpx.AsyncClient:
    """The app's one client. Environment proxies are ignored: they would bypass the guard."""
    return httpx.AsyncClient(
        transport=transport_for(guard),
        timeout=httpx.Timeout(
            min(READ_TIMEOUT, timeout), connect=min(CONNECT_TIMEOUT, timeout), pool=timeout
        ),
        follow_redirects=False,
        trust_env=False,
        headers={"user-agent": USER_AGENT, "accept": "image/*,*/*;q=0.8"},
    )


def transport_for(guard: AddressGuard, resolver: Resolver = resolve) -> httpx.AsyncBaseTransport:
    """httpx's own transport, connecting through the guard (tests replace this function)."""
    transport = httpx.AsyncHTTPTransport(trust_env=False)
    # httpx offers no public way to choose httpcore's network backend, so its pool is
    # rebuilt with httpx's defaults plus the guarded backend.
    transport._pool = httpcore.AsyncConnectionPool(
        ssl_context=httpx.create_ssl_context(),
        max_connections=100,
        max_keepalive_connections=20,
        keepalive_expiry=5.0,
        network_backend=GuardedBackend(guard, resolver),
    )
    return transport


class RemoteClient:
    """GETs one remote original through the shared client, with every guard applied."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        guard: AddressGuard,
        max_bytes: int,
        timeout: float,
        max_redirects: int = MAX_REDIRECTS,
    ) -> None:
        self.client = client
        self.guard = guard
        self.max_bytes = max_bytes
        self.timeout = timeout
        self.max_redirects = max_redirects

    async def get(
        self,
        url: str,
        public_id: str,
        hosts: FetchHosts | None = None,
        validators: Mapping[str, str] | None = None,
    ) -> Fetched | None:
        """The body at `url`, or None when `validators` still hold (304).

        `hosts` (fetch delivery) must allow every hop; `public_id` names the original in
        error messages. Blocks at most `timeout` seconds in all.
        """
        try:
            with anyio.fail_after(self.timeout):
                return await self._follow(url, public_id, hosts, validators or {})
        except TimeoutError:
            raise GatewayTimeout(f"Remote source timed out: {public_id}") from None
        except httpx.TimeoutException:
            raise GatewayTimeout(f"Remote source timed out: {public_id}") from None
        except httpx.TransportError as error:
            raise BadGateway(f"Remote source unreachable: {_reason(error)}") from None
        except httpx.HTTPError as error:  # a body that does not decode, a bad redirect URL
            raise BadGateway(f"Remote source misbehaved: {_reason(error)}") from None

    async def _follow(
        self,
        text: str,
        public_id: str,
        hosts: FetchHosts | None,
        validators: Mapping[str, str],
    ) -> Fetched | None:
        url = remote_url(text)
        for _hop in range(self.max_redirects + 1):
            self._check_hop(url, hosts)
            request = self.client.build_request("GET", url, headers=_request_headers(validators))
            response = await self.client.send(request, stream=True)
            try:
                location = response.headers.get("location")
                if response.status_code not in _REDIRECTS or not location:
                    return await self._outcome(response, public_id, bool(validators))
            finally:
                await response.aclose()
            url = remote_url(str(url.join(location)), BadGateway)
        raise BadGateway(f"Remote source redirected more than {self.max_redirects} times")

    def _check_hop(self, url: httpx.URL, hosts: FetchHosts | None) -> None:
        if hosts is not None:
            check_fetch_host(url, hosts)
        # IP literals and names like localhost are refused before any connection; the
        # transport's guarded backend checks what every other name resolves to.
        self.guard.check_name(url.host)

    async def _outcome(
        self, response: httpx.Response, public_id: str, conditional: bool
    ) -> Fetched | None:
        status = response.status_code
        if status == 304 and conditional:
            return None
        if status in (404, 410):
            raise NotFound(f"Resource not found - {public_id}")
        if status != 200:
            kind = "failed" if status >= 500 else "refused the request"
            raise BadGateway(f"Remote source {kind}: {response.url.host} answered {status}")
        data = await self._body(response, public_id)
        headers = response.headers
        return Fetched(data, headers.get("etag"), headers.get("last-modified"))

    async def _body(self, response: httpx.Response, public_id: str) -> bytes:
        self._check_declared(response, public_id)
        chunks: list[bytes] = []
        size = 0
        sniffed = False
        async for chunk in _raw_chunks(response):
            size += len(chunk)
            if size > self.max_bytes:
                raise self._too_large(public_id)
            chunks.append(chunk)
            if size >= _SNIFF_BYTES and not sniffed:
                # An HTML error page is refused after its first bytes, not its last.
                _require_image(b"".join(chunks), public_id)
                sniffed = True
        data = b"".join(chunks)
        _require_image(data, public_id)
        return data

    def _check_declared(self, response: httpx.Response, public_id: str) -> None:
        encoding = response.headers.get("content-encoding", "identity").strip().lower()
        if encoding not in ("", "identity"):
            raise BadGateway(f"Remote source sent a {encoding}-encoded body (pixcast reads raw)")
        declared = response.headers.get("content-length", "")
        if declared.strip().isdigit() and int(declared) > self.max_bytes:
            raise self._too_large(public_id)

    def _too_large(self, public_id: str) -> PayloadTooLarge:
        return PayloadTooLarge(
            f"The original {public_id} is larger than the limit of {self.max_bytes} bytes"
        )

    async def aclose(self) -> None:
        await self.client.aclose()


def _request_headers(validators: Mapping[str, str]) -> dict[str, str]:
    # Images are compressed already; asking for identity keeps the byte cap honest.
    return {"accept-encoding": "identity", **validators}


async def _raw_chunks(response: httpx.Response) -> AsyncIterator[bytes]:
    """The body as it came off the wire, so the cap is on what was transferred."""
    if response.is_stream_consumed:  # already in memory (a mock transport's bytes)
        yield response.content
        return
    async for chunk in response.aiter_raw():
        yield chunk


def _require_image(data: bytes, public_id: str) -> None:
    if sniff(data) is None:
        raise UnsupportedMediaType(f"Unsupported image format: {public_id} is not an image")


def _reason(error: httpx.HTTPError) -> str:
    text = str(error).strip() or type(error).__name__
    return text.splitlines()[0][:200]
