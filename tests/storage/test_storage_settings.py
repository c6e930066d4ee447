"""Storage settings: s3:// origins and result_storage are checked when the settings are
built or the app is made, with a message naming the setting."""

from __future__ import annotations

from pathlib import Path

import pytest

from server.app import create_app
from server.settings import SettingsError, load_settings
from tests.origins.helpers import make_settings


def test_s3_origins_and_result_storage_are_accepted(tmp_path: Path) -> None:
    settings = make_settings(
        tmp_path,
        origins={"media": "s3://photos/assets", "raw/": "s3://raw-bucket?path_style=true"},
        result_storage="s3://results-bucket/pixcast",
    )
    assert settings.origins["media/"] == "s3://photos/assets/"
    assert settings.origins["raw/"] == "s3://raw-bucket?path_style=true"
    create_app(settings)  # every option is known


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"origins": {"media/": "s3://"}}, "origins base URL for 'media/'"),
        ({"origins": {"media/": "s3://UPPER/x"}}, "s3://bucket/prefix/"),
        ({"result_storage": "relative/dir"}, "result_storage must be s3://bucket/prefix"),
        ({"result_storage": "https://cdn.example/"}, "result_storage must be"),
    ],
)
def test_malformed_storage_urls_are_refused(
    tmp_path: Path, overrides: dict[str, object], message: str
) -> None:
    with pytest.raises(SettingsError, match=message.replace("?", r"\?")):
        make_settings(tmp_path, **overrides)


def test_an_unknown_s3_option_stops_start_up(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, result_storage="s3://results-bucket/p?endpont=http://x")
    with pytest.raises(SettingsError, match=r"result_storage: unknown option\(s\) \['endpont'\]"):
        create_app(settings)


def test_result_storage_from_the_environment(tmp_path: Path) -> None:
    (tmp_path / "originals").mkdir()
    environ = {
        "PIXCAST_ORIGINALS": str(tmp_path / "originals"),
        "PIXCAST_RESULT_STORAGE": "s3://results-bucket/shared",
        "PIXCAST_ORIGINS": "media/=s3://photos/assets/",
    }
    settings = load_settings({}, environ)
    assert settings.result_storage == "s3://results-bucket/shared"
    assert settings.origins == {"media/": "s3://photos/assets/"}
