"""The `e_` effects: a registry of small functions with their parameters declared once.

`parse_effect` validates an `e_` value, `apply_effect` runs it on an `EffectInput`. The
modules below register the effects by kind; importing this package registers them all.
"""

from transforms.effects import alpha, art, colour, detail, dither, regions, shape, tone
from transforms.effects.params import Values
from transforms.effects.registry import (
    REGISTRY,
    Box,
    EffectInput,
    EffectSpec,
    apply_effect,
    effect,
    parse_effect,
    takes_region,
)

__all__ = [
    "REGISTRY",
    "Box",
    "EffectInput",
    "EffectSpec",
    "Values",
    "alpha",
    "apply_effect",
    "art",
    "colour",
    "detail",
    "dither",
    "effect",
    "parse_effect",
    "regions",
    "shape",
    "takes_region",
    "tone",
]
