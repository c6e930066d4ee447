"""The issue's setting names, from the environment and the config file, checked at start-up."""

from __future__ import annotations

import ipaddress
from pathlib import Path

import pytest

from server.settings import SettingsError, load_settings


@pytest.fixture
def base_env(tmp_path: Path) -> dict[str, str]:
    (tmp_path / "originals").mkdir()
    return {
        "PIXCAST_ORIGINALS": str(tmp_path / "originals"),
        "PIXCAST_CACHE_DIR": str(tmp_path / "cache"),
    }


def test_defaults_are_safe(base_env: dict[str, str]) -> None:
    settings = load_settings({}, base_env)
    assert settings.api_secret == ()
    assert settings.strict is False
    assert settings.fetch_allowed_hosts == ()  # fetch is off
    assert settings.allow_private_networks == ()
    assert dict(settings.origins) == {}
    assert settings.max_source_megapixels == 50.0
    assert settings.max_source_bytes == 50 * 1024 * 1024
    assert (settings.max_output_side, settings.max_dpr) == (8192, 4.0)
    assert settings.max_components == 20
    assert settings.request_timeout == 30.0
    assert settings.remote_ttl == 3600


def test_environment_names(base_env: dict[str, str]) -> None:
    env = base_env | {
        "PIXCAST_API_SECRET": "current, previous",
        "PIXCAST_STRICT": "true",
        "PIXCAST_STRICT_ALLOWED": "t_avatar; c_fill,w_300,h_200/q_auto  w_100",
        "PIXCAST_FETCH_ALLOWED_HOSTS": "upload.wikimedia.org, *.example.org",
        "PIXCAST_ALLOW_PRIVATE_NETWORKS": "10.0.0.0/8,fd00::/8",
        "PIXCAST_ORIGINS": "media=https://bucket.example.com/assets,docs/=http://10.0.0.5/d/",
        "PIXCAST_MAX_SOURCE_MEGAPIXELS": "24.5",
        "PIXCAST_MAX_SOURCE_BYTES": "10000000",
        "PIXCAST_MAX_OUTPUT_SIDE": "4096",
        "PIXCAST_MAX_DPR": "3",
        "PIXCAST_REQUEST_TIMEOUT": "7.5",
        "PIXCAST_MAX_COMPONENTS": "8",
        "PIXCAST_REMOTE_TTL": "60",
    }
    settings = load_settings({}, env)
    assert settings.api_secret == ("current", "previous")
    assert settings.strict is True
    assert settings.strict_allowed == ("t_avatar", "c_fill,w_300,h_200/q_auto", "w_100")
    assert settings.fetch_allowed_hosts == ("upload.wikimedia.org", "*.example.org")
    assert settings.allow_private_networks == (
        ipaddress.ip_network("10.0.0.0/8"),
        ipaddress.ip_network("fd00::/8"),
    )
    assert dict(settings.origins) == {
        "media/": "https://bucket.example.com/assets/",
        "docs/": "http://10.0.0.5/d/",
    }
    assert settings.max_source_megapixels == 24.5
    assert settings.max_source_bytes == 10_000_000
    assert (settings.max_output_side, settings.max_dpr) == (4096, 3.0)
    assert (settings.request_timeout, settings.max_components, settings.remote_ttl) == (7.5, 8, 60)


def test_config_file_forms(tmp_path: Path, base_env: dict[str, str]) -> None:
    config = tmp_path / "pixcast.toml"
    config.write_text(
        'api_secret = ["one", "two"]\n'
        "strict = true\n"
        'strict_allowed = ["c_fill,w_100,h_100", "t_avatar"]\n'
        'fetch_allowed_hosts = ["example.org"]\n'
        'allow_private_networks = ["127.0.0.0/8"]\n'
        "[origins]\n"
        '"media/photos" = "https://cdn.example.com/p/"\n'
        '"media" = "https://cdn.example.com/m/"\n',
        encoding="utf-8",
    )
    settings = load_settings({"config": str(config)}, base_env)
    assert settings.api_secret == ("one", "two")
    assert settings.strict_allowed == ("c_fill,w_100,h_100", "t_avatar")
    # Longest prefix first, so media/photos/ wins over media/.
    assert list(settings.origins) == ["media/photos/", "media/"]


def test_the_secret_never_shows_in_repr(base_env: dict[str, str]) -> None:
    settings = load_settings({}, base_env | {"PIXCAST_API_SECRET": "hunter2"})
    assert "hunter2" not in repr(settings)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"PIXCAST_STRICT": "maybe"}, "strict .*expected true or false"),
        ({"PIXCAST_ALLOW_PRIVATE_NETWORKS": "10.0.0.1/8"}, "allow_private_networks .*CIDR"),
        ({"PIXCAST_ALLOW_PRIVATE_NETWORKS": "intranet"}, "allow_private_networks .*CIDR"),
        ({"PIXCAST_FETCH_ALLOWED_HOSTS": "https://example.org"}, "fetch_allowed_hosts entry"),
        ({"PIXCAST_FETCH_ALLOWED_HOSTS": "Example.org"}, "fetch_allowed_hosts entry"),
        ({"PIXCAST_ORIGINS": "media"}, "origins .*prefix=base-URL pairs"),
        ({"PIXCAST_ORIGINS": "media=ftp://x/"}, "origins base URL for 'media'"),
        ({"PIXCAST_ORIGINS": "media=https://u:p@x/"}, "origins base URL"),
        ({"PIXCAST_ORIGINS": "../up=https://x/"}, "origins prefix '../up'"),
        ({"PIXCAST_MAX_SOURCE_MEGAPIXELS": "0"}, "max_source_megapixels must be"),
        ({"PIXCAST_MAX_SOURCE_BYTES": "10"}, "max_source_bytes must be"),
        ({"PIXCAST_MAX_OUTPUT_SIDE": "0"}, "max_output_side must be"),
        ({"PIXCAST_MAX_COMPONENTS": "0"}, "max_components must be"),
        ({"PIXCAST_REQUEST_TIMEOUT": "0"}, "request_timeout must be"),
        ({"PIXCAST_REMOTE_TTL": "-1"}, "remote_ttl must be"),
    ],
)
def test_bad_values_stop_start_up(
    base_env: dict[str, str], env: dict[str, str], message: str
) -> None:
    with pytest.raises(SettingsError, match=message):
        load_settings({}, base_env | env)
