"""Painless's arithmetic, bitwise and shift operators on run-time values (DefMath).

Static types need no other code: a value in an `int` variable is a Python int in the
32-bit range, in a `long` one a JLong, and so on, so the run-time class decides the
promotion as the static types would. `+` concatenates when either side is a String.
"""

from __future__ import annotations

import math
from typing import Any

from .errors import PainlessRuntimeError, cce, npe
from .values import (
    DOUBLE,
    FLOAT,
    INT,
    INT_MAX,
    INT_MIN,
    LONG,
    JChar,
    JFloat,
    JLong,
    f32,
    jclass,
    jstr,
    num_kind,
    num_value,
    to_double,
    wrap_int,
    wrap_long,
)


def _operands(a: Any, b: Any, symbol: str) -> tuple[int, Any, Any]:
    if a is None or b is None:
        raise npe(f'Cannot invoke "Object.getClass()" because "{"left" if a is None else "right"}" is null')
    ka, kb = num_kind(a), num_kind(b)
    if ka is None or kb is None:
        raise cce(f"Cannot apply [{symbol}] operation to types [{jclass(a)}] and [{jclass(b)}].")
    return max(ka, kb), num_value(a), num_value(b)


def _result(kind: int, value: Any) -> Any:
    if kind == INT:
        return wrap_int(value)
    if kind == LONG:
        return wrap_long(value)
    if kind == FLOAT:
        return JFloat(f32(value))
    return float(value)


def add(a: Any, b: Any) -> Any:
    ta, tb = type(a), type(b)
    if ta is int and tb is int and INT_MIN <= a <= INT_MAX and INT_MIN <= b <= INT_MAX:
        return wrap_int(a + b)
    if ta is str or tb is str or ta is not JChar and isinstance(a, str) or tb is not JChar and isinstance(b, str):
        if ta is JChar and tb is JChar:
            return ord(a) + ord(b)
        return jstr(a) + jstr(b)
    kind, x, y = _operands(a, b, "+")
    if kind >= FLOAT:
        return _result(kind, to_double(x) + to_double(y) if kind == DOUBLE else f32(x) + f32(y))
    return _result(kind, int(x) + int(y))


def sub(a: Any, b: Any) -> Any:
    kind, x, y = _operands(a, b, "-")
    if kind >= FLOAT:
        return _result(kind, to_double(x) - to_double(y) if kind == DOUBLE else f32(x) - f32(y))
    return _result(kind, int(x) - int(y))


def mul(a: Any, b: Any) -> Any:
    kind, x, y = _operands(a, b, "*")
    if kind >= FLOAT:
        try:
            return _result(kind, to_double(x) * to_double(y) if kind == DOUBLE else f32(x) * f32(y))
        except OverflowError:  # pragma: no cover - float multiplication gives inf, not this
            return _result(kind, math.inf)
    return _result(kind, int(x) * int(y))


def _float_div(x: float, y: float) -> float:
    if y == 0:
        if x != x or x == 0:
            return math.nan
        return math.copysign(math.inf, x) * math.copysign(1.0, y)
    return x / y


def div(a: Any, b: Any) -> Any:
    kind, x, y = _operands(a, b, "/")
    if kind >= FLOAT:
        if kind == FLOAT:
            return _result(kind, _float_div(f32(x), f32(y)))
        return _float_div(to_double(x), to_double(y))
    x, y = int(x), int(y)
    if y == 0:
        raise PainlessRuntimeError("/ by zero", "ArithmeticException")
    q = abs(x) // abs(y)
    return _result(kind, q if (x < 0) == (y < 0) else -q)


def rem(a: Any, b: Any) -> Any:
    kind, x, y = _operands(a, b, "%")
    if kind >= FLOAT:
        fx, fy = (to_double(x), to_double(y)) if kind == DOUBLE else (f32(x), f32(y))
        if fy == 0 or math.isinf(fx) or fx != fx or fy != fy:
            r = math.nan
        elif math.isinf(fy):
            r = fx
        else:
            r = math.fmod(fx, fy)
        return _result(kind, r)
    x, y = int(x), int(y)
    if y == 0:
        raise PainlessRuntimeError("/ by zero", "ArithmeticException")
    r = abs(x) % abs(y)
    return _result(kind, r if x >= 0 else -r)


