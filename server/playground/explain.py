"""Validation as you type: a transformation string → an explanation of every parameter, or
the error with the position of the parameter that caused it.

Positions are character offsets into the string as typed, so the page can highlight them.
Each parameter is parsed on its own with the server's grammar, which both locates errors
exactly and guarantees that what the playground accepts, delivery accepts too.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields

from server.playground.describe import DESCRIBE
from transforms.errors import BadRequest
from transforms.grammar import (
    MAX_COMPONENTS,
    canonical_steps,
    parse_component,
    parse_steps,
    step_text,
)
from transforms.model import Step

_SPACE_AND_SLASHES = " \t\r\n/"
_ORDER = {name: index for index, name in enumerate(DESCRIBE)}


@dataclass(frozen=True)
class Span:
    """Where something is in the typed string: [start, end) offsets and component index."""

    start: int
    end: int
    component: int


@dataclass(frozen=True)
class Param:
    """One `key_value` as typed, with what it means. `field` is None for `t_` names."""

    text: str
    span: Span
    field: str | None
    explanation: str
    expands_to: str = ""


@dataclass(frozen=True)
class Component:
    """One `/`-separated part; params are listed in the order pixcast applies them."""

    text: str
    span: Span
    params: tuple[Param, ...]
    tidy: str


@dataclass(frozen=True)
class Explanation:
    components: tuple[Component, ...]
    canonical: str
    tidy: str


class Invalid(Exception):
    """The string does not parse; `span` points at the offending parameter when known."""

    def __init__(self, message: str, span: Span | None) -> None:
        super().__init__(message)
        self.message = message
        self.span = span


def explain(text: str, named: Mapping[str, str], max_dpr: float) -> Explanation:
    """Explain a transformation string (`c_fill,w_300/e_sepia`); raises Invalid."""
    lead = len(text) - len(text.lstrip(_SPACE_AND_SLASHES))
    body = text.strip(_SPACE_AND_SLASHES)
    pieces = _pieces(body, "/", lead) if body else []
    if len(pieces) > MAX_COMPONENTS:
        start = pieces[MAX_COMPONENTS][1]
        span = Span(start, lead + len(body), MAX_COMPONENTS)
        raise Invalid(f"Too many chained transformations (at most {MAX_COMPONENTS})", span)
    components = tuple(
        _component(piece, start, index, named, max_dpr)
        for index, (piece, start) in enumerate(pieces)
    )
    try:
        steps = parse_steps(body, named)
    except BadRequest as error:  # e.g. named transformations that nest too deeply
        raise Invalid(error.message, None) from None
    tidy = "/".join(component.tidy for component in components)
    return Explanation(components, canonical_steps(steps), tidy)


def _pieces(text: str, separator: str, offset: int) -> list[tuple[str, int]]:
    """`text.split(separator)` with each piece's start offset."""
    found = []
    for piece in text.split(separator):
        found.append((piece, offset))
        offset += len(piece) + len(separator)
    return found


def _component(
    text: str, start: int, index: int, named: Mapping[str, str], max_dpr: float
) -> Component:
    span = Span(start, start + len(text), index)
    if not text:
        raise Invalid(
            "Invalid URL: empty component (two / in a row)", Span(start - 1, start, index)
        )
    params: list[Param] = []
    seen: set[str] = set()
    for part, offset in _pieces(text, ",", start):
        param = _param(part, Span(offset, offset + len(part), index), named, max_dpr)
        if param.field in seen and param.field != "flags":  # repeated fl_ add up
            param = _replaced(param)
        seen.add(param.field or "")
        params.append(param)
    params.sort(key=lambda p: _ORDER.get(p.field or "", -1))
    return Component(text, span, tuple(params), _tidy(text, params, named))


def _param(part: str, span: Span, named: Mapping[str, str], max_dpr: float) -> Param:
    if not part:
        raise Invalid("Invalid transformation: empty parameter (two , in a row)", _widen(span))
    try:
        steps = parse_component(part, named)
    except BadRequest as error:
        raise Invalid(error.message, span) from None
    if part.startswith("t_"):
        expanded = canonical_steps(tuple(steps))
        names = part[2:].replace(".", ", ")
        explanation = f"Named transformation {names}: {expanded.replace('/', ' then ')}."
        return Param(part, span, None, explanation, expanded)
    name, value = _only_field(steps[0])
    if name == "dpr" and isinstance(value, float) and value > max_dpr:
        message = f"Invalid dpr in transformation: {value:g} (at most {max_dpr:g})"
        raise Invalid(message, span)
    return Param(part, span, name, DESCRIBE[name](value))


def _only_field(step: Step) -> tuple[str, object]:
    """The one field a single-parameter Step sets."""
    for item in fields(step):
        value = getattr(step, item.name)
        if value is not None and value != ():
            return item.name, value
    raise AssertionError(f"a one-parameter component set no field: {step}")


def _replaced(param: Param) -> Param:
    note = " It replaces the earlier one in this component: only the last counts."
    return Param(param.text, param.span, param.field, param.explanation + note)


def _widen(span: Span) -> Span:
    """An empty parameter has no characters; point at the comma before it instead."""
    return Span(max(0, span.start - 1), span.start, span.component)


def _tidy(text: str, params: list[Param], named: Mapping[str, str]) -> str:
    """The component with its parameters sorted, as the SDKs write it; `t_` kept by name."""
    if any(param.field is None for param in params):
        return ",".join(sorted(param.text for param in params))
    return step_text(parse_component(text, named)[0])
