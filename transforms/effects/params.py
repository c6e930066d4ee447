"""Effect parameters: one declaration per parameter drives parsing, validation and defaults.

An effect lists its parameters in URL order. `bind` reads the ordered form
(`e_tint:80:red:blue`: an optional parameter may be left out when the next value cannot
be its) and the verbose form (`e_contrast:level_50;type_linear`), checks every value
against its declaration and returns typed `Values` with the defaults filled in.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

from transforms.colours import NAMED, parse_colour
from transforms.errors import BadRequest
from transforms.model import Colour

Value = int | float | str | Colour | None

_INT = re.compile(r"^-?\d{1,6}$")
_NUMBER = re.compile(r"^-?\d{1,6}(\.\d{1,6})?$")
_BARE_HEX = re.compile(r"^([0-9a-f]{3}|[0-9a-f]{6}|[0-9a-f]{8})$")


@dataclass(frozen=True)
class Param:
    """One parameter. `default` None means "absent" or "derived by the effect"."""

    name: str
    default: Value = None
    required: bool = False

    def accepts(self, raw: str) -> bool:
        """Whether `raw` has this parameter's shape (ranges are checked later)."""
        raise NotImplementedError

    def read(self, raw: str, effect: str) -> Value:
        raise NotImplementedError

    def check(self, value: Value, effect: str, values: Mapping[str, Value]) -> None:
        """Raise BadRequest when `value` is outside what this parameter allows."""

    def expected(self, values: Mapping[str, Value]) -> str:
        raise NotImplementedError

    def text(self, value: Value) -> str:
        return str(value)

    def default_for(self, values: Mapping[str, Value]) -> Value:
        return self.default


@dataclass(frozen=True)
class Int(Param):
    """A whole number in [low, high]; `suffix` such as `p` (`50p`) when the URL needs one.

    `by` makes the range and default depend on another parameter's choice:
    `("type", {"linear": (1, 200, 100)})`. `floor` admits values from it up to `low`,
    read as `low` (the SDKs' tests write `e_sepia:-10`).
    """

    low: int = 0
    high: int = 100
    suffix: str = ""
    by: tuple[str, Mapping[str, tuple[int, int, int]]] | None = None
    floor: int | None = None

    def accepts(self, raw: str) -> bool:
        return raw.endswith(self.suffix) and bool(_INT.match(raw.removesuffix(self.suffix)))

    def read(self, raw: str, effect: str) -> Value:
        value = int(raw.removesuffix(self.suffix))
        if self.floor is not None and self.floor <= value < self.low:
            return self.low
        return value

    def bounds(self, values: Mapping[str, Value]) -> tuple[int, int, int | None]:
        if self.by is not None and values.get(self.by[0]) in self.by[1]:
            return self.by[1][str(values[self.by[0]])]
        return self.low, self.high, self.default if isinstance(self.default, int) else None

    def check(self, value: Value, effect: str, values: Mapping[str, Value]) -> None:
        low, high, _ = self.bounds(values)
        if not isinstance(value, int) or not low <= value <= high:
            shown = f"{value}{self.suffix}"
            raise BadRequest(invalid(self, effect, shown, values))

    def expected(self, values: Mapping[str, Value]) -> str:
        low, high, _ = self.bounds(values)
        unit = f" followed by {self.suffix}" if self.suffix else ""
        return f"an integer from {low} to {high}{unit}"

    def text(self, value: Value) -> str:
        return f"{value}{self.suffix}"

    def default_for(self, values: Mapping[str, Value]) -> Value:
        return self.bounds(values)[2]


@dataclass(frozen=True)
class Number(Param):
    """A decimal number in [low, high] (degrees of `e_shear`)."""

    low: float = 0.0
    high: float = 100.0

    def accepts(self, raw: str) -> bool:
        return bool(_NUMBER.match(raw))

    def read(self, raw: str, effect: str) -> Value:
        return float(raw)

    def check(self, value: Value, effect: str, values: Mapping[str, Value]) -> None:
        if not isinstance(value, float) or not self.low <= value <= self.high:
            raise BadRequest(invalid(self, effect, self.text(value), values))

    def expected(self, values: Mapping[str, Value]) -> str:
        return f"a number from {self.low:g} to {self.high:g}"

    def text(self, value: Value) -> str:
        return format(value, "g") if isinstance(value, float) else str(value)


@dataclass(frozen=True)
class Choice(Param):
    """One word out of `options` (`indoor|outdoor`, `equalize`)."""

    options: tuple[str, ...] = ()

    def accepts(self, raw: str) -> bool:
        return raw in self.options

    def read(self, raw: str, effect: str) -> Value:
        return raw

    def expected(self, values: Mapping[str, Value]) -> str:
        return " or ".join(self.options)