def _integral(a: Any, b: Any, symbol: str) -> tuple[int, int, int]:
    if a is None or b is None:
        raise npe(f'Cannot invoke "Object.getClass()" because "{"left" if a is None else "right"}" is null')
    ka, kb = num_kind(a), num_kind(b)
    if ka not in (INT, LONG) or kb not in (INT, LONG):
        raise cce(f"Cannot apply [{symbol}] operation to types [{jclass(a)}] and [{jclass(b)}].")
    return ka, int(num_value(a)), int(num_value(b))


def shl(a: Any, b: Any) -> Any:
    kind, x, y = _integral(a, b, "<<")
    return wrap_int(x << (y & 31)) if kind == INT else wrap_long(x << (y & 63))


def shr(a: Any, b: Any) -> Any:
    kind, x, y = _integral(a, b, ">>")
    return wrap_int(x >> (y & 31)) if kind == INT else wrap_long(x >> (y & 63))


def ushr(a: Any, b: Any) -> Any:
    kind, x, y = _integral(a, b, ">>>")
    if kind == INT:
        return wrap_int((x & 0xFFFFFFFF) >> (y & 31))
    return wrap_long((x & 0xFFFFFFFFFFFFFFFF) >> (y & 63))


def _bitwise(a: Any, b: Any, symbol: str, op: Any) -> Any:
    if type(a) is bool and type(b) is bool:
        return bool(op(a, b))
    ka, kb = num_kind(a), num_kind(b)
    if a is None or b is None:
        raise npe(f'Cannot invoke "Object.getClass()" because "{"left" if a is None else "right"}" is null')
    if ka not in (INT, LONG) or kb not in (INT, LONG):
        raise cce(f"Cannot apply [{symbol}] operation to types [{jclass(a)}] and [{jclass(b)}].")
    value = op(int(num_value(a)), int(num_value(b)))
    return wrap_int(value) if max(ka, kb) == INT else wrap_long(value)


def band(a: Any, b: Any) -> Any:
    return _bitwise(a, b, "&", lambda x, y: x & y)


def bor(a: Any, b: Any) -> Any:
    return _bitwise(a, b, "|", lambda x, y: x | y)


def bxor(a: Any, b: Any) -> Any:
    return _bitwise(a, b, "^", lambda x, y: x ^ y)


def _unary_kind(a: Any, symbol: str, kinds: tuple[int, ...] | None = None) -> int:
    """The numeric kind of a unary operand, or the exception Painless's def unary throws."""
    if a is None:
        raise npe('Cannot invoke "Object.getClass()" because "unary" is null')
    kind = num_kind(a)
    if kind is None or (kinds is not None and kind not in kinds):
        raise cce(f"Cannot apply [{symbol}] operation to type [{jclass(a)}].")
    return kind


def neg(a: Any) -> Any:
    kind = _unary_kind(a, "-")
    v = num_value(a)
    if kind == INT:
        return wrap_int(-v)
    if kind == LONG:
        return wrap_long(-int(v))
    if kind == FLOAT:
        return JFloat(-float(v))
    return -float(v)


def plus(a: Any) -> Any:
    _unary_kind(a, "+")
    return ord(a) if type(a) is JChar else a


def bnot(a: Any) -> Any:
    kind = _unary_kind(a, "~", (INT, LONG))
    v = int(num_value(a))
    return wrap_int(~v) if kind == INT else wrap_long(~v)


BINARY = {"+": add, "-": sub, "*": mul, "/": div, "%": rem, "<<": shl, ">>": shr, ">>>": ushr, "&": band, "|": bor, "^": bxor}
JLONG_ONE = JLong(1)
