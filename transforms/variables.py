"""Plan-time resolution of variables and conditions: a chain with `$name_...`, `if_...`
and expression parameters becomes the ordinary list of Steps the pipeline runs.

Resolution is lazy (a generator), so `w`, `h` and `ar` are the image as it is when each
step is reached, and `fc` runs the face detector only if an expression reads it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from transforms.errors import BadRequest
from transforms.expressions import (
    SPLIT_KEYS,
    TEXT_KEYS,
    Literal,
    Value,
    Variable,
    deferred_references,
    parse_condition,
    parse_expression,
    references,
    tokens,
    written_in,
)
from transforms.geometry import requested_size
from transforms.layer_grammar import parse_style
from transforms.model import AngleMode, Focus, Layer, LayerKind, Length, Step, Unit

BLOCK_ENDS = ("else", "end")


@dataclass(frozen=True)
class SourceFacts:
    """What pixcast knows of the original beyond its pixels: tags, contextual and
    structured metadata, and custom coordinates (boxes (x, y, width, height) in pixels of
    the upright original). Empty when the library has none: tag and metadata conditions
    are then false, and g_custom falls back."""

    tags: tuple[str, ...] = ()
    context: Mapping[str, str] = field(default_factory=dict)
    metadata: Mapping[str, str] = field(default_factory=dict)
    coordinates: tuple[tuple[int, int, int, int], ...] = ()


NO_FACTS = SourceFacts()


@dataclass
class Facts:
    """The Scope one render evaluates in. `current` gives the size of the image as it is
    now; `faces` counts the original's faces (called only when `fc` is read)."""

    initial: tuple[int, int]
    pages: int
    current: Callable[[], tuple[int, int]]
    faces: Callable[[], int]
    page: int = 1
    source: SourceFacts = NO_FACTS
    values: dict[str, Value] = field(default_factory=dict)
    # How a variable assigned a plain number was written (`1.0` is a multiple, `1` pixels).
    written: dict[str, str] = field(default_factory=dict)

    def predefined(self, name: str) -> Value:
        width, height = self.current()
        table: dict[str, Callable[[], Value]] = {
            "w": lambda: float(width),
            "h": lambda: float(height),
            "ar": lambda: width / height,
            "iw": lambda: float(self.initial[0]),
            "ih": lambda: float(self.initial[1]),
            "iar": lambda: self.initial[0] / self.initial[1],
            "fc": lambda: float(self.faces()),
            "pc": lambda: float(self.pages),
            "cp": lambda: float(self.page),
            "tags": lambda: self.source.tags,
        }
        return table[name]()

    def variable(self, name: str) -> Value:
        if name not in self.values:
            raise BadRequest(f"Invalid variable in transformation: ${name} is not defined")
        return self.values[name]

    def lookup(self, kind: str, key: str) -> str | None:
        table = self.source.context if kind == "ctx" else self.source.metadata
        return table.get(key)


# --- checks at parse time ----------------------------------------------------------------


def check_chain(steps: tuple[Step, ...]) -> None:
    """Every `$name` is assigned before it is read, every `if_` has its `if_end` (a 400
    naming the first problem)."""
    defined: set[str] = set()
    depth = 0
    for step in _flattened(explicit_blocks(steps)):
        if step.condition == "end":
            depth -= 1
        elif step.condition is not None and step.condition != "else" and is_block(step):
            depth += 1
        elif step.condition == "else" and depth == 0:
            raise BadRequest("Invalid condition in transformation: if_else without if_")
        if depth < 0:
            raise BadRequest("Invalid condition in transformation: if_end without if_")
        _check_references(step, defined)
        defined |= {name for name, _ in step.variables}
    for step in steps:
        if step.layer is not None and step.layer.style_variable:
            _check_style(step.layer.style_variable, steps)
        if step.layer is not None and any(c.condition for c in step.layer.components):
            raise BadRequest(
                "Invalid condition in transformation: if_ inside a layer's components is not "
                "supported (put the whole layer inside if_ … if_end)"
            )
    if depth:
        raise BadRequest("Invalid condition in transformation: if_ without if_end")


