"""Variables and conditions: parsed with the URL, evaluated against the real source when
the render plans its steps, and kept in the canonical form."""

from __future__ import annotations

import pytest

from detectors.base import Detectors, Region
from detectors.probe import Probe
from detectors.service import RegionService
from tests.transforms.imaging import RED, decode, jpeg, pixels, run, solid
from transforms.errors import BadRequest
from transforms.expressions import parse_condition, parse_expression
from transforms.grammar import canonical, parse_url
from transforms.pipeline import render
from transforms.variables import NO_FACTS, Facts, SourceFacts


def facts(
    width: int = 1200, height: int = 800, faces: int = 0, source: SourceFacts = NO_FACTS
) -> Facts:
    def count() -> int:
        return faces

    return Facts((width, height), 1, lambda: (width, height), count, source=source)


@pytest.mark.parametrize(
    ("expression", "value"),
    [
        ("iw_div_2", 600.0),
        ("ih_mul_0.5_add_10", 410.0),
        ("2_add_3_mul_4", 14.0),  # mul binds tighter than add
        ("2_pow_3_pow_2", 512.0),  # pow is right-associative
        ("iw_sub_ih_sub_100", 300.0),  # left to right
        ("iw_mod_7", 3.0),
        ("ar_mul_100", 150.0),
        ("3:4", 0.75),
        ("!text!", "text"),
    ],
)
def test_arithmetic(expression: str, value: object) -> None:
    assert parse_expression(expression).evaluate(facts()) == value


@pytest.mark.parametrize(
    ("condition", "width", "expected"),
    [
        ("w_gt_1000", 1200, True),
        ("w_gt_1000", 800, False),
        ("w_gte_800_and_h_lt_700", 800, False),
        ("w_lt_500_or_h_eq_800", 1200, True),
        ("w_lt_500_or_w_gt_1100_and_h_lt_900", 1200, True),
        ("ar_gt_3:4", 800, True),
        ("iw_ne_w", 800, False),
        ("!sale!_in_tags", 800, False),  # no tags are stored yet
        ("!sale!_nin_tags", 800, True),
        ("ctx:!kind!_eq_!shoe!", 800, False),
    ],
)
def test_conditions(condition: str, width: int, expected: bool) -> None:
    assert parse_condition(condition).evaluate(facts(width)) is expected


def test_tag_conditions_read_the_source_facts_hook() -> None:
    tagged = facts(source=SourceFacts(tags=("sale", "new"), context={"kind": "shoe"}))
    assert parse_condition("!sale:new!_in_tags").evaluate(tagged)
    assert parse_condition("ctx:!kind!_eq_!shoe!").evaluate(tagged)
    assert not parse_condition("!sale!_in_tags").evaluate(facts(source=NO_FACTS))


@pytest.mark.parametrize(
    ("url", "names"),
    [
        ("/w_$size/x.jpg", "$size"),
        ("/if_w_gt_$limit/e_sepia/if_end/x.jpg", "$limit"),
        ("/w_iw_times_2/x.jpg", "times"),
        ("/w_qq_div_2/x.jpg", "qq"),
        ("/if_w_bigger_100/e_sepia/if_end/x.jpg", "expected <value>_<operator>_<value>"),
        ("/if_w_gt_100/e_sepia/x.jpg", "if_ without if_end"),
        ("/e_sepia/if_end/x.jpg", "if_end without if_"),
        ("/w_iw_div_/x.jpg", "iw_div_"),
    ],
)
def test_unknown_variables_and_bad_expressions_are_400_naming_them(url: str, names: str) -> None:
    with pytest.raises(BadRequest, match=names.replace("$", r"\$")):
        parse_url(url)


@pytest.mark.parametrize(
    "url",
    [
        "/$w_200/$ar_0.8/ar_$ar,c_fill,g_center,w_$w/woman.jpg",
        "/if_w_gt_1000,c_scale,w_1000/x.jpg",
        "/$h_300/if_ar_gt_1_and_fc_eq_0/c_fill,h_$h,w_iw_div_2/if_else/e_sepia/if_end/x.jpg",
        "/$h_ih_mul_0.5/c_scale,h_$h/x.png",
    ],
)
def test_canonical_form_keeps_variables_and_conditions(url: str) -> None:
    t = parse_url(url)
    assert parse_url(canonical(t)) == t
    assert canonical(t) == "/image/upload" + url


