"""The SDK conformance corpus: URLs that pycloudinary and @cloudinary/url-gen write,
replayed against the app. Each renders (right format; right size where the URL fixes
it; JSON for fl_getinfo) or answers a 400 that docs/url-api.md documents."""

from __future__ import annotations

import importlib.util
import json
from collections import Counter
from pathlib import Path
from types import ModuleType

from tests.conformance.replay import CORPUS, replay

GENERATOR = Path(__file__).resolve().parents[2] / "scripts" / "conformance_corpus.py"


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("conformance_corpus", GENERATOR)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_corpus_url_renders_or_gives_a_documented_400() -> None:
    outcomes = replay()
    wrong = [f"{o.status} {o.kind} {o.url}" for o in outcomes if o.kind.startswith("wrong")]
    assert wrong == []
    kinds = Counter("rendered" if o.kind == "rendered" else "documented" for o in outcomes)
    # docs/url-api.md ("SDK conformance") reports 257 and 59; more may render as pixcast
    # learns (object gravities with a model), never fewer.
    assert kinds["rendered"] >= 257
    assert kinds["rendered"] + kinds["documented"] == len(outcomes) == 316


def test_the_recorded_sdk_urls_are_what_the_installed_pycloudinary_writes() -> None:
    corpus = json.loads(CORPUS.read_text())
    generator = _generator()
    assert generator.documented_options() == corpus["sources"]["pycloudinary cloudinary_url"]
    assert corpus["pycloudinary"] == "1.46.3" and corpus["url-gen"] == "1.22.0"
