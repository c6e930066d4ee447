"""The Admin API subset the SDKs' `cloudinary.api` calls, with HTTP Basic
`api_key:api_secret`: list resources (prefix, tags, next_cursor), one resource, the tags,
and delete by public ids or prefix. Also the client-side list `/image/list/<tag>.json`.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from server.concurrency import run_io
from server.library import params
from server.library.answers import answer, api_guarded, list_entry, resource_json
from server.library.repository import Page
from server.library.uploads import base_url, check_cloud, check_image_route, library_of, remove
from server.state import AppState
from transforms.errors import BadRequest, NotFound

MAX_RESULTS = 500
DEFAULT_RESULTS = 10
LIST_LIMIT = 1000


def authorized(request: Request[AppState]) -> None:
    check_cloud(request)
    library = library_of(request.state["services"])
    library.credentials.check_basic(request.headers.get("authorization"))


def max_results(raw: str | None, default: int = DEFAULT_RESULTS) -> int:
    if raw is None or raw == "":
        return default
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_RESULTS:
        raise BadRequest(f"Invalid max_results: expected 1 to {MAX_RESULTS}, got {raw!r}")
    return int(raw)


@api_guarded(basic=True)
async def resources(request: Request[AppState]) -> Response:
    """GET .../resources/image[/<type>][?prefix=&tags=true&next_cursor=&max_results=]."""
    authorized(request)
    check_image_route(request)
    query = request.query_params
    type_ = request.path_params.get("type")
    if type_ is not None:
        params.delivery_type({"type": type_})
    library = library_of(request.state["services"])
    page = await run_io(
        library.repository.page, type_, query.get("prefix", ""), None,
        query.get("next_cursor") or None, max_results(query.get("max_results")),
    )  # fmt: skip
    return answer(page_json(request, page, query.get("tags") in ("true", "1")))


@api_guarded(basic=True)
async def resources_by_tag(request: Request[AppState]) -> Response:
    """GET .../resources/image/tags/<tag>."""
    authorized(request)
    query = request.query_params
    library = library_of(request.state["services"])
    page = await run_io(
        library.repository.page, None, "", request.path_params["tag"],
        query.get("next_cursor") or None, max_results(query.get("max_results")),
    )  # fmt: skip
    return answer(page_json(request, page, True))


def page_json(request: Request[AppState], page: Page, with_tags: bool) -> dict[str, Any]:
    listed = []
    for resource in page.resources:
        entry = resource_json(resource, base_url(request))
        if not with_tags:
            entry.pop("tags")
        listed.append(entry)
    found: dict[str, Any] = {"resources": listed}
    if page.next_cursor:
        found["next_cursor"] = page.next_cursor
    return found


@api_guarded(basic=True)
async def resource(request: Request[AppState]) -> Response:
    """GET .../resources/image/<type>/<public_id>: tags, context, faces and coordinates."""
    authorized(request)
    type_ = params.delivery_type({"type": request.path_params["type"]})
    public_id = params.checked_public_id(request.path_params["public_id"])
    library = library_of(request.state["services"])
    found = await run_io(library.repository.get, type_, public_id)
    if found is None:
        raise NotFound(f"Resource not found - {public_id}")
    return answer(resource_json(found, base_url(request), details=True))


@api_guarded(basic=True)
async def delete_resources(request: Request[AppState]) -> Response:
    """DELETE .../resources/image/<type> with `public_ids` or `prefix` (JSON or query)."""
    authorized(request)
    type_ = params.delivery_type({"type": request.path_params.get("type", "upload")})
    body = await delete_params(request)
    library = library_of(request.state["services"])
    ids = [params.checked_public_id(str(i)) for i in body.get("public_ids") or []]
    prefix = str(body.get("prefix") or "")
    if not ids and not prefix:
        raise BadRequest("Missing required parameter - public_ids or prefix")
    if prefix:
        page = await run_io(library.repository.page, type_, prefix, None, None, MAX_RESULTS)
        ids += [r.public_id for r in page.resources]
    deleted = await run_io(remove, library, type_, ids)
    result = {public_id: "deleted" if public_id in deleted else "not_found" for public_id in ids}
    return answer({"deleted": result, "partial": False})


async def delete_params(request: Request[AppState]) -> dict[str, Any]:
    query = request.query_params
    found: dict[str, Any] = {
        "public_ids": query.getlist("public_ids[]") or query.getlist("public_ids"),
        "prefix": query.get("prefix"),
    }
    raw = await request.body()
    if raw:
        try:
            body = json.loads(raw)
        except json.JSONDecodeError:
            raise BadRequest("Invalid request body: expected JSON") from None
        if not isinstance(body, dict):
            raise BadRequest("Invalid request body: expected a JSON object")
        found |= {key: value for key, value in body.items() if value}
    if isinstance(found.get("public_ids"), str):
        found["public_ids"] = [found["public_ids"]]
    return found


@api_guarded(basic=True)
async def tag_names(request: Request[AppState]) -> Response:
    """GET .../tags/image[?prefix=&max_results=]."""
    authorized(request)
    library = library_of(request.state["services"])
    query = request.query_params
    limit = max_results(query.get("max_results"), MAX_RESULTS)
    names = await run_io(library.repository.tag_names, query.get("prefix", ""), limit)
    return answer({"tags": names})


@api_guarded()
async def client_list(request: Request[AppState]) -> Response:
    """GET /image/list/<tag>.json: the public list of a tag's upload assets, unsigned."""
    library = library_of(request.state["services"])
    tag = request.path_params["tag"]
    page = await run_io(library.repository.page, "upload", "", tag, None, LIST_LIMIT)
    if not page.resources:
        raise NotFound(f"No resources with tag {tag}")
    updated = max(r.created_at for r in page.resources)
    return answer({"resources": [list_entry(r) for r in page.resources], "updated_at": updated})
