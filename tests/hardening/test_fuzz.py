"""Property: whatever URL a client sends over whatever original (good, truncated or
corrupt, in every format), pixcast answers without a 5xx other than 503/504, and every
4xx names its problem in X-Cld-Error. A fixed seed and example count keep CI repeatable;
`make fuzz` runs many more examples (PIXCAST_FUZZ_EXAMPLES)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, seed, settings
from starlette.testclient import TestClient

from server.app import create_app
from server.settings import Settings
from tests.hardening.fuzzing import EXAMPLES, SEED, url_strategy, write_originals
from tests.hardening.heic import heic_sample

ALLOWED_5XX = {503, 504}


@pytest.fixture(scope="module")
def fuzz_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


@pytest.fixture(scope="module")
def names(fuzz_root: Path) -> list[str]:
    originals = fuzz_root / "originals"
    originals.mkdir()
    return write_originals(originals, {"good-heic.heic": heic_sample().read_bytes()})


@pytest.fixture(scope="module")
def tally() -> Iterator[Counter[str]]:
    counts: Counter[str] = Counter()
    yield counts
    answered = ", ".join(f"{counts[kind]} {kind}" for kind in ("2xx", "4xx", "5xx", "503/504"))
    print(f"\nfuzzed {counts['requests']} requests: {answered}")


@pytest.fixture(scope="module")
def client(fuzz_root: Path, names: list[str]) -> Iterator[TestClient]:
    settings = Settings(
        originals=fuzz_root / "originals",
        cache_dir=fuzz_root / "cache",
        detectors="saliency",
        render_threads=2,
        max_output_side=640,  # keeps each example cheap; the limits are tested elsewhere
        named_transformations={"thumb": "c_fill,w_40,h_40"},
    )
    with TestClient(create_app(settings), raise_server_exceptions=False) as test_client:
        yield test_client


def check_answer(client: TestClient, url: str, tally: Counter[str]) -> None:
    response = client.get(url)
    status = response.status_code
    tally["requests"] += 1
    tally[f"{status // 100}xx"] += 1
    if status in ALLOWED_5XX:
        tally["503/504"] += 1
    assert status < 500 or status in ALLOWED_5XX, (url, status, response.text[:300])
    if 400 <= status < 500:
        assert response.headers.get("x-cld-error"), (url, status)


def test_no_url_over_any_original_is_a_5xx(
    client: TestClient, names: list[str], tally: Counter[str]
) -> None:
    @seed(SEED)
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    )
    @given(url=url_strategy(names))
    def answer(url: str) -> None:
        check_answer(client, url, tally)

    answer()
    assert tally["requests"] >= EXAMPLES


def test_the_check_itself_catches_a_5xx(
    make_settings: Callable[..., Settings], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The property would see a 500: a render that crashes is one."""

    def crash(*args: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr("transforms.pipeline.render", crash)
    app = create_app(make_settings())
    with TestClient(app, raise_server_exceptions=False) as broken, pytest.raises(AssertionError):
        check_answer(broken, "/w_10/camera.jpg", Counter())