@dataclass(frozen=True)
class ColourValue(Param):
    """A colour: a CSS name, `rgb:<hex>` or bare hex digits (`2b38aa`)."""

    def accepts(self, raw: str) -> bool:
        lowered = raw.lower()
        return lowered in NAMED or lowered.startswith("rgb:") or bool(_BARE_HEX.match(lowered))

    def read(self, raw: str, effect: str) -> Value:
        text = raw.lower()
        text = text if text in NAMED or text.startswith("rgb:") else f"rgb:{text}"
        try:
            return parse_colour(text, self.name)
        except BadRequest:
            raise BadRequest(invalid(self, effect, raw, {})) from None

    def expected(self, values: Mapping[str, Value]) -> str:
        return "a colour name, rgb:<hex> or hex digits"

    def text(self, value: Value) -> str:
        return value.text if isinstance(value, Colour) else str(value)


def repeated(times: int, *group: Param) -> tuple[Param, ...]:
    """`group` numbered 1..times (`color1`, `position1`, `color2`...); only the first
    repetition keeps the declared defaults."""
    return tuple(
        replace(param, name=f"{param.name}{index}", default=param.default if index == 1 else None)
        for index in range(1, times + 1)
        for param in group
    )


def invalid(param: Param, effect: str, raw: str, values: Mapping[str, Value]) -> str:
    return f"Invalid {param.name} for effect {effect}: {raw} (expected {param.expected(values)})"


# --- binding -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Values:
    """An effect's parameter values by name, defaults filled in, typed on the way out."""

    effect: str
    items: Mapping[str, Value] = field(default_factory=dict)

    def number(self, name: str) -> int:
        value = self.items[name]
        assert isinstance(value, int), f"{self.effect}: {name} has no integer default"
        return value

    def optional_number(self, name: str) -> int | None:
        value = self.items[name]
        return value if isinstance(value, int) else None

    def decimal(self, name: str) -> float:
        value = self.items[name]
        assert isinstance(value, float | int), f"{self.effect}: {name} is not a number"
        return float(value)

    def word(self, name: str) -> str | None:
        value = self.items[name]
        return value if isinstance(value, str) else None

    def colour(self, name: str) -> Colour | None:
        value = self.items[name]
        return value if isinstance(value, Colour) else None


def tokens(text: str) -> list[str]:
    """`rgb:ff0000` stays one token although `:` separates the others."""
    parts = text.split(":") if text else []
    merged: list[str] = []
    for part in parts:
        if merged and merged[-1].lower() == "rgb":
            merged[-1] = f"{merged[-1]}:{part}"
        else:
            merged.append(part)
    return merged


def bind(effect: str, params: Sequence[Param], raw: Sequence[str]) -> tuple[Values, list[str]]:
    """Read, check and complete the values; also return their canonical tokens."""
    verbose = _verbose(params, raw)
    given = (
        _read_verbose(effect, params, verbose) if verbose else _read_ordered(effect, params, raw)
    )
    values = _complete(effect, params, given)
    shown = [(p, given[p.name]) for p in params if p.name in given]
    if verbose:
        return values, [";".join(f"{p.name}_{p.text(v)}" for p, v in shown)]
    return values, [p.text(v) for p, v in shown]


def _read_ordered(effect: str, params: Sequence[Param], raw: Sequence[str]) -> dict[str, Value]:
    given: dict[str, Value] = {}
    position = 0
    for token in raw:
        index = _match(effect, params, position, token)
        given[params[index].name] = params[index].read(token, effect)
        position = index + 1
    return given


def _match(effect: str, params: Sequence[Param], start: int, token: str) -> int:
    """The first parameter from `start` that takes `token`, skipping optional ones."""
    if start >= len(params):
        raise BadRequest(f"Too many values for effect {effect}: {token}")
    for index in range(start, len(params)):
        if params[index].accepts(token):
            return index
        if params[index].required:
            break
    raise BadRequest(invalid(params[start], effect, token, {}))


def _verbose(params: Sequence[Param], raw: Sequence[str]) -> list[tuple[Param, str]] | None:
    """`level_50;type_linear` → [(level, "50"), (type, "linear")], or None when ordered."""
    pieces = [piece for token in raw for piece in token.split(";")]
    found = [_named(params, piece) for piece in pieces]
    if not pieces or not all(found):
        return None
    return [
        (param, piece[len(param.name) + 1 :])
        for param, piece in zip(found, pieces, strict=True)
        if param
    ]


def _named(params: Sequence[Param], piece: str) -> Param | None:
    return next((p for p in params if piece.startswith(f"{p.name}_")), None)


def _read_verbose(
    effect: str, params: Sequence[Param], pairs: list[tuple[Param, str]]
) -> dict[str, Value]:
    given: dict[str, Value] = {}
    for param, raw in pairs:
        if not param.accepts(raw):
            raise BadRequest(invalid(param, effect, raw, {}))
        given[param.name] = param.read(raw, effect)
    return given


def _complete(effect: str, params: Sequence[Param], given: dict[str, Value]) -> Values:
    values = dict(given)
    for param in params:
        if param.name not in given and param.required:
            raise BadRequest(
                f"Missing {param.name} for effect {effect} (expected {param.expected(values)})"
            )
    for param in sorted(params, key=lambda p: isinstance(p, Int) and p.by is not None):
        values.setdefault(param.name, param.default_for(values))
    for param in params:
        if param.name in given:
            param.check(given[param.name], effect, values)
    return Values(effect, values)