def _check_references(step: Step, defined: set[str]) -> None:
    used = set()
    if step.condition is not None and step.condition not in BLOCK_ENDS:
        used |= parse_condition(step.condition).references()
    assigned = set(defined)
    for name, text in step.variables:
        missing = references(parse_expression(text)) - assigned
        if missing:
            raise _undefined(missing)
        assigned.add(name)
    for key, text in step.deferred:
        used |= deferred_references(key, text)
    if used - assigned:
        raise _undefined(used - assigned)


def _check_style(name: str, steps: tuple[Step, ...]) -> None:
    if not any(name == n for s in _flattened(steps) for n, _ in s.variables):
        raise _undefined({name})


def _undefined(names: set[str]) -> BadRequest:
    listed = ", ".join(f"${name}" for name in sorted(names))
    return BadRequest(f"Invalid variable in transformation: {listed} is not defined before use")


def _flattened(steps: tuple[Step, ...]) -> Iterator[Step]:
    for step in steps:
        yield from step.layer.components if step.layer is not None else (step,)


def is_block(step: Step) -> bool:
    """`if_w_gt_100` alone opens a block; with other parameters it guards that component
    (unless an `if_else` follows: see explicit_blocks)."""
    return replace(step, condition=None) == Step()


def explicit_blocks(steps: tuple[Step, ...]) -> tuple[Step, ...]:
    """The chain with Cloudinary's shorthands written out as blocks:
    - a component with a condition and other parameters, followed by `if_else`, is the
      first branch of an if/else (`if_w_gt_100,w_100/if_else,w_50` is
      `if_w_gt_100/w_100/if_else/w_50/if_end`);
    - an `if_else` with other parameters runs them in the else branch; when no `if_end`
      closes the block after it, that component alone is the branch (the `if_else` then
      ends the block, as Cloudinary documents)."""
    out: list[Step] = []
    for index, step in enumerate(steps):
        if _guards_itself(step) and _else_follows(steps, index):
            out += [Step(condition=step.condition), replace(step, condition=None)]
        elif step.condition == "else" and not is_block(step):
            out += [Step(condition="else"), replace(step, condition=None)]
            if not _closed(steps[index + 1 :]):
                out.append(Step(condition="end"))
        else:
            out.append(step)
    return tuple(out)


def _guards_itself(step: Step) -> bool:
    return step.condition is not None and step.condition not in BLOCK_ENDS and not is_block(step)


def _else_follows(steps: tuple[Step, ...], index: int) -> bool:
    return index + 1 < len(steps) and steps[index + 1].condition == "else"


def _opens(steps: tuple[Step, ...], index: int) -> bool:
    step = steps[index]
    if step.condition is None or step.condition in BLOCK_ENDS:
        return False
    return is_block(step) or _else_follows(steps, index)


def _closed(rest: tuple[Step, ...]) -> bool:
    """Whether an `if_end` in `rest` closes the block that is open where `rest` starts."""
    depth = 0
    for index, step in enumerate(rest):
        if step.condition == "end":
            if depth == 0:
                return True
            depth -= 1
        elif _opens(rest, index):
            depth += 1
    return False


def reads_source_facts(steps: tuple[Step, ...]) -> bool:
    """Whether a condition or expression reads the original's tags, context or metadata
    (so its result depends on them, not only on the pixels)."""
    texts = [text for step in _flattened(steps) for text in _expressions(step)]
    return any(_reads_facts(part) for text in texts for part in tokens(text))


def reads_coordinates(steps: tuple[Step, ...]) -> bool:
    """Whether the result depends on the original's custom coordinates: a g_custom crop,
    or fl_getinfo, which lists them."""
    return any(_custom_gravity(step) or step.has_flag("getinfo") for step in steps)