def test_variable_driven_fill_is_exactly_the_computed_size() -> None:
    source = jpeg(solid(1200, 800, RED))
    rendered = run("/$w_iw_div_4/$h_$w_mul_0.5/c_fill,h_$h,w_$w/x.jpg", source)
    assert (rendered.width, rendered.height) == (300, 150)


def test_doc_example_variables() -> None:
    rendered = run("/$widthval_200/$arval_0.8/ar_$arval,c_fill,w_$widthval/w.jpg", _source(1200))
    assert (rendered.width, rendered.height) == (200, 250)


def _source(width: int) -> bytes:
    return jpeg(solid(width, 600, RED))


@pytest.mark.parametrize(("width", "expected"), [(1200, 1000), (800, 800)])
def test_single_component_condition(width: int, expected: int) -> None:
    rendered = run("/if_w_gt_1000,c_scale,w_1000/x.jpg", _source(width))
    assert rendered.width == expected


@pytest.mark.parametrize(("width", "expected"), [(1200, (500, 250)), (800, (100, 75))])
def test_condition_takes_the_right_branch(width: int, expected: tuple[int, int]) -> None:
    url = "/if_w_gt_1000/c_scale,w_500/e_grayscale/if_else/c_scale,w_100/if_end/x.jpg"
    rendered = run(url, _source(width))
    assert (rendered.width, rendered.height) == expected
    red, green, _ = (int(v) for v in pixels(decode(rendered.data))[5, 5, :3])
    assert (red - green > 100) is (width <= 1000)  # the grayscale branch only on 1200


def test_condition_sees_the_current_width_after_a_resize() -> None:
    url = "/c_scale,w_300/if_w_gt_1000/c_scale,w_50/if_else/c_scale,w_200/if_end/x.jpg"
    assert run(url, _source(1200)).width == 200


def test_text_layer_reads_a_string_variable() -> None:
    t = parse_url("/$label_!Hi!/l_text:Arial_20:$(label)/x.jpg")
    assert "$(label)" in canonical(t)
    assert run("/$label_!Hi!/l_text:Arial_20:$(label)/x.jpg", _source(400)).width == 400


def test_face_count_without_a_detector_is_a_400_only_when_read() -> None:
    assert run("/if_w_gt_1_or_fc_gt_0/c_scale,w_10/if_end/x.jpg", _source(400)).width == 10
    with pytest.raises(BadRequest, match="fc"):
        run("/if_fc_gt_0/c_scale,w_10/if_end/x.jpg", _source(400))


def test_a_condition_inside_a_layer_is_a_400_not_ignored() -> None:
    with pytest.raises(BadRequest, match="inside a layer"):
        parse_url("/l_logo/if_w_gt_10/c_scale,w_10/if_end/fl_layer_apply/x.jpg")


def test_a_whole_layer_may_sit_inside_a_condition() -> None:
    t = parse_url("/if_w_gt_10/l_logo/c_scale,w_10/fl_layer_apply/if_end/x.jpg")
    assert [s.condition for s in t.steps] == ["w_gt_10", None, "end"]
    assert t.steps[1].layer is not None


def test_nested_blocks() -> None:
    url = "/if_w_gt_100/if_h_gt_1000/c_scale,w_10/if_else/c_scale,w_20/if_end/if_end/x.jpg"
    assert run(url, _source(400)).width == 20
    assert run(url, jpeg(solid(50, 50, RED))).width == 50


class CountingFaces:
    """A face detector that finds two faces and counts how often it is asked."""

    name = "faces"

    def __init__(self) -> None:
        self.calls = 0

    def detect(self, probe: Probe) -> list[Region]:
        self.calls += 1
        return [Region("face", 0.9, 0.1, 0.1, 0.2, 0.2), Region("face", 0.8, 0.6, 0.6, 0.2, 0.2)]

    def close(self) -> None:
        pass


@pytest.mark.parametrize(
    ("url", "calls", "width"),
    [
        ("/if_fc_gte_2/c_scale,w_10/if_end/x.jpg", 1, 10),
        ("/if_fc_gt_2/c_scale,w_10/if_end/x.jpg", 1, 400),
        ("/$n_fc_mul_5/c_scale,w_$n/x.jpg", 1, 10),
        ("/if_w_gt_100/c_scale,w_10/if_end/x.jpg", 0, 10),
    ],
)
def test_fc_runs_the_face_detector_only_when_read(url: str, calls: int, width: int) -> None:
    faces = CountingFaces()
    service = RegionService(Detectors(available={"faces": faces}))
    rendered = render(parse_url(url), _source(400), None, detection=service)
    assert (faces.calls, rendered.width) == (calls, width)
