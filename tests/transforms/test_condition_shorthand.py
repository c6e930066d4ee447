"""Cloudinary's conditional shorthands: a condition sharing its component with other
parameters guards that component alone, unless an `if_else` follows, which makes it the
first branch of an if/else (Cloudinary's "Else branch transformations"); an `if_else`
with parameters runs them as the else branch, and ends the block when no `if_end` does."""

from __future__ import annotations

import pytest

from tests.transforms.imaging import RED, jpeg, run, solid
from transforms.errors import BadRequest
from transforms.grammar import canonical, parse_url
from transforms.model import Step
from transforms.variables import explicit_blocks


def source(width: int) -> bytes:
    return jpeg(solid(width, 60, RED))


@pytest.mark.parametrize(
    ("url", "wide", "narrow"),
    [
        # A one-component condition, an else with parameters, an if_end.
        ("/if_w_gt_100,w_100/if_else,w_50/if_end/x.jpg", 100, 50),
        # The same without if_end: the if_else component alone is the else branch.
        ("/if_w_gt_100,w_100/if_else,w_50/x.jpg", 100, 50),
        # The if_else ends the block; what follows runs on both branches.
        ("/if_w_gt_100,w_100/if_else,w_50/c_scale,w_0.5/x.jpg", 50, 25),
        # A block whose if_else carries the else branch and ends it.
        ("/if_w_gt_100/w_100/if_else,w_50/x.jpg", 100, 50),
        # The long form Cloudinary recommends, for comparison.
        ("/if_w_gt_100/w_100/if_else/w_50/if_end/x.jpg", 100, 50),
        # An else branch of several components, closed by if_end.
        ("/if_w_gt_100,w_100/if_else,w_60/c_scale,w_0.5/if_end/x.jpg", 100, 30),
        # No if_else: the condition guards its own component only.
        ("/if_w_gt_100,w_100/c_scale,w_0.5/x.jpg", 50, 40),
    ],
)
def test_both_branches(url: str, wide: int, narrow: int) -> None:
    assert run(url, source(400)).width == wide
    assert run(url, source(80)).width == narrow


def test_the_shorthand_is_written_out_as_a_block() -> None:
    steps = parse_url("/if_w_gt_100,w_100/if_else,w_50/if_end/x.jpg").steps
    blocks = explicit_blocks(steps)
    assert [step.condition for step in blocks] == ["w_gt_100", None, "else", None, "end"]
    assert blocks[1] == parse_url("/w_100/x.jpg").steps[0]
    assert blocks[3] == parse_url("/w_50/x.jpg").steps[0]


def test_the_canonical_form_keeps_what_was_written() -> None:
    url = "/image/upload/if_w_gt_100,w_100/if_else,w_50/if_end/x.jpg"
    t = parse_url(url)
    assert canonical(t).endswith("if_w_gt_100,w_100/if_else,w_50/if_end/x.jpg")
    assert parse_url(canonical(t)) == t


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("/w_100/if_else,w_50/x.jpg", "if_else without if_"),
        ("/if_w_gt_100,w_100/w_20/if_else,w_50/x.jpg", "if_else without if_"),
        ("/if_w_gt_100,w_100/if_else/w_50/x.jpg", "if_ without if_end"),
        ("/if_w_gt_100,w_100/if_end/x.jpg", "if_end without if_"),
    ],
)
def test_stray_branches_are_a_400_naming_them(url: str, problem: str) -> None:
    with pytest.raises(BadRequest, match=problem):
        parse_url(url)


def test_a_plain_chain_is_unchanged() -> None:
    steps = parse_url("/c_scale,w_10/if_w_gt_1,w_5/x.jpg").steps
    assert explicit_blocks(steps) == steps and Step() not in steps
