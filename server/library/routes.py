"""The library's URL map: the upload family and the Admin API under `/v1_1/<cloud>/`, and
the client-side list. Placed before delivery's catch-all route."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from server.library import admin, uploads
from server.library.answers import Endpoint, api_guarded
from server.state import AppState
from transforms.errors import NotFound

V1 = "/v1_1/{cloud}"
ACTIONS: dict[str, Endpoint] = {
    "upload": uploads.upload,
    "destroy": uploads.destroy,
    "rename": uploads.rename,
    "explicit": uploads.explicit,
    "tags": uploads.tags,
}


@api_guarded()
async def action(request: Request[AppState]) -> Response:
    """POST /v1_1/<cloud>/<resource_type>/<action>; only images (400 naming the type)."""
    endpoint = ACTIONS.get(request.path_params["action"])
    if endpoint is None:
        raise NotFound(f"Unknown upload API action {request.path_params['action']!r}")
    uploads.check_cloud(request)
    uploads.check_image_route(request)
    return await endpoint(request)


def library_routes() -> list[BaseRoute]:
    resources = f"{V1}/resources/{{resource_type}}"
    return [
        Route(f"{V1}/{{resource_type}}/{{action}}", action, methods=["POST"]),
        Route(resources, admin.resources, methods=["GET"]),
        Route(f"{resources}/tags/{{tag}}", admin.resources_by_tag, methods=["GET"]),
        Route(f"{resources}/{{type}}", admin.resources, methods=["GET"]),
        Route(f"{resources}/{{type}}", admin.delete_resources, methods=["DELETE"]),
        Route(f"{resources}/{{type}}/{{public_id:path}}", admin.resource, methods=["GET"]),
        Route(f"{V1}/tags/{{resource_type}}", admin.tag_names, methods=["GET"]),
        Route("/image/list/{tag}.json", admin.client_list, methods=["GET"]),
    ]