def _custom_gravity(step: Step) -> bool:
    return isinstance(step.gravity, Focus) and step.gravity.kind == "custom"


def _expressions(step: Step) -> list[str]:
    found = [step.condition] if step.condition else []
    return found + [text for _name, text in step.variables + step.deferred]


def _reads_facts(token: str) -> bool:
    return token == "tags" or token.startswith(("ctx:!", "md:!"))


def uses_variables(steps: tuple[Step, ...]) -> bool:
    styled = any(s.layer is not None and s.layer.style_variable for s in steps)
    return styled or any(s.condition or s.variables or s.deferred for s in _flattened(steps))


# --- resolution at plan time -------------------------------------------------------------


def planned_steps(steps: tuple[Step, ...], facts: Facts, parse: Parsers) -> Iterator[Step]:
    """The steps the pipeline runs: standalone `dpr_` components folded into the sizes
    before them, then conditions and expressions resolved as each step is reached."""
    steps = fold_dpr(steps)
    plain = resolve(steps, facts, parse) if uses_variables(steps) else iter(steps)
    return turned_to_fit(plain, facts)


_AUTO_TURNS = {AngleMode.AUTO: 90, AngleMode.AUTO_RIGHT: 90, AngleMode.AUTO_LEFT: 270}


def _crosswise(size: tuple[float, float], current: tuple[int, int]) -> bool:
    """One is portrait and the other landscape (a square is neither)."""
    if size[0] == size[1] or current[0] == current[1]:
        return False
    return (size[0] > size[1]) != (current[0] > current[1])


def turned_to_fit(steps: Iterator[Step], facts: Facts) -> Iterator[Step]:
    """`a_auto_right`/`a_auto_left`: when the step asks for a portrait of a landscape
    image (or the reverse), a 90° turn comes first, so the crop keeps more of it."""
    for step in steps:
        autos = [a for a in step.angles if a in _AUTO_TURNS]
        if not autos:
            yield step
            continue
        step = replace(step, angles=tuple(a for a in step.angles if a not in _AUTO_TURNS))
        current = facts.current()
        size = requested_size(step, current, facts.initial)
        if size is not None and _crosswise(size, current):
            yield Step(angles=(_AUTO_TURNS[autos[-1]],))
        yield step


def _sizes(step: Step) -> bool:
    sized = step.width or step.height or step.aspect_ratio or step.auto_width
    return bool(sized) or any(key in ("w", "h", "ar") for key, _ in step.deferred)


def fold_dpr(steps: tuple[Step, ...]) -> tuple[Step, ...]:
    """`c_scale,h_150/dpr_2.0` is `c_scale,dpr_2.0,h_150`: a component holding only a dpr
    multiplies the sizes of the components before it (rendered at full resolution, not
    enlarged afterwards). With no size before it, it scales the image by the dpr."""
    out: list[Step] = []
    for step in steps:
        if step.dpr is None or replace(step, dpr=None) != Step():
            out.append(step)
            continue
        dpr = step.dpr
        sized = [i for i, s in enumerate(out) if _sizes(s) and s.layer is None]
        for i in sized:
            out[i] = replace(out[i], dpr=(out[i].dpr or 1.0) * dpr)
        if not sized:
            out.append(Step(width=Length(dpr, Unit.RELATIVE)))
    return tuple(out)


def resolve(steps: tuple[Step, ...], facts: Facts, parse: Parsers) -> Iterator[Step]:
    """The steps that run, in order, with expression parameters replaced by values.

    `parse` turns (URL key, value text) into (Step field, value), as the grammar does.
    """
    active: list[bool] = []  # one entry per open block: does its current branch run?
    for step in explicit_blocks(steps):
        if step.condition in BLOCK_ENDS:
            _branch(active, step.condition)
            continue
        if step.condition is not None and is_block(step):
            active.append(all(active) and parse_condition(step.condition).evaluate(facts))
            continue
        if not all(active):
            continue
        if step.condition is not None and not parse_condition(step.condition).evaluate(facts):
            continue
        resolved = substitute(step, facts, parse)
        if resolved != Step():
            yield resolved


