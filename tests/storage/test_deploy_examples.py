"""examples/deploy's scale-out recipe: the two replica configurations run for real against
a shared bucket (moto, loopback), and the Kubernetes manifest, which cannot run here (no
cluster), parses and names only settings and routes pixcast has."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from botocore.exceptions import ClientError

from server.app import create_app
from server.settings import ENV_PREFIX, NAMES, load_settings
from tests.load.conftest import metric
from tests.load.serving import start
from tests.origins.helpers import image_size, jpeg
from tests.storage.conftest import MotoS3

DEPLOY = Path(__file__).resolve().parents[2] / "examples" / "deploy"
MANIFEST = DEPLOY / "kubernetes" / "pixcast.yaml"
REPLICAS = [DEPLOY / "shared-bucket" / f"pixcast-{name}.toml" for name in "ab"]


def manifest() -> dict[str, Any]:
    return {doc["kind"]: doc for doc in yaml.safe_load_all(MANIFEST.read_text())}


def container(docs: dict[str, Any]) -> Any:
    return docs["Deployment"]["spec"]["template"]["spec"]["containers"][0]


def test_the_manifest_has_each_part_and_they_fit_together() -> None:
    docs = manifest()
    assert set(docs) == {"Secret", "Deployment", "Service", "HorizontalPodAutoscaler"}
    pod = docs["Deployment"]["spec"]["template"]
    assert docs["Service"]["spec"]["selector"] == pod["metadata"]["labels"]
    assert docs["HorizontalPodAutoscaler"]["spec"]["scaleTargetRef"]["name"] == "pixcast"
    cpu = docs["HorizontalPodAutoscaler"]["spec"]["metrics"][0]["resource"]["name"]
    assert cpu == "cpu" and container(docs)["resources"]["requests"]["cpu"]
    secret = container(docs)["envFrom"][0]["secretRef"]["name"]
    assert secret == docs["Secret"]["metadata"]["name"]


def test_the_manifest_names_only_real_settings_and_routes(tmp_path: Path) -> None:
    docs = manifest()
    env = {item["name"]: item["value"] for item in container(docs)["env"]}
    env |= docs["Secret"]["stringData"]
    pixcast = {name: value for name, value in env.items() if name.startswith(ENV_PREFIX)}
    unknown = [name for name in pixcast if name[len(ENV_PREFIX) :].lower() not in NAMES]
    assert unknown == []
    (tmp_path / "originals").mkdir()
    paths = {"PIXCAST_ORIGINALS": str(tmp_path / "originals")}
    paths["PIXCAST_CACHE_DIR"] = str(tmp_path / "cache")
    settings = load_settings({}, pixcast | paths)  # every value is valid, too
    assert settings.result_storage == "s3://pixcast-media/shared"
    assert int(pixcast["PIXCAST_PORT"]) == container(docs)["ports"][0]["containerPort"]
    routes = {getattr(route, "path", None) for route in create_app(settings).routes}
    for probe in ("readinessProbe", "livenessProbe"):
        assert container(docs)[probe]["httpGet"]["path"] in routes


@pytest.fixture
def media_bucket(aws_env: MotoS3) -> Any:
    """The bucket the example configurations name (shared by the tests that use it)."""
    s3 = aws_env.client()
    try:
        s3.create_bucket(Bucket="pixcast-media")
    except ClientError as error:
        if error.response["Error"]["Code"] != "BucketAlreadyOwnedByYou":
            raise
    return s3


def test_two_replicas_from_the_example_share_the_bucket(tmp_path: Path, media_bucket: Any) -> None:
    media_bucket.put_object(Bucket="pixcast-media", Key="originals/deploy.jpg", Body=jpeg())
    originals = tmp_path / "originals"
    originals.mkdir()
    url = "/c_fill,w_123,h_77/media/deploy.jpg"
    servers = []
    try:
        for config in REPLICAS:
            cache = tmp_path / config.stem
            servers.append(
                start(originals, cache, tmp_path / f"{config.stem}.log", "--config", str(config))
            )
        first = httpx.get(servers[0].base + url, timeout=30)
        second = httpx.get(servers[1].base + url, timeout=30)
        second_renders = metric(
            httpx.get(servers[1].base + "/metrics").text, "pixcast_renders_total"
        )
    finally:
        for server in servers:
            server.stop()
    assert (first.status_code, first.headers["x-cache"]) == (200, "MISS"), first.text
    assert (second.status_code, second.headers["x-cache"]) == (200, "HIT")
    assert image_size(second.content) == (123, 77) and second_renders == 0
