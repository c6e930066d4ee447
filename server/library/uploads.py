"""The upload endpoint family, `POST /v1_1/<cloud>/image/<action>`: upload, destroy,
rename, explicit and tags. Each call is signed (api_key, timestamp, signature) or, for
upload only, names an unsigned upload preset.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import replace
from typing import Any

from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from server.concurrency import run_io
from server.handlers import render_and_store, variant_inputs
from server.library import params
from server.library.answers import (
    answer,
    api_guarded,
    resource_json,
    response_signature,
)
from server.library.ingest import Placed, UploadOptions, options_from, place, renamed
from server.library.intake import read_file
from server.library.repository import Resource
from server.library.service import Library
from server.library.signatures import check_signed
from server.state import AppState, Services
from server.timing import Timings
from transforms.errors import BadRequest, NotFound, PayloadTooLarge, Unauthorized
from transforms.grammar import parse_url
from transforms.limits import check_steps

MAX_FIELDS = 1000
# Form fields beside the file: generous for eager lists and context, far below a file.
MAX_FIELD_BYTES = 1024 * 1024
ACTIONS = ("upload", "destroy", "rename", "explicit", "tags")
TAG_COMMANDS = ("add", "remove", "replace", "remove_all")


def check_cloud(request: Request[AppState]) -> None:
    """Any `<cloud>` name, or only `cloud_name` when that setting is set (401 otherwise)."""
    wanted = request.state["services"].settings.cloud_name
    given = request.path_params.get("cloud", "")
    if wanted and given != wanted:
        raise Unauthorized(f"Invalid cloud_name {given}")


def library_of(services: Services) -> Library:
    if services.library is None:
        raise NotFound("The media library is not available on this server")
    return services.library


def base_url(request: Request[AppState]) -> str:
    return str(request.base_url).rstrip("/")


@asynccontextmanager
async def read_form(
    request: Request[AppState],
) -> AsyncIterator[tuple[dict[str, str], UploadFile | str | None]]:
    """The fields (one value per name) and the `file` field, whatever its kind; the form's
    spooled files are closed on the way out."""
    check_length(request)
    try:
        form = await request.form(max_fields=MAX_FIELDS, max_files=1, max_part_size=MAX_FIELD_BYTES)
    except HTTPException as refused:  # a malformed or oversized multipart body
        raise BadRequest(f"Invalid request body: {refused.detail}") from None
    try:
        file = form.get("file")
        fields = params.flatten(
            (key, value) for key, value in form.multi_items() if isinstance(value, str)
        )
        fields.pop("file", None)
        yield fields, file
    finally:
        await form.close()


def check_length(request: Request[AppState]) -> None:
    """The body must declare its size, within max_source_bytes (a base64 data URI is a third
    larger) plus the other fields: a body is never spooled to disk beyond that."""
    limit = request.state["services"].settings.max_source_bytes * 4 // 3 + 2 * MAX_FIELD_BYTES
    declared = request.headers.get("content-length", "")
    if not declared.isdigit():
        raise BadRequest("Missing Content-Length: send the request body with its length")
    if int(declared) > limit:
        raise PayloadTooLarge(f"Request too large: {declared} bytes, the limit is {limit}")


async def form_fields(request: Request[AppState]) -> dict[str, str]:
    """The fields of a call that carries no file."""
    async with read_form(request) as (fields, _):
        return fields


def authorize(form: Mapping[str, str], library: Library, services: Services, action: str) -> bool:
    """True for a signed call; an upload through an unsigned preset is allowed too (False)."""
    if "signature" in form:
        check_signed(form, library.credentials)
        return True
    preset = form.get("upload_preset", "")
    if action == "upload" and preset and preset in services.settings.unsigned_upload_presets:
        return False
    if preset:
        raise Unauthorized(f"Upload preset must be whitelisted for unsigned uploads: {preset}")
    raise Unauthorized("Must supply api_key" if "api_key" not in form else "Missing signature")


async def signed_call(request: Request[AppState], action: str) -> tuple[Library, dict[str, str]]:
    """The preamble of every call that carries no file: the library (404 when it is off),
    the form fields, and the signature check (401 unless signed)."""
    services = request.state["services"]
    library = library_of(services)
    form = await form_fields(request)
    authorize(form, library, services, action)
    return library, form


def first_secret(library: Library) -> str:
    return library.credentials.pairs[0][1] if library.credentials.pairs else ""


@api_guarded()
async def upload(request: Request[AppState]) -> Response:
    services = request.state["services"]
    library = library_of(services)
    check_image_route(request)
    async with read_form(request) as (form, file):
        signed = authorize(form, library, services, "upload")
        incoming = await read_file(services, file)
    options = options_from(form, incoming.filename, signed)
    eager_steps = check_eager(services, params.eager_list(form.get("eager")))
    placed = await run_io(place, library, options, incoming, services.limits, services.detection)
    eager = await render_eager(services, placed.resource, eager_steps, base_url(request))
    return answer(upload_json(request, library, placed, options, eager))


def upload_json(
    request: Request[AppState],
    library: Library,
    placed: Placed,
    options: UploadOptions,
    eager: list[dict[str, Any]],
) -> dict[str, Any]:
    resource = placed.resource
    found = resource_json(resource, base_url(request))
    found["signature"] = response_signature(resource, first_secret(library))
    found["original_filename"] = resource.original_filename
    if placed.existing:
        found["existing"] = True
    if options.faces:
        found["faces"] = [list(box) for box in resource.faces]
    if resource.info:
        found["info"] = dict(resource.info)
    if eager:
        found["eager"] = eager
    return found


def check_image_route(request: Request[AppState]) -> None:
    kind = request.path_params.get("resource_type", "image")
    if kind != "image":
        raise BadRequest(f"Not supported by pixcast: resource_type {kind} (images only)")


def check_eager(services: Services, transformations: tuple[str, ...]) -> tuple[str, ...]:
    """Parse each eager transformation and apply the limits before anything is stored."""
    for steps in transformations:
        t = parse_url(f"/image/upload/{steps}/eager-check", services.settings.named_transformations)
        check_steps(t.steps, services.limits)
    return transformations


async def render_eager(
    services: Services, resource: Resource, transformations: tuple[str, ...], base: str
) -> list[dict[str, Any]]:
    """Render each eager transformation now (into the result cache); their URLs."""
    done = []
    for steps in transformations:
        path = f"/image/{resource.type}/{steps}/{resource.public_id}.{resource.format}"
        t = parse_url(path, services.settings.named_transformations)
        t, source = await services.origins.resolve(t)
        layers, facts = await variant_inputs(services, t)  # the tags just stored, too
        rendered, _ = await render_and_store(
            services, t, source, None, None, Timings(), layers, facts
        )
        done.append(
            {
                "transformation": steps,
                "width": rendered.width,
                "height": rendered.height,
                "bytes": len(rendered.data),
                "format": rendered.format,
                "url": base + path,
            }
        )
    return done


# --- destroy, rename, explicit, tags ----------------------------------------------------


@api_guarded()
async def destroy(request: Request[AppState]) -> Response:
    library, form = await signed_call(request, "destroy")
    public_id = params.checked_public_id(form.get("public_id", ""))
    gone = await run_io(remove, library, params.delivery_type(form), [public_id])
    return answer({"result": "ok" if gone else "not found"})


def remove(library: Library, type_: str, public_ids: list[str]) -> list[str]:
    """Delete the rows first, then the bytes: a crash between leaves bytes, never a row."""
    found = [library.repository.get(type_, public_id) for public_id in public_ids]
    deleted = library.repository.delete(type_, public_ids)
    for resource in found:
        if resource is not None:
            library.blobs.delete(library.key(resource))
    return deleted


@api_guarded()
async def rename(request: Request[AppState]) -> Response:
    library, form = await signed_call(request, "rename")
    old = params.checked_public_id(form.get("from_public_id", ""))
    new = params.checked_public_id(form.get("to_public_id", ""))
    type_ = params.delivery_type(form)
    to_type = params.delivery_type({"type": form.get("to_type") or type_})
    overwrite = params.flag(form, "overwrite", False)
    moved = await run_io(move, library, type_, old, (new, to_type), overwrite)
    return answer(resource_json(moved, base_url(request)))


def move(
    library: Library, type_: str, old: str, target: tuple[str, str], overwrite: bool
) -> Resource:
    """Copy the bytes to the new key, switch the row, then remove the old bytes: at every
    moment the row names bytes that exist (in S3 two keys, so a crash may leave both)."""
    resource = library.repository.get(type_, old)
    if resource is None:
        raise NotFound(f"Resource not found - {old}")
    new_id, new_type = target
    taken = library.repository.get(new_type, new_id)
    if taken is not None and not overwrite:
        raise BadRequest(f"to_public_id {new_id} already exists")
    moved = renamed(resource, new_id, new_type)
    library.blobs.move(
        library.key(resource),
        library.key(moved),
        lambda: library.repository.rename(type_, old, moved),
    )
    if taken is not None and library.key(taken) not in (library.key(moved), library.key(resource)):
        library.blobs.delete(library.key(taken))
    return moved


@api_guarded()
async def explicit(request: Request[AppState]) -> Response:
    services = request.state["services"]
    library, form = await signed_call(request, "explicit")
    public_id = params.checked_public_id(form.get("public_id", ""))
    type_ = params.delivery_type(form)
    params.refuse_left_out(form)
    updated = await run_io(update_explicitly, library, type_, public_id, form)
    eager = await render_eager(
        services, updated, params.eager_list(form.get("eager")), base_url(request)
    )
    found = resource_json(updated, base_url(request), details=True)
    return answer(found | ({"eager": eager} if eager else {}))


def update_explicitly(
    library: Library, type_: str, public_id: str, form: Mapping[str, str]
) -> Resource:
    """Replace tags, context and custom coordinates where the call gives them."""
    resource = library.repository.get(type_, public_id)
    if resource is None:
        raise NotFound(f"Resource not found - {public_id}")
    changes: dict[str, Any] = {}
    if "tags" in form:
        changes["tags"] = params.tag_list(form["tags"])
    if "context" in form:
        changes["context"] = params.context_map(form["context"])
    if "custom_coordinates" in form:
        changes["coordinates"] = params.boxes(form["custom_coordinates"], "custom_coordinates")
    if changes:
        library.repository.save(replace(resource, **changes))
    return library.repository.get(type_, public_id) or resource


@api_guarded()
async def tags(request: Request[AppState]) -> Response:
    library, form = await signed_call(request, "tags")
    command = form.get("command", "")
    if command not in TAG_COMMANDS:
        raise BadRequest(f"Invalid command: expected one of {', '.join(TAG_COMMANDS)}")
    names = params.tag_list(form.get("tag"))
    if not names and command != "remove_all":
        raise BadRequest("Missing required parameter - tag")
    ids = [params.checked_public_id(i) for i in form.get("public_ids", "").split(",") if i]
    type_ = params.delivery_type(form)
    changed = await run_io(retag, library, type_, ids, command, names)
    return answer({"public_ids": changed})


def retag(
    library: Library, type_: str, public_ids: list[str], command: str, names: tuple[str, ...]
) -> list[str]:
    changed = []
    for public_id in public_ids:
        resource = library.repository.get(type_, public_id)
        if resource is None:
            continue
        library.repository.save(resource.with_tags(_new_tags(resource.tags, command, names)))
        changed.append(public_id)
    return changed


def _new_tags(current: tuple[str, ...], command: str, names: tuple[str, ...]) -> tuple[str, ...]:
    if command == "add":
        return current + names
    if command == "remove":
        return tuple(name for name in current if name not in names)
    if command == "replace":
        return names
    return ()