def _branch(active: list[bool], word: str) -> None:
    if word == "end":
        active.pop()
        return
    # The else branch runs when its block's condition was false and the outer one runs.
    outer = all(active[:-1])
    active[-1] = outer and not active[-1]


Parsers = Callable[[str, str], tuple[str, Any]]


def substitute(step: Step, facts: Facts, parse: Parsers) -> Step:
    """`step` with its assignments made and its expression parameters evaluated."""
    for name, text in step.variables:
        term = parse_expression(text)
        facts.values[name] = term.evaluate(facts)
        if isinstance(term, Literal) and isinstance(term.value, float):
            facts.written[name] = term.text
        else:
            facts.written.pop(name, None)
    values = dict(_evaluated(key, text, facts, parse) for key, text in step.deferred)
    plain = replace(step, condition=None, variables=(), deferred=(), **values)
    if plain.layer is not None:
        plain = replace(plain, layer=_layer(plain.layer, facts, parse))
    return plain


def _evaluated(key: str, text: str, facts: Facts, parse: Parsers) -> tuple[str, Any]:
    if key in TEXT_KEYS:
        written = written_in(text, facts.variable)
    else:
        parts = text.split(":") if key in SPLIT_KEYS else [text]
        written = ":".join(_part_text(key, part, facts) for part in parts)
    try:
        return parse(key, written)
    except BadRequest as error:
        raise BadRequest(f"{error.message} (from {key}_{text})") from None


def _part_text(key: str, text: str, facts: Facts) -> str:
    term = parse_expression(text)
    if isinstance(term, Variable) and term.name in facts.written:
        return facts.written[term.name]
    value = term.evaluate(facts)
    return value if isinstance(value, str) else _number_text(key, value)


_WHOLE = ("w", "h", "x", "y")
_INTEGERS = ("a", "o", "q", "r")


def _number_text(key: str, value: Value) -> str:
    """A computed number as the parameter reads it: sizes and offsets in whole pixels
    (a result below 1 stays a multiple, as `w_0.5` is), angles and levels whole."""
    if isinstance(value, tuple):
        raise BadRequest(f"Invalid expression in transformation: a list is not a {key} value")
    if isinstance(value, str):
        return value
    if key in _INTEGERS or (key in _WHOLE and abs(value) >= 1):
        return str(round(value))
    return format(value, ".6f").rstrip("0").rstrip(".") if value % 1 else f"{value:.1f}"


def _layer(layer: Layer, facts: Facts, parse: Parsers) -> Layer:
    head = substitute(layer.head, facts, parse)
    steps = tuple(substitute(s, facts, parse) for s in layer.steps)
    apply = substitute(layer.apply, facts, parse) if layer.apply is not None else None
    source = _text_variables(layer.source, facts) if layer.kind is LayerKind.TEXT else layer.source
    style = layer.style
    if layer.style_variable:
        style = parse_style(_text_value(facts.variable(layer.style_variable)))
    return replace(
        layer, head=head, steps=steps, apply=apply, source=source, style=style,
        style_variable=None,
    )  # fmt: skip


def _text_variables(text: str, facts: Facts) -> str:
    """`$(name)` inside a text layer's text is the variable's value."""
    out, rest = "", text
    while "$(" in rest:
        before, _, after = rest.partition("$(")
        name, closed, rest = after.partition(")")
        if not closed:
            return out + before + "$(" + name
        value = facts.variable(name)
        out += before + (_text_value(value))
    return out + rest


def _text_value(value: Value) -> str:
    if isinstance(value, tuple):
        return ":".join(value)
    if isinstance(value, float):
        return format(value, "g")
    return value
