"""Cloudinary's expression language: arithmetic over numbers, strings, user variables
(`$name`) and predefined variables (`iw`, `w`, `fc`...), and the conditions of `if_`.

Expressions are parsed when the URL is (a bad one is a 400 naming it) and evaluated when
the render plans its steps, against a Scope that knows the source.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from transforms.errors import BadRequest

Value = float | str | tuple[str, ...]

# Predefined variables pixcast knows, short names as the SDKs write them in URLs.
PREDEFINED = {
    "w": "current width",
    "h": "current height",
    "ar": "current aspect ratio",
    "iw": "initial width",
    "ih": "initial height",
    "iar": "initial aspect ratio",
    "fc": "face count",
    "pc": "page count",
    "cp": "current page",
    "tags": "tags of the original",
}
ARITHMETIC = ("add", "sub", "mul", "div", "mod", "pow")
COMPARISONS = ("eq", "ne", "lt", "gt", "lte", "gte", "in", "nin")
_TOKEN = re.compile(r"(?:ctx:|md:)?![^!]*!|[^_]+")
_NUMBER = re.compile(r"^-?\d{1,9}(?:\.\d{1,9})?$|^-?\.\d{1,9}$")
_RATIO = re.compile(r"^(\d{1,6}(?:\.\d{1,6})?):(\d{1,6}(?:\.\d{1,6})?)$")
_VARIABLE = re.compile(r"^\$[a-zA-Z][a-zA-Z0-9]{0,31}$")
_MAX_TOKENS = 64


class Scope(Protocol):
    """What evaluation reads: predefined variables, user variables, tag/context lookups."""

    def predefined(self, name: str) -> Value: ...

    def variable(self, name: str) -> Value: ...

    def lookup(self, kind: str, key: str) -> str | None: ...


# --- terms -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Literal:
    value: Value
    text: str

    def evaluate(self, scope: Scope) -> Value:
        return self.value


@dataclass(frozen=True)
class Predefined:
    name: str

    def evaluate(self, scope: Scope) -> Value:
        return scope.predefined(self.name)


@dataclass(frozen=True)
class Variable:
    name: str  # without the `$`

    def evaluate(self, scope: Scope) -> Value:
        return scope.variable(self.name)


@dataclass(frozen=True)
class Lookup:
    """`ctx:!key!` (contextual metadata) or `md:!key!` (structured metadata)."""

    kind: str
    key: str

    def evaluate(self, scope: Scope) -> Value:
        found = scope.lookup(self.kind, self.key)
        return "" if found is None else found


@dataclass(frozen=True)
class Arithmetic:
    operator: str
    left: Term
    right: Term

    def evaluate(self, scope: Scope) -> Value:
        left, right = self.left.evaluate(scope), self.right.evaluate(scope)
        return _apply(self.operator, _number(left), _number(right))


Term = Literal | Predefined | Variable | Lookup | Arithmetic


def _number(value: Value) -> float:
    if isinstance(value, float):
        return value
    raise BadRequest(f"Invalid expression in transformation: {value!r} is not a number")


def _apply(operator: str, left: float, right: float) -> float:
    if operator in ("div", "mod") and right == 0:
        raise BadRequest(f"Invalid expression in transformation: {operator} by zero")
    operations: dict[str, Callable[[float, float], float]] = {
        "add": lambda a, b: a + b,
        "sub": lambda a, b: a - b,
        "mul": lambda a, b: a * b,
        "div": lambda a, b: a / b,
        "mod": math.fmod,
        "pow": _power,
    }
    return operations[operator](left, right)


def _power(base: float, exponent: float) -> float:
    try:
        result = math.pow(base, exponent)
    except (OverflowError, ValueError):
        raise BadRequest(
            f"Invalid expression in transformation: {base:g} pow {exponent:g}"
        ) from None
    if not math.isfinite(result) or abs(result) > 1e12:
        raise BadRequest(f"Invalid expression in transformation: {base:g} pow {exponent:g}")
    return result


# --- parsing -----------------------------------------------------------------------------


def tokens(text: str) -> list[str]:
    """`$w_mul_2` → `$w`, `mul`, `2`; a `!string!` is one token even with `_` inside."""
    found = _TOKEN.findall(text)
    if "_".join(found) != text or len(found) > _MAX_TOKENS:
        raise BadRequest(f"Invalid expression in transformation: {text}")
    return found


def _term(token: str, whole: str) -> Term:
    if _VARIABLE.match(token):
        return Variable(token[1:])
    if token in PREDEFINED:
        return Predefined(token)
    if _NUMBER.match(token):
        return Literal(float(token), token)
    ratio = _RATIO.match(token)
    if ratio and float(ratio.group(2)) > 0:
        return Literal(float(ratio.group(1)) / float(ratio.group(2)), token)
    if len(token) >= 2 and token.startswith("!") and token.endswith("!"):
        return _string(token[1:-1])
    if token.startswith(("ctx:!", "md:!")) and token.endswith("!"):
        kind, _, key = token[:-1].partition(":!")
        return Lookup(kind, key)
    raise BadRequest(
        f"Invalid expression in transformation: {whole} ({token} is not a number, a "
        f"$variable or one of the predefined variables {', '.join(PREDEFINED)})"
    )


def _string(text: str) -> Literal:
    """`!sale!` is a string; `!sale:new!` a list of strings (for `in` and `nin`)."""
    if ":" in text:
        return Literal(tuple(text.split(":")), f"!{text}!")
    return Literal(text, f"!{text}!")


_BINDING = {"pow": 3, "mul": 2, "div": 2, "mod": 2, "add": 1, "sub": 1}


def _arithmetic(parts: list[str], whole: str) -> Term:
    """Operands and operators alternating; pow binds tightest, then mul/div/mod, then
    add/sub, each left to right (pow right to left), as in ordinary arithmetic."""
    if len(parts) % 2 == 0:
        raise BadRequest(
            f"Invalid expression in transformation: {whole} (it ends with an operator)"
        )
    operands = [_term(token, whole) for token in parts[0::2]]
    operators = parts[1::2]
    for operator in operators:
        if operator not in ARITHMETIC:
            raise BadRequest(
                f"Invalid expression in transformation: {whole} ({operator} is not one of "
                f"{', '.join(ARITHMETIC)})"
            )
    return _reduce(operands, operators)


def _reduce(operands: list[Term], operators: list[str]) -> Term:
    if not operators:
        return operands[0]
    # Split at the loosest operator (the last one; for pow, the first): left and right.
    loosest = min(_BINDING[o] for o in operators)
    positions = [i for i, o in enumerate(operators) if _BINDING[o] == loosest]
    at = positions[0] if loosest == 3 else positions[-1]
    left = _reduce(operands[: at + 1], operators[:at])
    right = _reduce(operands[at + 1 :], operators[at + 1 :])
    return Arithmetic(operators[at], left, right)


@functools.lru_cache(maxsize=1024)
def parse_expression(text: str) -> Term:
    """A parameter value such as `$w_mul_2`, `iw_div_3` or `!text!`. Raises BadRequest."""
    return _arithmetic(tokens(text), text)


def references(term: Term) -> set[str]:
    """The user variables (without `$`) a term reads."""
    if isinstance(term, Variable):
        return {term.name}
    if isinstance(term, Arithmetic):
        return references(term.left) | references(term.right)
    return set()


def is_expression(text: str) -> bool:
    """Whether a parameter value is written as an expression rather than a plain value."""
    parts = _TOKEN.findall(text)
    return (
        any(_VARIABLE.match(p) or p in PREDEFINED or p in ARITHMETIC for p in parts)
        and "_".join(parts) == text
    )


# --- conditions --------------------------------------------------------------------------


@dataclass(frozen=True)
class Comparison:
    operator: str
    left: Term
    right: Term

    def evaluate(self, scope: Scope) -> bool:
        left, right = self.left.evaluate(scope), self.right.evaluate(scope)
        if self.operator in ("in", "nin"):
            inside = _contains(right, left)
            return inside if self.operator == "in" else not inside
        return _compare(self.operator, left, right)


def _contains(container: Value, items: Value) -> bool:
    pool = container if isinstance(container, tuple) else (str(container),)
    wanted = items if isinstance(items, tuple) else (_text(items),)
    return bool(wanted) and all(item in pool for item in wanted)


def _text(value: Value) -> str:
    return format(value, "g") if isinstance(value, float) else str(value)


def _compare(operator: str, left: Value, right: Value) -> bool:
    if operator in ("eq", "ne"):
        same = left == right if type(left) is type(right) else _text(left) == _text(right)
        return same if operator == "eq" else not same
    if not isinstance(left, float) or not isinstance(right, float):
        return False  # an ordering of strings or of an unknown value is never true
    return {
        "lt": left < right,
        "gt": left > right,
        "lte": left <= right,
        "gte": left >= right,
    }[operator]


@dataclass(frozen=True)
class Condition:
    """An `if_` condition: alternatives joined by `_or_`, each comparisons joined by
    `_and_` (AND binds tighter, as in Cloudinary)."""

    alternatives: tuple[tuple[Comparison, ...], ...]

    def evaluate(self, scope: Scope) -> bool:
        return any(all(c.evaluate(scope) for c in group) for group in self.alternatives)

    def references(self) -> set[str]:
        found: set[str] = set()
        for group in self.alternatives:
            for comparison in group:
                found |= references(comparison.left) | references(comparison.right)
        return found


@functools.lru_cache(maxsize=1024)
def parse_condition(text: str) -> Condition:
    """`w_gt_1000_and_ar_lt_1`, `!sale!_in_tags`, `fc_gte_1`. Raises BadRequest."""
    groups: list[tuple[Comparison, ...]] = []
    for alternative in _split(tokens(text), "or"):
        groups.append(tuple(_comparison(part, text) for part in _split(alternative, "and")))
    return Condition(tuple(groups))


def _split(parts: list[str], word: str) -> list[list[str]]:
    chunks: list[list[str]] = [[]]
    for part in parts:
        if part == word:
            chunks.append([])
        else:
            chunks[-1].append(part)
    return chunks


def _comparison(parts: list[str], whole: str) -> Comparison:
    at = [i for i, part in enumerate(parts) if part in COMPARISONS]
    if len(at) != 1 or at[0] in (0, len(parts) - 1):
        raise BadRequest(
            f"Invalid condition in transformation: {whole} (expected <value>_<operator>_<value> "
            f"with one of {', '.join(COMPARISONS)}, joined by _and_ or _or_)"
        )
    split = at[0]
    left = _arithmetic(parts[:split], whole)
    right = _arithmetic(parts[split + 1 :], whole)
    return Comparison(parts[split], left, right)


# --- parameter values that hold expressions ----------------------------------------------

# Keys whose value is several numbers joined by `:` (`r_10:$v:30`), each its own expression.
SPLIT_KEYS = ("r",)
# Keys whose value is text with `$name` in it (`e_$effect:100`): the variables' values are
# written in before the value is parsed.
TEXT_KEYS = ("e",)
_NAMES = re.compile(r"\$([a-zA-Z][a-zA-Z0-9]{0,31})")


def deferred_references(key: str, text: str) -> set[str]:
    """Check a deferred parameter's expression(s); the user variables it reads."""
    if key in TEXT_KEYS:
        return set(_NAMES.findall(text))
    parts = text.split(":") if key in SPLIT_KEYS else [text]
    found: set[str] = set()
    for part in parts:
        found |= references(parse_expression(part))
    return found


def is_deferred(key: str, text: str) -> bool:
    """Whether a value of `key` is written with expressions, to evaluate when rendering."""
    if key in TEXT_KEYS:
        return bool(_NAMES.search(text))
    parts = text.split(":") if key in SPLIT_KEYS else [text]
    return any(is_expression(part) for part in parts)


def written_in(text: str, value_of: Callable[[str], Value]) -> str:
    """`text` with each `$name` replaced by its value as text."""
    return _NAMES.sub(lambda match: _text(_listed(value_of(match.group(1)))), text)


def _listed(value: Value) -> Value:
    return ":".join(value) if isinstance(value, tuple) else value
