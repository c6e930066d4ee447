"""The playground's JSON endpoints through Starlette's TestClient."""

from __future__ import annotations

from collections.abc import Callable

from starlette.testclient import TestClient

from server.app import create_app
from server.settings import Settings
from transforms.effects import REGISTRY


def test_config_lists_the_controls_choices(client: TestClient) -> None:
    response = client.get("/playground/api/config")
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    config = response.json()
    assert "fill" in config["crop_modes"] and "face" in config["gravities"]
    assert {"auto", "webp", "avif"} <= set(config["formats"])
    assert [e["name"] for e in config["effects"]] == sorted(REGISTRY)
    sepia = next(e for e in config["effects"] if e["name"] == "sepia")
    assert sepia["slider"] == {"name": "level", "low": 1, "high": 100, "default": 80}
    grayscale = next(e for e in config["effects"] if e["name"] == "grayscale")
    assert grayscale["slider"] is None
    assert config["max_dpr"] == 4.0
    assert config["uploads"]["max_bytes"] == 20 * 1024 * 1024


def test_config_examples_say_which_this_server_can_do(client: TestClient) -> None:
    examples = {e["title"]: e for e in client.get("/playground/api/config").json()["examples"]}
    assert examples["Face thumbnail"]["available"] is True
    assert examples["Face thumbnail"]["transformation"] == "c_thumb,g_face,w_200,h_200"
    for example in examples.values():
        assert example["available"] or example["reason"].startswith("Not on this server: ")


def test_signing_off_without_a_secret(client: TestClient) -> None:
    signing = client.get("/playground/api/config").json()["signing"]
    assert signing["enabled"] is False and "no api_secret" in signing["note"]
    refused = client.get("/playground/api/sign", params={"path": "/image/upload/w_10/a.jpg"})
    assert refused.status_code == 404
    assert refused.json() == {"ok": False, "error": refused.headers["x-cld-error"]}


def test_signed_urls_when_a_secret_is_set(make_settings: Callable[..., Settings]) -> None:
    settings = make_settings(api_secret=("topsecret",), api_key=("k1",), strict=True)
    with TestClient(create_app(settings)) as client:
        client.auth = ("k1", "topsecret")
        signing = client.get("/playground/api/config").json()["signing"]
        assert signing["enabled"] is True and signing["strict"] is True
        unsigned = "/image/upload/c_fill,h_20,w_30/astronaut.jpg"
        assert client.get(unsigned).status_code == 401
        signed = client.get("/playground/api/sign", params={"path": unsigned}).json()["path"]
        assert signed.startswith("/image/upload/s--") and signed.endswith("/" + unsigned[14:])
        assert client.get(signed).status_code == 200
        bad = client.get("/playground/api/sign", params={"path": "image/upload/x.jpg"})
        assert bad.status_code == 400 and "Invalid path to sign" in bad.json()["error"]


def test_images_lists_originals_sorted_with_their_extension(client: TestClient) -> None:
    listing = client.get("/playground/api/images").json()
    ids = [(e["public_id"], e["extension"], e["base"]) for e in listing["originals"]]
    assert ids == [("astronaut", "jpg", ""), ("logo", "png", ""), ("team/Eileen", "jpg", "")]
    assert listing["uploads"] == [] and listing["truncated"] is False
    assert listing["originals"][0]["bytes"] > 10_000


def test_images_search_is_case_insensitive(client: TestClient) -> None:
    found = client.get("/playground/api/images", params={"q": "eil"}).json()["originals"]
    assert [e["file"] for e in found] == ["team/Eileen.JPG"]
    assert client.get("/playground/api/images", params={"q": "zebra"}).json()["originals"] == []


def test_explain_valid(client: TestClient) -> None:
    answer = client.get("/playground/api/explain", params={"t": "w_300,c_fill/e_sepia"}).json()
    assert answer["ok"] is True
    assert answer["canonical"] == "c_fill,w_300/e_sepia"
    assert answer["tidy"] == "c_fill,w_300/e_sepia"
    first = answer["components"][0]
    assert first["span"] == {"start": 0, "end": 12, "component": 0}
    crop = first["params"][0]
    assert (crop["text"], crop["start"], crop["end"], crop["field"]) == ("c_fill", 6, 12, "crop")
    assert crop["explanation"].startswith("Crop mode fill")


def test_explain_invalid_names_and_locates_the_parameter(client: TestClient) -> None:
    response = client.get("/playground/api/explain", params={"t": "c_fill,w_abc"})
    assert response.status_code == 200  # validation worked; the string did not
    answer = response.json()
    assert answer["ok"] is False
    assert answer["error"].startswith("Invalid width in transformation: abc")
    assert answer["parameter"] == {"start": 7, "end": 12, "component": 0, "text": "w_abc"}


def test_explain_uses_the_servers_named_transformations_and_dpr_limit(
    make_settings: Callable[..., Settings],
) -> None:
    settings = make_settings(named_transformations={"hero": "c_fill,w_800"}, max_dpr=2.0)
    with TestClient(create_app(settings)) as client:
        named = client.get("/playground/api/explain", params={"t": "t_hero"}).json()
        assert named["canonical"] == "c_fill,w_800" and named["tidy"] == "t_hero"
        too_dense = client.get("/playground/api/explain", params={"t": "dpr_3"}).json()
        assert too_dense["error"] == "Invalid dpr in transformation: 3 (at most 2)"


def test_explain_refuses_overlong_input(client: TestClient) -> None:
    answer = client.get("/playground/api/explain", params={"t": "w_1," * 2000}).json()
    assert answer == {"ok": False, "error": "The transformation is too long", "parameter": None}


def test_what_explain_accepts_delivery_renders(client: TestClient) -> None:
    tidy = client.get("/playground/api/explain", params={"t": "h_40,c_fill,w_60/e_grayscale"})
    response = client.get(f"/image/upload/{tidy.json()['tidy']}/astronaut.jpg")
    assert response.status_code == 200 and response.headers["content-type"] == "image/jpeg"
