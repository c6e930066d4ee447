"""Settings: defaults < TOML file < PIXCAST_* environment < flags, checked at start-up."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from server.app import create_app
from server.settings import Settings, SettingsError, available_cpus, load_settings


def write_config(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def base_env(originals: Path, tmp_path: Path) -> dict[str, str]:
    return {"PIXCAST_ORIGINALS": str(originals), "PIXCAST_CACHE_DIR": str(tmp_path / "cache")}


def test_defaults(base_env: dict[str, str]) -> None:
    settings = load_settings({}, base_env)
    assert (settings.host, settings.port) == ("127.0.0.1", 8080)
    assert settings.cache_size_mb == 1024
    assert settings.render_threads == 2 * available_cpus() >= 2  # one process, two per CPU
    assert settings.workers == 1
    assert settings.max_dpr == 4.0
    assert settings.cache_control_max_age == 86400
    assert dict(settings.named_transformations) == {}


def test_default_paths_match_the_documented_ones() -> None:
    defaults = {f: getattr(Settings, f, None) for f in ("originals", "cache_dir")}
    assert defaults == {"originals": Path("examples/images"), "cache_dir": Path("var/cache")}


def test_precedence_file_then_env_then_flags(tmp_path: Path, base_env: dict[str, str]) -> None:
    config = write_config(
        tmp_path / "pixcast.toml", "port = 9001\nrender_threads = 3\nmax_dpr = 2.5\n"
    )
    env = base_env | {"PIXCAST_CONFIG": str(config), "PIXCAST_PORT": "9002"}
    env["PIXCAST_RENDER_THREADS"] = "5"
    settings = load_settings({"render_threads": "7"}, env)
    assert settings.max_dpr == 2.5  # only the file sets it
    assert settings.port == 9002  # env beats the file
    assert settings.render_threads == 7  # the flag beats env and file


def test_config_flag_beats_config_env(tmp_path: Path, base_env: dict[str, str]) -> None:
    from_env = write_config(tmp_path / "a.toml", "port = 1111\n")
    from_flag = write_config(tmp_path / "b.toml", "port = 2222\n")
    env = base_env | {"PIXCAST_CONFIG": str(from_env)}
    assert load_settings({"config": str(from_flag)}, env).port == 2222


def test_relative_paths_in_config_are_relative_to_the_file(tmp_path: Path, originals: Path) -> None:
    folder = tmp_path / "etc"
    folder.mkdir()
    config = write_config(folder / "pixcast.toml", 'originals = "../originals"\n')
    settings = load_settings({"config": str(config)}, {})
    assert settings.originals.resolve() == originals.resolve()


def test_named_transformations_from_toml_are_served(
    tmp_path: Path, base_env: dict[str, str]
) -> None:
    config = write_config(
        tmp_path / "pixcast.toml",
        '[named_transformations]\nthumb = "c_fill,g_center,w_150,h_150"\n'
        'small = "w_50"\ntwo = "c_fill,w_80,h_80/e_grayscale"\n',
    )
    settings = load_settings({"config": str(config)}, base_env)
    with TestClient(create_app(settings)) as client:
        thumb = client.get("/t_thumb/camera.jpg")
        chained = client.get("/t_two/camera.jpg")
        missing = client.get("/t_nope/camera.jpg")
    assert thumb.status_code == 200
    assert thumb.headers["content-type"] == "image/jpeg"
    assert chained.status_code == 200
    assert missing.status_code == 400
    assert "nope" in missing.headers["x-cld-error"]


def test_named_transformations_from_env_json(base_env: dict[str, str]) -> None:
    env = base_env | {"PIXCAST_NAMED_TRANSFORMATIONS": json.dumps({"thumb": "w_10"})}
    assert dict(load_settings({}, env).named_transformations) == {"thumb": "w_10"}


def test_named_transformations_are_read_only(base_env: dict[str, str]) -> None:
    env = base_env | {"PIXCAST_NAMED_TRANSFORMATIONS": '{"thumb": "w_10"}'}
    table = load_settings({}, env).named_transformations
    with pytest.raises(TypeError):
        table["other"] = "w_20"  # type: ignore[index]


def test_bad_named_transformation_stops_start_up(base_env: dict[str, str]) -> None:
    env = base_env | {"PIXCAST_NAMED_TRANSFORMATIONS": '{"thumb": "w_abc"}'}
    with pytest.raises(SettingsError, match=r"thumb.*Invalid width"):
        create_app(load_settings({}, env))


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"PIXCAST_PORT": "abc"}, r"port \(from environment PIXCAST_PORT\): expected an integer"),
        ({"PIXCAST_PORT": "70000"}, "port must be between 1 and 65535"),
        ({"PIXCAST_WORKERS": "0"}, "workers must be between"),
        ({"PIXCAST_RENDER_THREADS": "-1"}, "render_threads must be between"),
        ({"PIXCAST_QUEUE_LIMIT": "-1"}, "queue_limit must be between"),
        ({"PIXCAST_ACCESS_LOG": "xml"}, "access_log must be one of text, json, off"),
        ({"PIXCAST_MAX_DPR": "x"}, "max_dpr .*expected a number"),
        ({"PIXCAST_MAX_DPR": "0.5"}, "max_dpr must be between"),
        ({"PIXCAST_CACHE_SIZE_MB": "0"}, "cache_size_mb must be at least 1"),
        ({"PIXCAST_CACHE_CONTROL_MAX_AGE": "-1"}, "cache_control_max_age must be 0 or more"),
        ({"PIXCAST_ORIGINALS": "/no/such/dir"}, "originals must be an existing directory"),
        ({"PIXCAST_NAMED_TRANSFORMATIONS": "{not json"}, "named_transformations .*JSON"),
        ({"PIXCAST_NAMED_TRANSFORMATIONS": '{"a.b": "w_1"}'}, "name 'a.b' must be"),
        ({"PIXCAST_NAMED_TRANSFORMATIONS": '{"a": 3}'}, "expected a table"),
        ({"PIXCAST_HOST": " "}, "host must not be empty"),
    ],
)
def test_bad_values_are_rejected(
    base_env: dict[str, str], env: dict[str, str], message: str
) -> None:
    with pytest.raises(SettingsError, match=message):
        load_settings({}, base_env | env)


def test_cache_dir_that_is_a_file_is_rejected(tmp_path: Path, base_env: dict[str, str]) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(SettingsError, match="cache_dir exists and is not a directory"):
        load_settings({"cache_dir": str(blocker)}, base_env)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("prot = 1\n", "unknown setting.*prot"),
        ("port = [\n", "cannot read config file"),
        ('port = "eighty"\n', "port .*config file.*expected an integer"),
        ("port = true\n", "expected an integer"),
    ],
)
def test_bad_config_file(tmp_path: Path, base_env: dict[str, str], text: str, message: str) -> None:
    config = write_config(tmp_path / "bad.toml", text)
    with pytest.raises(SettingsError, match=message):
        load_settings({"config": str(config)}, base_env)


def test_missing_config_file(tmp_path: Path, base_env: dict[str, str]) -> None:
    with pytest.raises(SettingsError, match="cannot read config file"):
        load_settings({"config": str(tmp_path / "absent.toml")}, base_env)


def test_settings_are_frozen(base_env: dict[str, str]) -> None:
    settings = load_settings({}, base_env)
    with pytest.raises(AttributeError):
        settings.port = 1  # type: ignore[misc]
