"""Syntax tree to Python closures, with Painless's static types and checks.

Each expression becomes `fn(f)` and each statement `run(f) -> signal` (None, or BREAK,
CONTINUE, RETURN with the value in the frame's return slot). `f` is the frame, a list:
ctx, params, the return value, the loop budget, the ingest metadata, then one slot per
local variable (lambdas use slots of the frame they are written in; a user function gets
a frame of its own). A condition that is one expression and needs no local gets `ctx`
itself as `f`, so it costs no more than the expression.

Static types are strings as a script writes them ("def", "int", "String", "Map", "String[]");
they decide what compiles (Painless refuses an int assigned to a String, an unknown method
on a String, a break outside a loop) and which conversions a value gets. Everything read
from ctx or params is `def`: checked when it runs, as Painless's def is.

A closure that can fail catches PainlessRuntimeError on its way out and, if no inner node
did, records where: (offset Painless reports, start, end, the compiled unit). In Python
3.11 a try costs nothing until it catches, so the fast path pays nothing for this.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from operator import itemgetter
from typing import Any

from . import ingest as host
from . import methods as api
from . import ops, statics
from .errors import PainlessCompileError, PainlessRuntimeError, cce, iae, java_cast_message, npe, unsupported_op
from .objects import JCollection, MapEntry
from .parser import PRIMITIVE_NAMES, Node
from .regex import Matcher, Pattern
from .values import (
    BOXES,
    INT_MAX,
    INT_MIN,
    LONG_MAX,
    LONG_MIN,
    PRIMITIVES,
    UNBOXES,
    JArray,
    JChar,
    JFloat,
    JLong,
    compare,
    convert_number,
    def_eq,
    def_to_primitive,
    f32,
    is_instance,
    java_equals,
    jclass,
    map_keys,
    num_eq,
    type_error_name,
)

BREAK, CONTINUE, RETURN = 1, 2, 3
CTX, PARAMS, RET, BUDGET, INGEST = 0, 1, 2, 3, 4
FIRST_LOCAL = 5
LOOP_BUDGET = 1_000_000  # CompilerSettings.MAX_LOOP_COUNTER's default
NOT_CONST = object()
NUMERIC = ("char", "int", "long", "float", "double")  # promotion order (byte and short are refused)
_RANK = {"char": 1, "int": 2, "long": 3, "float": 4, "double": 5}
_DEFAULTS = {"int": 0, "long": JLong(0), "double": 0.0, "float": JFloat(0.0), "boolean": False, "char": JChar("\0")}

# The reference types a script can name, with their supertypes.
_SUPER: dict[str, tuple[str, ...]] = {
    "Object": (),
    "String": ("CharSequence", "Comparable", "Object"),
    "CharSequence": ("Object",),
    "Comparable": ("Object",),
    "StringBuilder": ("CharSequence", "Object"),
    "Number": ("Object",),
    "Integer": ("Number", "Comparable", "Object"),
    "Long": ("Number", "Comparable", "Object"),
    "Double": ("Number", "Comparable", "Object"),
    "Float": ("Number", "Comparable", "Object"),
    "Boolean": ("Comparable", "Object"),
    "Character": ("Comparable", "Object"),
    "Map": ("Object",),
    "HashMap": ("Map", "Object"),
    "LinkedHashMap": ("HashMap", "Map", "Object"),
    "TreeMap": ("Map", "Object"),
    "Iterable": ("Object",),
    "Collection": ("Iterable", "Object"),
    "List": ("Collection", "Iterable", "Object"),
    "ArrayList": ("List", "Collection", "Iterable", "Object"),
    "Set": ("Collection", "Iterable", "Object"),
    "HashSet": ("Set", "Collection", "Iterable", "Object"),
    "Map.Entry": ("Object",),
    "Iterator": ("Object",),
    "Pattern": ("Object",),
    "Matcher": ("Object",),
    "Stream": ("Object",),
    "Optional": ("Object",),
    "Comparator": ("Object",),
    "Collector": ("Object",),
    "Metadata": ("Object",),
    "WriteField": ("Object",),
    "SourceMapField": ("Object",),
    "ZonedDateTime": ("Object",),
    "CIDR": ("Object",),
    "StringTokenizer": ("Object",),
}
for _name, _parent in api.EXCEPTION_PARENTS.items():
    chain: list[str] = []
    walk: str | None = _parent
    while walk is not None:
        chain.append(walk)
        walk = api.EXCEPTION_PARENTS.get(walk)
    _SUPER[_name] = (*chain, "Object")
REFERENCE_TYPES = frozenset(_SUPER)
_STATIC_TABLES: dict[str, api.Table] = {
    **api.BY_STATIC_TYPE,
    "Metadata": host.METADATA_METHODS,
    "WriteField": host.WRITE_FIELD_METHODS,
    "SourceMapField": host.SOURCE_FIELD_METHODS,
    "ZonedDateTime": host.DATETIME_METHODS,
}
_HOST_METHOD_NAMES = frozenset(
    key for table in (host.METADATA_METHODS, host.WRITE_FIELD_METHODS, host.DATETIME_METHODS) for key in table
)
_MUTATORS = frozenset(
    {"add", "addAll", "put", "putAll", "putIfAbsent", "remove", "removeIf", "removeAll", "retainAll", "clear",
     "set", "sort", "replaceAll", "compute", "computeIfAbsent", "computeIfPresent", "merge", "replace", "setValue"}
)  # fmt: skip
_FUNCTIONAL_ARITY = {
    "Function": 1, "Predicate": 1, "Consumer": 1, "UnaryOperator": 1, "ToDoubleFunction": 1, "ToIntFunction": 1,
    "ToLongFunction": 1, "BiFunction": 2, "BiConsumer": 2, "BiPredicate": 2, "Comparator": 2, "BinaryOperator": 2,
    "ObjIntConsumer": 2, "Supplier": 0,
}  # fmt: skip


def _root(f: Any) -> Any:
    return f


def _const_fn(value: Any) -> Callable[[Any], Any]:
    return lambda f: value


class Unit:
    """What a runtime error needs to know of the script it came from."""

    __slots__ = ("source", "statements")

    def __init__(self, source: str, statements: tuple[int, ...]) -> None:
        self.source = source
        self.statements = statements


class Expr:
    """A compiled expression: `fn(f)` evaluates it, `type` is its Painless static type."""

    __slots__ = ("fn", "type", "node", "const", "literal")

    def __init__(self, fn: Callable[[Any], Any], type_: str, node: Node, const: Any = NOT_CONST) -> None:
        self.fn = fn
        self.type = type_
        self.node = node
        self.const = const
        self.literal: str | None = None


class Local:
    __slots__ = ("name", "slot", "type", "depth")

    def __init__(self, name: str, slot: int, type_: str, depth: int) -> None:
        self.name = name
        self.slot = slot
        self.type = type_
        self.depth = depth


class Function:
    __slots__ = ("name", "ret", "params", "node", "frame_size", "run", "slots")

    def __init__(self, node: Node) -> None:
        self.node = node
        self.name: str = node.b
        self.ret: str = node.a
        self.params: list[tuple[str, str]] = node.c
        self.frame_size = FIRST_LOCAL
        self.run: Callable[[Any], Any] | None = None
        self.slots: list[int] = []


def _always_escapes(node: Node | None) -> bool:
    """Whether a statement never completes normally (return/throw on every path)."""
    if node is None:
        return False
    kind = node.kind
    if kind in ("return", "throw"):
        return True
    if kind == "block":
        return any(_always_escapes(s) for s in node.a)
    if kind == "if":
        return node.c is not None and _always_escapes(node.b) and _always_escapes(node.c)
    if kind == "try":
        return _always_escapes(node.a) and all(_always_escapes(block) for _, _, block in node.b)
    return False


def _needs_frame(node: Any) -> bool:
    """Whether an expression needs a frame (a lambda, params, a local function call)."""
    if isinstance(node, Node):
        if node.kind == "lambda" or node.kind == "funcref" or node.kind == "localcall":
            return True
        if node.kind == "var" and node.a == "params":
            return True
        return any(_needs_frame(part) for part in (node.a, node.b, node.c, node.d))
    if isinstance(node, (list, tuple)):
        return any(_needs_frame(part) for part in node)
    return False


class Compiler:
    def __init__(self, source: str, context: str, statements_starts: tuple[int, ...]) -> None:
        self.source = source
        self.context = context  # "condition" or "script"
        self.unit = Unit(source, statements_starts)
        self.fast = False
        self.scopes: list[dict[str, Local]] = [{}]
        self.next_slot = FIRST_LOCAL
        self.functions: dict[tuple[str, int], Function] = {}
        self.function: Function | None = None
        self.lambda_depth = 0
        self.loop_depth = 0
        self.in_lambda_block = 0

    # -- errors and locations --

    def error(self, reason: str, node: Node | int) -> PainlessCompileError:
        position = node if isinstance(node, int) else node.pos
        return PainlessCompileError(reason, self.source, position)

    def unsupported(self, construct: str, node: Node | int) -> PainlessCompileError:
        return self.error(f"{construct} is not supported by the offline engine", node)

    def at(self, node: Node) -> tuple[int, int, int, Unit]:
        return (node.pos, node.start, node.end, self.unit)

    # -- scopes --

    def lookup(self, name: str) -> Local | None:
        for scope in reversed(self.scopes):
            if name in scope:
                return scope[name]
        return None

    def declare(self, name: str, type_: str, pos: int) -> Local:
        if name in ("ctx", "params") and self.function is None or self.lookup(name) is not None:
            raise self.error(f"variable [{name}] is already defined", pos)
        local = Local(name, self.next_slot, type_, self.lambda_depth)
        self.next_slot += 1
        self.scopes[-1][name] = local
        return local

    # -- types --

    def check_type(self, name: str, node: Node | int, *, allow_void: bool = False) -> str:
        """A type name a script wrote: known, supported, spelled as this engine spells it."""
        base = name
        while base.endswith("[]"):
            base = base[:-2]
        if base in statics.UNSUPPORTED_TYPES:
            raise self.unsupported(f"type [{base}]", node)
        if base == "void" and allow_void and base == name:
            return name
        if base in ("def",) or base in PRIMITIVE_NAMES or base in REFERENCE_TYPES:
            if base in ("byte", "short"):
                raise self.unsupported(f"type [{base}]", node)
            if base == "Metadata" and self.context != "script" or base == "WriteField" and self.context != "script":
                raise self.error(f"cannot resolve type [{base}]", node)
            return name
        raise self.error(f"cannot resolve type [{base}]", node)

    @staticmethod
    def is_subtype(sub: str, sup: str) -> bool:
        if sub == sup or sup in ("def", "Object") and sub not in PRIMITIVES:
            return True
        if sub.endswith("[]"):
            return sup in ("Object",) or sup.endswith("[]") and Compiler.is_subtype(sub[:-2], sup[:-2]) and sub[:-2] not in PRIMITIVES
        return sup in _SUPER.get(sub, ())

    def coerce(self, e: Expr, to: str, node: Node, *, explicit: bool = False) -> Callable[[Any], Any]:  # noqa: C901, PLR0911, PLR0912 - Painless's cast table
        """The closure giving e's value as type `to`; a cast Painless refuses is a compile error."""
        frm = e.type
        fn = e.fn
        if frm == to:
            return fn
        if to == "void":
            raise self.error(f"Cannot cast from [{type_error_name(frm)}] to [void].", node)
        if frm == "void":
            raise self.error(f"Cannot cast from [void] to [{type_error_name(to)}].", node)
        if frm == "null":
            if to in PRIMITIVES:
                raise self.error(f"Cannot cast null to a primitive type [{to}].", node)
            return fn
        if to == "def":
            return fn
        at = self.at(node)
        if frm == "def" or frm == "Object" and (explicit or to == "Object"):
            if to in PRIMITIVES:
                return self._runtime(fn, lambda v: def_to_primitive(v, to, explicit), at)
            if to == "Object":
                return fn
            return self._runtime(fn, lambda v: v if v is None else _checkcast(v, to), at)
        if frm in PRIMITIVES and to in PRIMITIVES:
            if frm == "boolean" or to == "boolean":
                raise self.error(f"Cannot cast from [{frm}] to [{to}].", node)
            widening = _RANK[frm] <= _RANK[to] and (to != "char" or frm == "char")
            if not widening and not explicit:
                raise self.error(f"Cannot cast from [{frm}] to [{to}].", node)
            if e.const is not NOT_CONST:
                value = convert_number(e.const, to)
                return _const_fn(value)
            return lambda f: convert_number(fn(f), to)
        if frm in PRIMITIVES:
            box = BOXES[frm]
            if to == box or to in _SUPER.get(box, ()):
                return fn
            if explicit and to in UNBOXES and UNBOXES[to] in NUMERIC and frm in NUMERIC:
                return lambda f: convert_number(fn(f), UNBOXES[to])
            raise self.error(f"Cannot cast from [{type_error_name(frm)}] to [{type_error_name(to)}].", node)
        if to in PRIMITIVES:
            if frm in UNBOXES:
                unboxed = UNBOXES[frm]
                if unboxed == to or unboxed in NUMERIC and to in NUMERIC and (_RANK[unboxed] <= _RANK[to] or explicit):
                    return self._runtime(fn, lambda v: def_to_primitive(v, to, explicit), at)
            if frm == "String" and to == "char" and explicit:
                if e.const is not NOT_CONST and isinstance(e.const, str) and len(e.const) == 1:
                    return _const_fn(JChar(e.const))
                return self._runtime(fn, _string_to_char, at)
            if frm == "Number" and explicit and to in NUMERIC:
                return self._runtime(fn, lambda v: def_to_primitive(v, to, True), at)
            raise self.error(f"Cannot cast from [{type_error_name(frm)}] to [{type_error_name(to)}].", node)
        if self.is_subtype(frm, to):
            return fn
        if explicit and self.is_subtype(to, frm):
            return self._runtime(fn, lambda v: v if v is None else _checkcast(v, to), at)
        raise self.error(f"Cannot cast from [{type_error_name(frm)}] to [{type_error_name(to)}].", node)

    @staticmethod
    def _runtime(fn: Callable[[Any], Any], convert: Callable[[Any], Any], at: Any) -> Callable[[Any], Any]:
        def converted(f: Any) -> Any:
            try:
                return convert(fn(f))
            except PainlessRuntimeError as e:
                if e.at is None:
                    e.at = at
                raise

        return converted

    def as_boolean(self, e: Expr, role: str) -> Callable[[Any], bool]:
        """Painless casts operands of &&, ||, !, ?:, conditions and the condition's result to boolean."""
        if e.type == "boolean":
            return e.fn
        if e.type == "def" or e.type == "Boolean":
            fn = e.fn
            at = self.at(e.node)

            def checked(f: Any) -> bool:
                v = fn(f)
                if v is True or v is False:
                    return v
                error = _bool_fail(v)
                error.at = at
                raise error

            return checked
        raise self.error(f"Cannot cast from [{type_error_name(e.type)}] to [boolean]: {role} must be a boolean", e.node)

    # -- entry points --

    def compile_unit(self, functions: list[Node], statements: list[Node]) -> tuple[Callable[[Any], Any], int]:
        """The script's body as one closure, and the frame size it needs."""
        for node in functions:
            ret = self.check_type(node.a, node, allow_void=True)
            function = Function(node)
            function.ret = ret
            for ptype, _ in function.params:
                self.check_type(ptype, node)
            key = (function.name, len(function.params))
            if key in self.functions:
                raise self.error(f"function [{function.name}/{len(function.params)}] is already defined", node)
            self.functions[key] = function
        for function in self.functions.values():
            self.compile_function(function)
        if self.context == "condition":
            body = self.condition_body(statements)
        else:
            body = self.statements(statements, top=True)
        return body, self.next_slot

    def compile_function(self, function: Function) -> None:
        saved = (self.scopes, self.next_slot, self.function, self.loop_depth, self.lambda_depth)
        self.scopes, self.next_slot, self.function, self.loop_depth, self.lambda_depth = [{}], FIRST_LOCAL, function, 0, 0
        try:
            function.slots = [self.declare(name, ptype, function.node.pos).slot for ptype, name in function.params]
            body = function.node.d
            if function.ret != "void" and not _always_escapes(body):
                raise self.error(
                    f"not all paths provide a return value for function [{function.name}] with {len(function.params)} parameters", function.node
                )
            function.run = self.statements(body.a)
            function.frame_size = self.next_slot
        finally:
            self.scopes, self.next_slot, self.function, self.loop_depth, self.lambda_depth = saved

    def condition_body(self, statements: list[Node]) -> Callable[[Any], Any]:
        """A condition returns its `return` value or its last expression statement's, cast to
        boolean; falling off the end returns false (Painless's automatic default return)."""
        if not statements:
            raise self.error("a condition needs a statement", 0)
        last = statements[-1]
        if last.kind == "expr":
            statements = [*statements[:-1], Node("return", last.pos, last.start, last.end, last.a)]
        return self.statements(statements, top=True)

    # -- statements --

    def statements(self, nodes: list[Node], *, top: bool = False) -> Callable[[Any], Any]:
        runs: list[Callable[[Any], Any]] = []
        for i, node in enumerate(nodes):
            if i > 0 and _always_escapes(nodes[i - 1]) or i > 0 and nodes[i - 1].kind in ("break", "continue"):
                raise self.error("unreachable statement", node)
            runs.append(self.statement(node))
        if not runs:
            return lambda f: None
        if len(runs) == 1:
            return runs[0]
        if len(runs) == 2:
            first, second = runs

            def two(f: Any) -> Any:
                signal = first(f)
                if signal is not None:
                    return signal
                return second(f)

            return two
        seq = tuple(runs)

        def many(f: Any) -> Any:
            for run in seq:
                signal = run(f)
                if signal is not None:
                    return signal
            return None

        return many

    def block(self, node: Node) -> Callable[[Any], Any]:
        self.scopes.append({})
        try:
            if node.kind == "block":
                return self.statements(node.a)
            return self.statement(node)
        finally:
            self.scopes.pop()

    def statement(self, node: Node) -> Callable[[Any], Any]:  # noqa: PLR0911, PLR0912 - one case per statement kind
        kind = node.kind
        if kind == "expr":
            return self.expression_statement(node)
        if kind == "decl":
            return self.declaration(node)
        if kind == "block":
            return self.block(node)
        if kind == "if":
            return self.if_statement(node)
        if kind in ("while", "do", "for", "each"):
            self.loop_depth += 1
            self.scopes.append({})
            try:
                loop: Callable[[Node], Callable[[Any], Any]] = getattr(self, f"{kind}_statement")
                return loop(node)
            finally:
                self.scopes.pop()
                self.loop_depth -= 1
        if kind in ("break", "continue"):
            if self.loop_depth == 0:
                raise self.error(f"invalid {kind} statement: not in a loop", node)
            signal = BREAK if kind == "break" else CONTINUE
            return lambda f: signal
        if kind == "return":
            return self.return_statement(node)
        if kind == "throw":
            return self.throw_statement(node)
        if kind == "try":
            return self.try_statement(node)
        if kind == "empty":
            return lambda f: None
        raise self.error(f"unexpected statement [{kind}]", node)

    def expression_statement(self, node: Node) -> Callable[[Any], Any]:
        expr_node = node.a
        while expr_node.kind == "paren":
            expr_node = expr_node.a
        if expr_node.kind not in ("assign", "incdec", "call", "localcall", "new"):
            raise self.error("not a statement: the result of this expression is not used", node)
        fn = self.expression(expr_node).fn

        def run(f: Any) -> None:
            fn(f)

        return run

    def declaration(self, node: Node) -> Callable[[Any], Any]:
        dtype = self.check_type(node.a, node)
        runs = []
        for name, init, pos in node.b:
            if init is None:
                local = self.declare(name, dtype, pos)
                default = _DEFAULTS.get(dtype)
                runs.append(_store(local.slot, _const_fn(default)))
                continue
            value = self.expression(init)
            convert = self.coerce(value, dtype, init)
            local = self.declare(name, dtype, pos)  # after the initializer: `def x = x` does not see itself
            runs.append(_store(local.slot, convert))
        if len(runs) == 1:
            return runs[0]
        seq = tuple(runs)

        def run(f: Any) -> None:
            for r in seq:
                r(f)

        return run

    def if_statement(self, node: Node) -> Callable[[Any], Any]:
        cond = self.as_boolean(self.expression(node.a), "the condition of if")
        then = self.block(node.b)
        if node.c is None:

            def run(f: Any) -> Any:
                if cond(f):
                    return then(f)
                return None

            return run
        other = self.block(node.c)

        def run_else(f: Any) -> Any:
            if cond(f):
                return then(f)
            return other(f)

        return run_else

    def _loop_cost(self, body: Node) -> int:
        return max(1, len(body.a) if body.kind == "block" else 1)

    def _budget(self, node: Node) -> Callable[[Any, int], None]:
        at = self.at(node)

        def spend(f: Any, cost: int) -> None:
            f[BUDGET] -= cost
            if f[BUDGET] < 0:
                error = PainlessRuntimeError(
                    "The maximum number of statements that can be executed in a loop has been reached.", "PainlessError"
                )
                error.at = at
                raise error

        return spend

    def while_statement(self, node: Node) -> Callable[[Any], Any]:
        cond = self.as_boolean(self.expression(node.a), "the condition of while")
        body = self.block(node.b)
        cost = self._loop_cost(node.b)
        spend = self._budget(node)

        def run(f: Any) -> Any:
            while cond(f):
                spend(f, cost)
                signal = body(f)
                if signal is not None:
                    if signal == BREAK:
                        break
                    if signal == RETURN:
                        return signal
            return None

        return run

    def do_statement(self, node: Node) -> Callable[[Any], Any]:
        body = self.block(node.a)
        cond = self.as_boolean(self.expression(node.b), "the condition of do-while")
        cost = self._loop_cost(node.a)
        spend = self._budget(node)

        def run(f: Any) -> Any:
            while True:
                spend(f, cost)
                signal = body(f)
                if signal is not None:
                    if signal == BREAK:
                        break
                    if signal == RETURN:
                        return signal
                if not cond(f):
                    break
            return None

        return run

    def for_statement(self, node: Node) -> Callable[[Any], Any]:
        init = self.statement(node.a) if node.a is not None else None
        cond = self.as_boolean(self.expression(node.b), "the condition of for") if node.b is not None else None
        update = self.expression(node.c).fn if node.c is not None else None
        body = self.block(node.d)
        cost = self._loop_cost(node.d)
        spend = self._budget(node)

        def run(f: Any) -> Any:
            if init is not None:
                init(f)
            while cond is None or cond(f):
                spend(f, cost)
                signal = body(f)
                if signal is not None:
                    if signal == BREAK:
                        break
                    if signal == RETURN:
                        return signal
                if update is not None:
                    update(f)
            return None

        return run

    def each_statement(self, node: Node) -> Callable[[Any], Any]:
        dtype = self.check_type(node.a, node)
        iterable = self.expression(node.c)
        if iterable.type in PRIMITIVES or iterable.type in ("String", "Map", "HashMap", "LinkedHashMap", "TreeMap"):
            raise self.error(f"Cannot iterate over type [{type_error_name(iterable.type)}].", node.c)
        local = self.declare(node.b, dtype, node.pos)
        slot = local.slot
        body = self.block(node.d)
        source = iterable.fn
        cost = self._loop_cost(node.d)
        spend = self._budget(node)
        at = self.at(node.c)
        typed = dtype not in ("def", "Object")

        def run(f: Any) -> Any:
            try:
                items = _iteration(source(f))
                for value in items:
                    spend(f, cost)
                    f[slot] = _cast_to(value, dtype, at) if typed else value
                    signal = body(f)
                    if signal is not None:
                        if signal == BREAK:
                            break
                        if signal == RETURN:
                            return signal
            except PainlessRuntimeError as e:
                if e.at is None:
                    e.at = at
                raise
            return None

        return run

    def return_statement(self, node: Node) -> Callable[[Any], Any]:
        value_node = node.a
        if self.lambda_depth > 0 and self.in_lambda_block:
            if value_node is None:
                return _return_none
            return _store_return(self.expression(value_node).fn)
        if self.function is not None:
            ret = self.function.ret
            if ret == "void":
                if value_node is not None:
                    raise self.error(f"cannot return a value from void function [{self.function.name}]", node)
                return _return_none
            if value_node is None:
                raise self.error(f"function [{self.function.name}] must return a value of type [{type_error_name(ret)}]", node)
            return _store_return(self.coerce(self.expression(value_node), ret, value_node))
        if self.context == "script":
            if value_node is not None:
                raise self.error("cannot return a value from an ingest script (its execute() returns void)", node)
            return _return_none
        if value_node is None:
            raise self.error("a condition must return a boolean", node)
        return _store_return(self.as_boolean(self.expression(value_node), "the condition's result"))

    def throw_statement(self, node: Node) -> Callable[[Any], Any]:
        value = self.expression(node.a)
        if value.type != "def" and not self.is_subtype(value.type, "Exception"):
            raise self.error(f"Cannot cast from [{type_error_name(value.type)}] to [java.lang.Exception].", node.a)
        fn = value.fn
        at = self.at(node)

        def run(f: Any) -> Any:
            thrown = fn(f)
            if thrown is None:
                error = npe('Cannot throw exception because "thrown" is null')
            elif isinstance(thrown, api.CaughtException):
                error = PainlessRuntimeError(thrown.message or "", thrown.java_exception)
            else:
                error = cce(java_cast_message(jclass(thrown), "java.lang.Throwable"))
            error.at = at
            raise error

        return run

    def try_statement(self, node: Node) -> Callable[[Any], Any]:
        body = self.block(node.a)
        traps = []
        for ctype, name, block in node.b:
            if ctype not in api.EXCEPTION_PARENTS:
                if ctype in REFERENCE_TYPES or ctype in PRIMITIVE_NAMES or ctype == "def":
                    raise self.error(f"Cannot cast from [{type_error_name(ctype)}] to [java.lang.Exception].", node)
                raise self.error(f"cannot resolve type [{ctype}]", node)
            self.scopes.append({})
            try:
                local = self.declare(name, ctype, node.pos)
                traps.append((ctype, local.slot, self.block(block)))
            finally:
                self.scopes.pop()
        trap_list = tuple(traps)

        def run(f: Any) -> Any:
            try:
                return body(f)
            except PainlessRuntimeError as error:
                if error.java_exception in ("PainlessError", "StackOverflowError", "OutOfMemoryError"):
                    raise
                for ctype, slot, handler in trap_list:
                    if api.exception_is(error.java_exception, ctype):
                        f[slot] = api.CaughtException(error.java_exception, error.message)
                        return handler(f)
                raise

        return run

    # -- expressions --

    def expression(self, node: Node) -> Expr:
        method = getattr(self, f"e_{node.kind}", None)
        if method is None:
            raise self.error(f"unexpected expression [{node.kind}]", node)
        return method(node)  # type: ignore[no-any-return]

    def e_paren(self, node: Node) -> Expr:
        inner = self.expression(node.a)
        e = Expr(inner.fn, inner.type, node, inner.const)
        e.literal = inner.literal
        return e

    def e_num(self, node: Node, text: str | None = None) -> Expr:
        """A numeric literal with Painless's types: int unless suffixed L (long), f (float), d or decimal (double)."""
        text = text if text is not None else node.a
        negative = text.startswith("-")
        body = (text[1:] if negative else text).lower()
        value: Any
        if body.startswith("0x") or (len(body) > 1 and body[0] == "0" and body.rstrip("l").isdigit()):
            is_long = body.endswith("l")
            digits = body[:-1] if is_long else body
            magnitude = int(digits[2:], 16) if digits.startswith("0x") else int(digits, 8)
            jtype = "long" if is_long else "int"
            number: Any = -magnitude if negative else magnitude
            # Hex and octal literals are two's complement bit patterns, as in Java.
            if jtype == "int" and 2**31 <= magnitude < 2**32 and not negative:
                raise self.error(f"invalid int constant [{text}]", node)
        else:
            suffix = body[-1] if body[-1] in "lfd" else ""
            digits = body[:-1] if suffix else body
            is_decimal = "." in digits or "e" in digits
            if suffix == "l" and is_decimal:
                raise self.error(f"invalid number literal [{text}]: a decimal cannot be a long", node)
            if suffix in ("f", "d") or is_decimal:
                number = float(("-" if negative else "") + digits)
                if suffix == "f":
                    value = JFloat(f32(number))
                    e = Expr(_const_fn(value), "float", node, value)
                else:
                    e = Expr(_const_fn(number), "double", node, number)
                e.literal = text
                return e
            magnitude = int(digits)
            number = -magnitude if negative else magnitude
            jtype = "long" if suffix == "l" else "int"
        if jtype == "long":
            if not LONG_MIN <= number <= LONG_MAX:
                raise self.error(f"invalid long constant [{text}]", node)
            value = JLong(number)
        else:
            if not INT_MIN <= number <= INT_MAX:
                raise self.error(f"invalid int constant [{text}] (a long needs an L suffix)", node)
            value = number
        e = Expr(_const_fn(value), jtype, node, value)
        e.literal = text
        return e

    def e_str(self, node: Node) -> Expr:
        return Expr(_const_fn(node.a), "String", node, node.a)

    def e_bool(self, node: Node) -> Expr:
        return Expr(_const_fn(node.a), "boolean", node, node.a)

    def e_null(self, node: Node) -> Expr:
        return Expr(_const_fn(None), "null", node, None)

    def e_regex(self, node: Node) -> Expr:
        from ..java.regex import JavaRegexError

        try:
            pattern = Pattern(node.a, node.b)
        except JavaRegexError as error:
            raise self.error(f"invalid regular expression [{node.a}]: {error}", node) from None
        return Expr(_const_fn(pattern), "Pattern", node, pattern)

    def e_var(self, node: Node) -> Expr:
        name = node.a
        local = self.lookup(name)
        if local is not None:
            return Expr(itemgetter(local.slot), local.type, node)
        if name in ("ctx", "params") and self.function is None:
            if name == "ctx":
                return Expr(_root if self.fast else itemgetter(CTX), "Map", node)
            return Expr(itemgetter(PARAMS), "Map", node)
        if name in statics.STATIC_CLASSES or name in ("Processors", "Json") or name in REFERENCE_TYPES:
            raise self.error(f"cannot resolve symbol [{name}]: a type is not a value", node)
        if name == "this":
            raise self.unsupported("[this] outside a function reference", node)
        if name in ("ctx", "params"):
            raise self.error(f"cannot resolve symbol [{name}]: functions cannot see the script's variables", node)
        raise self.error(f"cannot resolve symbol [{name}]", node)

    # -- static classes --

    def static_class(self, node: Node) -> str | None:
        """The static class a receiver names (`Math`, `Map.Entry`), or None if it is a value."""
        if node.kind == "var":
            name = node.a
            if self.lookup(name) is not None or name in ("ctx", "params") and self.function is None:
                return None
            if name in statics.STATIC_CLASSES:
                return str(name)
            if name == "Processors" or name == "Json":
                if self.context != "script":
                    raise self.error(f"cannot resolve symbol [{name}]: it exists in the ingest script context only", node)
                return str(name)
            if name in statics.UNSUPPORTED_TYPES:
                raise self.unsupported(f"type [{name}]", node)
            if name in REFERENCE_TYPES:
                return str(name)
            return None
        if node.kind == "field" and node.a.kind == "var" and node.a.a == "Map" and node.b == "Entry" and self.lookup("Map") is None:
            return "Map.Entry"
        return None

    def static_table(self, cls: str, node: Node) -> Mapping[tuple[str, int], Any]:
        if cls == "Processors":
            return host.PROCESSORS_STATIC
        if cls == "Json":
            return host.JSON_STATIC
        if cls in statics.STATIC_CLASSES:
            return statics.STATIC_CLASSES[cls][0]
        return {}

    def static_fields(self, cls: str) -> dict[str, tuple[Any, str]]:
        return statics.STATIC_CLASSES[cls][1] if cls in statics.STATIC_CLASSES else {}

    # -- field access --

    def e_field(self, node: Node) -> Expr:  # noqa: C901 - static fields, arrays, maps, typed getters, def
        recv_node, name, null_safe = node.a, node.b, node.c
        cls = self.static_class(recv_node)
        if cls is not None:
            fields = self.static_fields(cls)
            if name in fields:
                value, ftype = fields[name]
                return Expr(_const_fn(value), ftype, node, value)
            raise self.error(f"cannot resolve symbol [{cls}.{name}]", node)
        recv = self.expression(recv_node)
        rtype = recv.type
        rfn = recv.fn
        at = self.at(node)
        if rtype in PRIMITIVES or rtype == "null" or rtype == "void":
            raise self.error(f"cannot access field [{name}] of a value of type [{type_error_name(rtype)}]", node)
        if rtype.endswith("[]"):
            if name != "length":
                raise self.error(f"unknown field [{name}] for type [{type_error_name(rtype)}]", node)
            return self._nullable(Expr(self._guarded_get(rfn, len, name, null_safe, at), "int", node), null_safe, node)
        if rtype in ("Map", "HashMap", "LinkedHashMap", "TreeMap"):
            if name == "empty":
                return self._nullable(Expr(self._guarded_get(rfn, lambda m: len(m) == 0, name, null_safe, at), "boolean", node), null_safe, node)
            if rfn is _root:
                return Expr(lambda f: f.get(name), "def", node)
            if recv_node.kind == "var" and recv_node.a == "ctx" and self.function is None:
                getter = itemgetter(CTX)
                return Expr(lambda f: getter(f).get(name), "def", node)
            return Expr(self._guarded_get(rfn, lambda m: m.get(name), name, null_safe, at), "def", node)
        if rtype != "def":
            table = _STATIC_TABLES.get(rtype)
            get, is_ = api.getter_name(name)
            method = table.get((get, 0)) or table.get((is_, 0)) if table else None
            if method is None:
                if rtype in ("List", "ArrayList") and (name.isdigit()):
                    return Expr(self._guarded_get(rfn, lambda v: api.get_field(v, name), name, null_safe, at), "def", node)
                raise self.error(f"unknown field [{name}] for type [{type_error_name(rtype)}]", node)
            impl, ret = method[0], method[1]
            return self._nullable(Expr(self._guarded_get(rfn, impl, name, null_safe, at), ret, node), null_safe, node)
        if name == "empty":
            getter_fn = lambda v: api.get_field(v, "empty")  # noqa: E731 - the isEmpty() getter wins over a key "empty"
            return Expr(self._guarded_get(rfn, getter_fn, name, null_safe, at), "def", node)
        get_field = api.get_field

        if null_safe:

            def fn(f: Any) -> Any:
                v = rfn(f)
                if type(v) is dict:
                    return v.get(name)
                if v is None:
                    return None
                try:
                    return get_field(v, name)
                except PainlessRuntimeError as e:
                    if e.at is None:
                        e.at = at
                    raise

        else:

            def fn(f: Any) -> Any:
                v = rfn(f)
                if type(v) is dict:
                    return v.get(name)
                try:
                    return get_field(v, name)
                except PainlessRuntimeError as e:
                    if e.at is None:
                        e.at = at
                    raise

        return Expr(fn, "def", node)

    @staticmethod
    def _guarded_get(rfn: Callable[[Any], Any], get: Callable[[Any], Any], name: str, null_safe: bool, at: Any) -> Callable[[Any], Any]:
        def fn(f: Any) -> Any:
            v = rfn(f)
            if v is None:
                if null_safe:
                    return None
                error = npe(f"cannot access method/field [{name}] from a null def reference")
                error.at = at
                raise error
            try:
                return get(v)
            except PainlessRuntimeError as e:
                if e.at is None:
                    e.at = at
                raise

        return fn

    def _nullable(self, e: Expr, null_safe: bool, node: Node) -> Expr:
        if null_safe and e.type in PRIMITIVES:
            raise self.error(f"result of null safe operator must be nullable ([{node.b}] returns {e.type})", node)
        return e

    def e_index(self, node: Node) -> Expr:
        recv = self.expression(node.a)
        index = self.expression(node.b)
        rtype = recv.type
        rfn, ifn = recv.fn, index.fn
        at = self.at(node)
        if rtype in PRIMITIVES or rtype in ("String", "null"):
            raise self.error(f"Attempting to address a non-array-like type [{type_error_name(rtype)}] as an array.", node)
        result = rtype[:-2] if rtype.endswith("[]") else "def"
        if (rtype.endswith("[]") or rtype in ("List", "ArrayList")) and index.type not in ("int", "char", "def", "Integer"):
            raise self.error(f"Cannot cast from [{type_error_name(index.type)}] to [int].", node.b)
        index_get = api.index_get

        def fn(f: Any) -> Any:
            v = rfn(f)
            k = ifn(f)
            if type(v) is dict and type(k) is str:
                return v.get(k)
            try:
                return index_get(v, k)
            except PainlessRuntimeError as e:
                if e.at is None:
                    e.at = at
                raise

        return Expr(fn, result, node)

    # -- calls --

    def arguments(self, nodes: list[Node], params: tuple[str, ...] | None) -> list[Expr]:
        out = []
        for i, arg in enumerate(nodes):
            if arg.kind in ("lambda", "funcref"):
                expected = params[i] if params is not None and i < len(params) else None
                out.append(self.functional(arg, expected))
            else:
                out.append(self.expression(arg))
        return out

    def converted_args(self, args: list[Expr], params: tuple[str, ...], nodes: list[Node]) -> list[Callable[[Any], Any]]:
        """Arguments cast to their parameter types; what cannot be cast is a compile error."""
        fns = []
        for arg, ptype, node in zip(args, params, nodes, strict=True):
            if arg.type in ("lambda",) or ptype in api.FUNCTIONAL or ptype == "Comparator":
                if arg.type not in ("lambda", "def", "Comparator", "null", "Predicate") and ptype != "Comparator" and arg.type != ptype:
                    raise self.error(f"Cannot cast from [{type_error_name(arg.type)}] to [{ptype}].", node)
                fns.append(arg.fn)
                continue
            target = {"CharSequence": "String", "Collector": "Collector"}.get(ptype, ptype)
            if arg.type == "def" or ptype in ("def", "Object"):
                fns.append(arg.fn if ptype in ("def", "Object") else self._runtime(arg.fn, _converter(ptype), self.at(node)))
                continue
            if ptype == "CharSequence" and arg.type == "StringBuilder":
                fns.append(self._runtime(arg.fn, lambda v: api.convert_arg(v, "CharSequence"), self.at(node)))
                continue
            fns.append(self.coerce(arg, target, node))
        return fns

    def e_call(self, node: Node) -> Expr:
        recv_node, name, arg_nodes, null_safe = node.a, node.b, node.c, node.d
        arity = len(arg_nodes)
        cls = self.static_class(recv_node)
        if cls is not None:
            return self.static_call(node, cls, name, arg_nodes)
        if self.context == "condition" and (name, arity) in api.SCRIPT_ONLY:
            raise self.error(f"unknown method [{name}/{arity}] in a condition (it exists in the ingest script context only)", node)
        recv = self.expression(recv_node)
        rtype = recv.type
        if rtype in PRIMITIVES or rtype in ("null", "void"):
            raise self.error(f"cannot call method [{name}] on a value of type [{type_error_name(rtype)}]", node)
        at = self.at(node)
        if rtype != "def":
            table = _STATIC_TABLES.get(rtype) if not rtype.endswith("[]") else api.OBJECT
            method = table.get((name, arity)) if table is not None else None
            if table is None or method is None:
                raise self.error(f"member method [{type_error_name(rtype)}, {name}/{arity}] not found", node)
            _, ret, params = method
            args = self.arguments(arg_nodes, params)
            fns = self.converted_args(args, params, arg_nodes)
            call = self._static_invoke(recv.fn, table, fns, name, null_safe, at, recv_node)
            return self._nullable(Expr(call, ret, node), null_safe, node)
        if (name, arity) not in api.ALL_METHOD_NAMES and (name, arity) not in _HOST_METHOD_NAMES:
            known = sorted({n for n, a in api.ALL_METHOD_NAMES if n == name})
            detail = f" with {arity} argument(s)" if known else ""
            raise self.error(f"unknown method [{name}/{arity}]{detail}: no type this engine supports has it", node)
        args = self.arguments(arg_nodes, None)
        return Expr(self._dynamic_invoke(recv.fn, name, [a.fn for a in args], null_safe, at, recv_node), "def", node)

    def _receiver_guard(self, name: str) -> Callable[[Any, Any], None] | None:
        """The check a mutating call needs: ctx metadata in a script, read-only ctx in a
        condition, read-only params everywhere."""
        if name not in _MUTATORS or self.function is not None:
            return None
        fast = self.fast
        condition = self.context == "condition"

        def guard(f: Any, v: Any) -> None:
            if fast:
                if condition and isinstance(v, (dict, list, JCollection, MapEntry)):
                    host.guard_condition(f, v)
                return
            if v is f[PARAMS]:
                raise unsupported_op()
            if condition and isinstance(v, (dict, list, JCollection, MapEntry)):
                host.guard_condition(f[CTX], v)

        return guard

    def _static_invoke(
        self, rfn: Callable[[Any], Any], table: api.Table, fns: list[Callable[[Any], Any]], name: str,
        null_safe: bool, at: Any, recv_node: Node,
    ) -> Callable[[Any], Any]:  # fmt: skip
        """A call on a typed receiver: resolved at compile time against the static type, run
        on the value's own class (a `List` may hold a fixed-size or unmodifiable list)."""
        guard = self._receiver_guard(name)
        ctx_call = self._ctx_method(name, recv_node)
        key = (name, len(fns))
        impl = ctx_call if ctx_call is not None else table[key][0]
        by_type = api.BY_TYPE
        invoke = api.invoke
        script = self.context == "script" and self.function is None and name in _MUTATORS and not self.fast

        def call(f: Any) -> Any:
            v = rfn(f)
            if v is None and null_safe:
                return None
            try:
                args = [a(f) for a in fns]
                if v is None:
                    raise npe(f"cannot access method/field [{name}] from a null def reference")
                if guard is not None:
                    guard(f, v)
                if ctx_call is not None and v is f[CTX]:
                    return ctx_call(v, *args)
                if by_type.get(type(v)) is table:
                    return impl(v, *args)
                result = invoke(v, name, args)
                if script and v is f[CTX]:
                    host.check_ctx(v, False)
                return result
            except PainlessRuntimeError as e:
                if e.at is None:
                    e.at = at
                raise

        return call

    def _ctx_method(self, name: str, recv_node: Node) -> Callable[..., Any] | None:
        """ctx.put / ctx.remove in a script go through the metadata checks."""
        if self.context != "script" or not (recv_node.kind == "var" and recv_node.a == "ctx" and self.function is None):
            return None
        if name == "put":
            return host.ctx_put
        if name == "remove":
            return lambda ctx, *args: host.ctx_remove(ctx, *args) if len(args) == 1 else api.MAP[("remove", 2)][0](ctx, *args)
        return None

    def _dynamic_invoke(
        self, rfn: Callable[[Any], Any], name: str, afns: list[Callable[[Any], Any]], null_safe: bool, at: Any, recv_node: Node
    ) -> Callable[[Any], Any]:
        # Java evaluates the receiver, then the arguments, then dispatches (so a null receiver
        # throws after the arguments ran); a null-safe call skips the arguments entirely.
        invoke = api.invoke
        guard = self._receiver_guard(name)
        ctx_call = self._ctx_method(name, recv_node)
        script = self.context == "script" and self.function is None and name in _MUTATORS and not self.fast
        if len(afns) == 0 and guard is None:

            def call0(f: Any) -> Any:
                v = rfn(f)
                if v is None and null_safe:
                    return None
                try:
                    return invoke(v, name, [])
                except PainlessRuntimeError as e:
                    if e.at is None:
                        e.at = at
                    raise

            return call0
        if len(afns) == 1 and guard is None:
            afn = afns[0]
            fast_str = {"contains": str.__contains__, "startsWith": str.startswith, "endsWith": str.endswith}.get(name)
            list_contains = name == "contains"

            def call1(f: Any) -> Any:
                v = rfn(f)
                if v is None and null_safe:
                    return None
                try:
                    x = afn(f)
                    t = type(v)
                    if t is str and fast_str is not None and type(x) is str:
                        return fast_str(v, x)
                    if list_contains and t is list and type(x) is str:
                        return x in v
                    return invoke(v, name, [x])
                except PainlessRuntimeError as e:
                    if e.at is None:
                        e.at = at
                    raise

            return call1

        def call(f: Any) -> Any:
            v = rfn(f)
            if v is None and null_safe:
                return None
            try:
                args = [a(f) for a in afns]
                if guard is not None and v is not None:
                    guard(f, v)
                if ctx_call is not None and v is f[CTX]:
                    return ctx_call(v, *args)
                result = invoke(v, name, args)
                if script and v is f[CTX]:
                    host.check_ctx(v, False)
                return result
            except PainlessRuntimeError as e:
                if e.at is None:
                    e.at = at
                raise

        return call

    def static_call(self, node: Node, cls: str, name: str, arg_nodes: list[Node]) -> Expr:
        table = self.static_table(cls, node)
        arity = len(arg_nodes)
        key = (name, arity)
        varargs = (cls, name) in statics.VARARGS
        if key not in table and varargs:
            key = next((k for k in table if k[0] == name), key)
        if key not in table:
            raise self.error(f"unknown static method [{cls}.{name}/{arity}]", node)
        entry = table[key]
        impl, ret, params = entry[0], entry[1], entry[2]
        if cls == "Processors" and not host.processor_available(entry[3]):
            raise self.unsupported(f"Processors.{name} (it runs the [{entry[3]}] processor, which this engine does not have)", node)
        at = self.at(node)
        if varargs:
            args = self.arguments(arg_nodes, None)
            fns = [a.fn for a in args]
            first_params = params[:-1] if name == "format" else ()
            fixed = self.converted_args(args[: len(first_params)], first_params, arg_nodes[: len(first_params)]) if first_params else []
            fns = fixed + fns[len(first_params) :]
        else:
            args = self.arguments(arg_nodes, params)
            fns = self.converted_args(args, params, arg_nodes)
        if arity == 0:

            def call0(f: Any) -> Any:
                try:
                    return impl()
                except PainlessRuntimeError as e:
                    if e.at is None:
                        e.at = at
                    raise

            return Expr(call0, ret, node)

        def call(f: Any) -> Any:
            try:
                return impl(*[a(f) for a in fns])
            except PainlessRuntimeError as e:
                if e.at is None:
                    e.at = at
                raise

        return Expr(call, ret, node)

    def e_localcall(self, node: Node) -> Expr:
        name, arg_nodes = node.a, node.b
        arity = len(arg_nodes)
        function = self.functions.get((name, arity))
        at = self.at(node)
        if function is not None:
            params = tuple(ptype for ptype, _ in function.params)
            args = self.arguments(arg_nodes, params)
            fns = self.converted_args(args, params, arg_nodes)
            return Expr(self._call_function(function, fns, at), function.ret, node)
        if name == "field" and arity == 1 and self.function is None:
            arg = self.expression(arg_nodes[0])
            path = self.coerce(arg, "String", arg_nodes[0])
            kind = host.WriteField if self.context == "script" else host.SourceMapField
            root = _root if self.fast else itemgetter(CTX)

            def make_field(f: Any) -> Any:
                p = path(f)
                if p is None:
                    error = npe('Cannot invoke "String.indexOf(int)" because "this.path" is null')
                    error.at = at
                    raise error
                return kind(p, root(f))

            return Expr(make_field, "WriteField" if self.context == "script" else "SourceMapField", node)
        if name == "metadata" and arity == 0 and self.context == "script" and self.function is None:
            return Expr(lambda f: host.Metadata(f[CTX], (f[INGEST] or {}).get("timestamp")), "Metadata", node)
        if any(key[0] == name for key in self.functions):
            raise self.error(f"function [{name}/{arity}] not found (wrong number of arguments)", node)
        raise self.error(f"unknown function [{name}/{arity}]", node)

    def _call_function(self, function: Function, fns: list[Callable[[Any], Any]], at: Any) -> Callable[[Any], Any]:
        size_holder = function

        def call(f: Any) -> Any:
            frame = [None, None, None, LOOP_BUDGET, None] + [None] * (size_holder.frame_size - FIRST_LOCAL)
            for slot, a in zip(size_holder.slots, fns, strict=True):
                frame[slot] = a(f)
            run = size_holder.run
            assert run is not None
            try:
                run(frame)
            except RecursionError:
                error = PainlessRuntimeError(None, "StackOverflowError")
                error.at = at
                raise error from None
            return frame[RET]

        return call

    def e_new(self, node: Node) -> Expr:
        type_name = self.check_type(node.a, node)
        arity = len(node.b)
        found = statics.constructor(type_name, arity)
        if found is None:
            raise self.error(f"constructor [{type_error_name(type_name)}, <init>/{arity}] not found", node)
        impl, params = found
        args = self.arguments(node.b, params)
        fns = self.converted_args(args, params, node.b)
        at = self.at(node)

        def make(f: Any) -> Any:
            try:
                return impl(*[a(f) for a in fns])
            except PainlessRuntimeError as e:
                if e.at is None:
                    e.at = at
                raise

        return Expr(make, type_name, node)

    def e_newarray(self, node: Node) -> Expr:
        component = self.check_type(node.a, node)
        at = self.at(node)
        if node.c is not None:
            items = [self.coerce(self.expression(item), component, item) for item in node.c]
            return Expr(lambda f: JArray([i(f) for i in items], component), component + "[]", node)
        dims = [self.coerce(self.expression(d), "int", d) for d in node.b]
        if len(dims) != 1:
            raise self.unsupported("a multi-dimensional array", node)
        size_fn = dims[0]
        default = _DEFAULTS.get(component)

        def make(f: Any) -> Any:
            n = size_fn(f)
            if n < 0:
                error = PainlessRuntimeError(str(n), "NegativeArraySizeException")
                error.at = at
                raise error
            return JArray([default] * n, component)

        return Expr(make, component + "[]", node)

    def e_list(self, node: Node) -> Expr:
        items = [self.coerce(self.expression(item), "def", item) for item in node.a]
        return Expr(lambda f: [i(f) for i in items], "ArrayList", node)

    def e_map(self, node: Node) -> Expr:
        pairs = [(self.expression(k).fn, self.coerce(self.expression(v), "def", v)) for k, v in node.a]
        at = self.at(node)

        def make(f: Any) -> Any:
            out: dict[Any, Any] = {}
            try:
                for k, v in pairs:
                    api._map_put(out, k(f), v(f))
            except PainlessRuntimeError as e:
                if e.at is None:
                    e.at = at
                raise
            return out

        return Expr(make, "HashMap", node)

    # -- functional arguments --

    def functional(self, node: Node, interface: str | None) -> Expr:
        expected = _FUNCTIONAL_ARITY.get(interface) if interface else None
        if node.kind == "funcref":
            return self.function_reference(node, expected)
        params = node.a
        if expected is not None and len(params) != expected:
            raise self.error(f"Incorrect number of parameters for [{interface}]: the lambda takes {len(params)}, it needs {expected}", node)
        self.scopes.append({})
        self.lambda_depth += 1
        try:
            locals_ = []
            for ptype, pname in params:
                ltype = self.check_type(ptype, node) if ptype is not None else "def"
                locals_.append(self.declare(pname, ltype, node.pos))
            if node.b.kind == "block":
                self.in_lambda_block += 1
                loops, self.loop_depth = self.loop_depth, 0
                try:
                    body = self.statements(node.b.a)
                finally:
                    self.in_lambda_block -= 1
                    self.loop_depth = loops
                is_block = True
            else:
                saved, self.in_lambda_block = self.in_lambda_block, 0
                try:
                    body = self.expression(node.b).fn
                finally:
                    self.in_lambda_block = saved
                is_block = False
        finally:
            self.lambda_depth -= 1
            self.scopes.pop()
        slots = [(local.slot, local.type) for local in locals_]
        n = len(slots)
        at = self.at(node)
        typed = [(slot, ltype) for slot, ltype in slots if ltype != "def"]

        def make(f: Any) -> Callable[..., Any]:
            def call(*args: Any) -> Any:
                if len(args) != n:
                    error = iae(f"Incorrect number of parameters for a lambda of {n}: called with {len(args)}")
                    error.at = at
                    raise error
                for (slot, _), value in zip(slots, args, strict=True):
                    f[slot] = value
                for slot, ltype in typed:
                    f[slot] = _cast_to(f[slot], ltype, at)
                if is_block:
                    signal = body(f)
                    return f[RET] if signal == RETURN else None
                return body(f)

            return call

        return Expr(make, "lambda", node)

    def function_reference(self, node: Node, expected: int | None) -> Expr:
        owner, name = node.a, node.b
        at = self.at(node)
        if owner == "this":
            candidates = [fn for key, fn in self.functions.items() if key[0] == name]
            if not candidates:
                raise self.error(f"unknown function [{name}] in a function reference", node)
            by_arity = {len(fn.params): fn for fn in candidates}

            def make_local(f: Any) -> Callable[..., Any]:
                def call(*args: Any) -> Any:
                    function = by_arity.get(len(args))
                    if function is None:
                        raise iae(f"function [{name}/{len(args)}] not found")
                    frame = [None, None, None, LOOP_BUDGET, None] + [None] * (function.frame_size - FIRST_LOCAL)
                    for slot, value, (ptype, _) in zip(function.slots, args, function.params, strict=True):
                        frame[slot] = _cast_to(value, ptype, at)
                    assert function.run is not None
                    function.run(frame)
                    return frame[RET]

                return call

            return Expr(make_local, "lambda", node)
        type_name = owner
        if name == "new":
            self.check_type(type_name, node)

            def make_new(f: Any) -> Callable[..., Any]:
                def call(*args: Any) -> Any:
                    found = statics.constructor(type_name, len(args))
                    if found is None:
                        raise iae(f"constructor [{type_name}, <init>/{len(args)}] not found")
                    return found[0](*[api.convert_arg(a, p) for a, p in zip(args, found[1], strict=True)])

                return call

            return Expr(make_new, "lambda", node)
        static = self.static_table(type_name, node) if type_name in statics.STATIC_CLASSES or type_name in ("Processors", "Json") else {}
        instance = _STATIC_TABLES.get(type_name, {})
        if not any(k[0] == name for k in static) and not any(k[0] == name for k in instance):
            raise self.error(f"unknown method [{type_name}::{name}] in a function reference", node)

        def make_ref(f: Any) -> Callable[..., Any]:
            def call(*args: Any) -> Any:
                if (name, len(args)) in static:
                    return host.call_static(static, (name, len(args)), list(args))
                if args and (name, len(args) - 1) in instance:
                    return api.invoke(args[0], name, list(args[1:]))
                raise iae(f"method [{type_name}::{name}/{len(args)}] not found")

            return call

        return Expr(make_ref, "lambda", node)

    def e_lambda(self, node: Node) -> Expr:
        raise self.error("a lambda can only be an argument of a method call", node)

    def e_funcref(self, node: Node) -> Expr:
        raise self.error("a function reference can only be an argument of a method call", node)

    # -- operators --

    def e_unary(self, node: Node) -> Expr:
        op = node.a
        if op in ("-", "+"):
            # Painless folds the sign into the literal: -2147483648 is a valid int.
            text = _literal_text(node)
            if text is not None:
                return self.e_num(node, text)
        operand = self.expression(node.b)
        at = self.at(node)
        if op == "!":
            fn = self.as_boolean(operand, "the operand of !")
            return Expr(lambda f: not fn(f), "boolean", node)
        otype = operand.type
        if otype == "boolean" or otype in ("String", "null") or otype not in PRIMITIVES and otype not in ("def",) and otype not in UNBOXES:
            raise self.error(f"Cannot apply [{op}] to type [{type_error_name(otype)}].", node)
        if op == "~" and otype in ("float", "double"):
            raise self.error(f"Cannot apply [~] to type [{otype}].", node)
        impl = {"-": ops.neg, "+": ops.plus, "~": ops.bnot}[op]
        result = "def" if otype == "def" else _promote_unary(UNBOXES.get(otype, otype))
        return Expr(self._runtime(operand.fn, impl, at), result, node)

    def e_cast(self, node: Node) -> Expr:
        target = self.check_type(node.a, node)
        operand = self.expression(node.b)
        fn = self.coerce(operand, target, node, explicit=True)
        e = Expr(fn, target, node)
        if operand.const is not NOT_CONST and target in PRIMITIVES and operand.type in PRIMITIVES:
            e.const = fn(None)
        return e

    def e_instanceof(self, node: Node) -> Expr:
        left = self.expression(node.a)
        type_name = self.check_type(node.b, node.c)
        if type_name in PRIMITIVES:
            raise self.error(f"instanceof needs a reference type, not [{type_name}]", node.c)
        fn = left.fn
        return Expr(lambda f: is_instance(fn(f), type_name), "boolean", node)

    def e_cond(self, node: Node) -> Expr:
        cfn = self.as_boolean(self.expression(node.a), "the condition of ?:")
        a, b = self.expression(node.b), self.expression(node.c)
        result = _promote_branches(a.type, b.type)
        afn, bfn = self._widen(a, result), self._widen(b, result)
        return Expr(lambda f: afn(f) if cfn(f) else bfn(f), result, node)

    @staticmethod
    def _widen(e: Expr, to: str) -> Callable[[Any], Any]:
        # `c ? 1 : 2.0` is a double either way: the int branch must yield 1.0 (a Double).
        if e.type == to or e.type not in NUMERIC or to not in NUMERIC:
            return e.fn
        fn = e.fn
        return lambda f: convert_number(fn(f), to)

    def e_elvis(self, node: Node) -> Expr:
        a, b = self.expression(node.a), self.expression(node.b)
        if a.type in PRIMITIVES:
            raise self.error(f"extraneous elvis operator: the left side is a primitive [{a.type}]", node.c)
        if a.type == "null":
            raise self.error("extraneous elvis operator: the left side is null", node.c)
        afn, bfn = a.fn, b.fn

        def fn(f: Any) -> Any:
            v = afn(f)
            return bfn(f) if v is None else v

        return Expr(fn, _promote_branches(a.type, b.type), node)

    def e_binary(self, node: Node) -> Expr:  # noqa: PLR0911 - one family of operators per branch
        op = node.a
        if op in ("&&", "||"):
            lbool = self.as_boolean(self.expression(node.b), f"the left operand of {op}")
            rbool = self.as_boolean(self.expression(node.c), f"the right operand of {op}")
            if op == "&&":
                return Expr(lambda f: lbool(f) and rbool(f), "boolean", node)
            return Expr(lambda f: lbool(f) or rbool(f), "boolean", node)
        if op in ("===", "!=="):
            raise self.unsupported(f"reference equality [{op}]", node.d)
        left, right = self.expression(node.b), self.expression(node.c)
        if op in ("==", "!="):
            return self.equality(op == "!=", left, right, node)
        if op in ("<", "<=", ">", ">="):
            return self.relational(op, left, right, node)
        if op in ("=~", "==~"):
            return self.regex_operator(op, left, right, node)
        return self.arithmetic(op, left, right, node)

    def arithmetic(self, op: str, left: Expr, right: Expr, node: Node) -> Expr:
        lt, rt = UNBOXES.get(left.type, left.type), UNBOXES.get(right.type, right.type)
        if op == "+" and (lt == "String" or rt == "String"):
            result = "String"
        elif lt == "def" or rt == "def":
            result = "def"
        elif op in ("&", "|", "^") and lt == "boolean" and rt == "boolean":
            result = "boolean"
        elif lt in NUMERIC and rt in NUMERIC:
            result = _promote(lt, rt)
            if op in ("<<", ">>", ">>>", "&", "|", "^") and result in ("float", "double"):
                raise self.error(f"Cannot apply [{op}] operation to types [{lt}] and [{rt}].", node.d)
            if op in ("<<", ">>", ">>>"):
                result = _promote_unary(lt)
        else:
            raise self.error(f"Cannot apply [{op}] operation to types [{type_error_name(left.type)}] and [{type_error_name(right.type)}].", node.d)
        impl = ops.BINARY[op]
        lfn, rfn = left.fn, right.fn
        at = self.at(node)
        if left.const is not NOT_CONST and right.const is not NOT_CONST and result != "def":
            try:
                value = impl(left.const, right.const)
            except PainlessRuntimeError:
                pass
            else:
                return Expr(_const_fn(value), result, node, value)

        def fn(f: Any) -> Any:
            try:
                return impl(lfn(f), rfn(f))
            except PainlessRuntimeError as e:
                if e.at is None:
                    e.at = at
                raise

        return Expr(fn, result, node)

    def equality(self, negate: bool, left: Expr, right: Expr, node: Node) -> Expr:
        lt, rt = left.type, right.type
        if lt == "null" and rt == "null":
            raise self.error("extraneous comparison of null constants", node.d)
        if lt in PRIMITIVES and rt in PRIMITIVES and (lt == "boolean") != (rt == "boolean"):
            raise self.error(f"cannot compare [{lt}] with [{rt}]: a boolean is never a number", node.d)
        if {lt, rt} == {"char", "String"}:
            raise self.unsupported("comparing a char with a String (Painless compares them as Objects; cast the String with (char))", node.d)
        lfn, rfn = left.fn, right.fn
        # The constant side, if any, decides a cheap exact test.
        const, other = (right, left) if right.const is not NOT_CONST else (left, right)
        k, ofn = const.const, other.fn
        if const.const is not NOT_CONST and other.const is NOT_CONST and other.type in ("def", "String", "Map", "Object"):
            if k is None:
                fn = (lambda f: ofn(f) is not None) if negate else (lambda f: ofn(f) is None)
                return Expr(fn, "boolean", node)
            if type(k) is str:
                # Python's str == anything-else is False, exactly Java's String.equals (a JChar
                # is a str in Python but never equals a String in Java).
                if negate:
                    return Expr(lambda f: not _str_eq(ofn(f), k), "boolean", node)
                return Expr(lambda f: _str_eq(ofn(f), k), "boolean", node)
            if type(k) is bool:
                # Only the Boolean k equals k; identity keeps 1 == true false.
                fn = (lambda f: ofn(f) is not k) if negate else (lambda f: ofn(f) is k)
                return Expr(fn, "boolean", node)
        test: Callable[[Any, Any], Any]
        if lt == "def" or rt == "def":
            test = def_eq
        elif lt in PRIMITIVES and rt in PRIMITIVES:
            test = num_eq if lt != "boolean" else operator.eq
        elif lt in PRIMITIVES or rt in PRIMITIVES:
            test = def_eq  # a boxed value against a primitive: unboxed and compared by value
        else:
            test = java_equals  # Object comparison: a.equals(b), no numeric promotion
        if negate:
            return Expr(lambda f: not test(lfn(f), rfn(f)), "boolean", node)
        return Expr(lambda f: test(lfn(f), rfn(f)), "boolean", node)

    def relational(self, op: str, left: Expr, right: Expr, node: Node) -> Expr:
        # With a def side Painless promotes to def and checks at run time (`ctx.a < 'x'`
        # compiles, then throws); two static types are checked here.
        if left.type != "def" and right.type != "def":
            for side in (left, right):
                stype = UNBOXES.get(side.type, side.type)
                if stype not in NUMERIC:
                    raise self.error(f"Cannot apply [{op}] to a value of type [{type_error_name(side.type)}]", side.node)
        cmp = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}[op]
        lfn, rfn = left.fn, right.fn
        at = self.at(node)

        def fn(f: Any) -> bool:
            a = lfn(f)
            b = rfn(f)
            t = type(a)
            if t is type(b) and (t is int or t is float):
                return bool(cmp(a, b))
            try:
                return compare(a, b, cmp, op)
            except PainlessRuntimeError as e:
                if e.at is None:
                    e.at = at
                raise

        return Expr(fn, "boolean", node)

    def regex_operator(self, op: str, left: Expr, right: Expr, node: Node) -> Expr:
        if right.type not in ("Pattern", "def"):
            raise self.error(f"Cannot cast from [{type_error_name(right.type)}] to [java.util.regex.Pattern].", node.c)
        if left.type not in ("String", "def", "CharSequence"):
            raise self.error(f"Cannot cast from [{type_error_name(left.type)}] to [java.lang.String].", node.b)
        lfn, rfn = left.fn, right.fn
        at = self.at(node)
        full = op == "==~"

        def fn(f: Any) -> bool:
            text = lfn(f)
            pattern = rfn(f)
            try:
                if not isinstance(pattern, Pattern):
                    raise cce(java_cast_message(jclass(pattern), "java.util.regex.Pattern"))
                if text is None:
                    raise npe('Cannot invoke "java.lang.CharSequence.length()" because "this.text" is null')
                text = api.convert_arg(text, "CharSequence")
                matcher = Matcher(pattern, text)
                return matcher.matches() if full else matcher.find()
            except PainlessRuntimeError as e:
                if e.at is None:
                    e.at = at
                raise

        return Expr(fn, "boolean", node)

    # -- assignment --

    def e_assign(self, node: Node) -> Expr:
        op, target, value_node = node.a, node.b, node.c
        while target.kind == "paren":
            target = target.a
        value = self.expression(value_node)
        binary = ops.BINARY[op[:-1]] if op != "=" else None
        return self.store(target, node, value, binary, op)

    def e_incdec(self, node: Node) -> Expr:
        op, target, prefix = node.a, node.b, node.c
        while target.kind == "paren":
            target = target.a
        one = Expr(_const_fn(1), "int", node, 1)
        binary = ops.add if op == "++" else ops.sub
        return self.store(target, node, one, binary, op, postfix=not prefix)

    def store(  # noqa: C901, PLR0915 - one shape of store per target kind
        self, target: Node, node: Node, value: Expr, binary: Callable[[Any, Any], Any] | None, op: str, postfix: bool = False
    ) -> Expr:
        """An assignment (`=`, compound `op=`, `++`/`--`) to a local, a field or an element."""
        at = self.at(node)
        if target.kind == "var":
            name = target.a
            local = self.lookup(name)
            if local is None:
                if name in ("ctx", "params") and self.function is None:
                    raise self.error(f"variable [{name}] is read-only", target)
                raise self.error(f"cannot resolve symbol [{name}]", target)
            if local.depth < self.lambda_depth:
                raise self.unsupported(f"assigning [{name}], a variable captured by a lambda", target)
            slot, ltype = local.slot, local.type
            if binary is None:
                convert = self.coerce(value, ltype, node)

                def assign(f: Any) -> Any:
                    v = convert(f)
                    f[slot] = v
                    return v

                return Expr(assign, ltype, node)
            compute = self._compound(ltype, value, binary, op, node)
            vfn = value.fn

            def update(f: Any) -> Any:
                old = f[slot]
                try:
                    new = compute(old, vfn(f))
                except PainlessRuntimeError as e:
                    if e.at is None:
                        e.at = at
                    raise
                f[slot] = new
                return old if postfix else new

            return Expr(update, ltype, node)
        if target.kind not in ("field", "index"):
            raise self.error("the left side of an assignment must be a variable, a field or an element", target)
        if target.kind == "field" and self.static_class(target.a) is not None:
            raise self.error(f"cannot assign to the static field [{target.b}]", target)
        recv = self.expression(target.a)
        if recv.type in PRIMITIVES or recv.type in ("String", "null"):
            raise self.error(f"cannot assign a field of a value of type [{type_error_name(recv.type)}]", target)
        rfn = recv.fn
        if target.kind == "field":
            name = target.b
            if recv.type.endswith("[]"):
                raise self.error("cannot assign the length of an array", target)
            key_fn: Callable[[Any], Any] = _const_fn(name)
            getter: Callable[[Any, Any], Any] = lambda v, k: api.get_field(v, k)  # noqa: E731
            setter: Callable[[Any, Any, Any], Any] = api.set_field
            static_table = _STATIC_TABLES.get(recv.type) if recv.type not in ("def", "Map", "HashMap", "LinkedHashMap", "TreeMap") else None
            if static_table is not None:
                setter_name = "set" + name[:1].upper() + name[1:]
                if (setter_name, 1) not in static_table and not (recv.type in ("List", "ArrayList") and name.isdigit()):
                    raise self.error(f"unknown field [{name}] for type [{type_error_name(recv.type)}]", target)
        else:
            key_fn = self.expression(target.b).fn
            getter = api.index_get
            setter = api.index_set
        is_ctx = self.context == "script" and target.a.kind == "var" and target.a.a == "ctx" and self.function is None
        condition = self.context == "condition" and self.function is None
        fast = self.fast
        in_function = self.function is not None
        vfn = value.fn if binary is not None else self.coerce(value, "def", node)
        combine: Callable[[Any, Any], Any] | None = self._compound("def", value, binary, op, node) if binary is not None else None

        def put(f: Any) -> Any:
            try:
                v = rfn(f)
                k = key_fn(f)
                if v is None:
                    raise npe(f"cannot access method/field [{k if target.kind == 'field' else '[]'}] from a null def reference")
                if combine is not None:
                    old = getter(v, k)
                    new = combine(old, vfn(f))
                else:
                    old = None
                    new = vfn(f)
                if not in_function:
                    if condition:
                        host.guard_condition(f if fast else f[CTX], v)
                    elif v is f[PARAMS]:
                        raise unsupported_op()
                    elif (is_ctx or v is f[CTX]) and type(k) is str and k in host.METADATA_KEYS:
                        host.check_metadata_value(k, new)
                setter(v, k, new)
                return old if postfix else new
            except PainlessRuntimeError as e:
                if e.at is None:
                    e.at = at
                raise

        return Expr(put, "def", node)

    def _compound(self, ltype: str, value: Expr, binary: Callable[[Any, Any], Any] | None, op: str, node: Node) -> Callable[[Any, Any], Any]:
        """old op value, converted back to the target's type (Java's implicit narrowing)."""
        assert binary is not None
        vtype = UNBOXES.get(value.type, value.type)
        target = UNBOXES.get(ltype, ltype)
        if target == "String" and op == "+=":
            return ops.add
        if target in PRIMITIVES:
            if target == "boolean":
                if op not in ("&=", "|=", "^=") or vtype not in ("boolean", "def"):
                    raise self.error(f"Cannot apply [{op}] to types [boolean] and [{type_error_name(value.type)}].", node)
                return binary
            if vtype not in NUMERIC and vtype != "def" and op not in ("++", "--"):
                raise self.error(f"Cannot apply [{op}] to types [{target}] and [{type_error_name(value.type)}].", node)

            def narrowed(old: Any, v: Any) -> Any:
                return convert_number(binary(old, v), target)

            return narrowed
        if target in ("def", "Object", "Number") or target in UNBOXES:
            return binary
        raise self.error(f"Cannot apply [{op}] to type [{type_error_name(ltype)}].", node)


# --- helpers ---------------------------------------------------------------------------------------------


def _literal_text(node: Node) -> str | None:
    """The numeric literal a chain of signs and parentheses around a number spells, or None."""
    while node.kind == "paren":
        node = node.a
    if node.kind == "num":
        return str(node.a)
    if node.kind == "unary" and node.a in ("-", "+"):
        inner = _literal_text(node.b)
        if inner is None:
            return None
        if node.a == "-":
            return inner[1:] if inner.startswith("-") else "-" + inner
        return inner
    return None


def _converter(ptype: str) -> Callable[[Any], Any]:
    return lambda v: api.convert_arg(v, ptype)


def _str_eq(v: Any, k: str) -> bool:
    return v == k and type(v) is not JChar


def _store(slot: int, fn: Callable[[Any], Any]) -> Callable[[Any], None]:
    def run(f: Any) -> None:
        f[slot] = fn(f)

    return run


def _return_none(f: Any) -> int:
    f[RET] = None
    return RETURN


def _store_return(fn: Callable[[Any], Any]) -> Callable[[Any], int]:
    def run(f: Any) -> int:
        f[RET] = fn(f)
        return RETURN

    return run


def _checkcast(v: Any, to: str) -> Any:
    if is_instance(v, to):
        return v
    raise cce(java_cast_message(jclass(v), type_error_name(to) if to in REFERENCE_TYPES else to))


def _cast_to(v: Any, to: str, at: Any) -> Any:
    if to in ("def", "Object"):
        return v
    try:
        if to in PRIMITIVES:
            return def_to_primitive(v, to, False)
        return v if v is None else _checkcast(v, to)
    except PainlessRuntimeError as e:
        if e.at is None:
            e.at = at
        raise


def _string_to_char(v: Any) -> Any:
    if isinstance(v, str) and len(v) == 1:
        return JChar(v)
    if v is None:
        raise npe("null String cast to char")
    raise cce(f"cannot cast String [{v}] with length other than one to char")


def _bool_fail(v: Any) -> PainlessRuntimeError:
    if v is None:
        return npe('Cannot invoke "java.lang.Boolean.booleanValue()" because "value" is null')
    return cce(java_cast_message(jclass(v), "java.lang.Boolean"))


def _promote(a: str, b: str) -> str:
    # Binary numeric promotion: char, byte, short and int promote to int.
    best = max(_RANK[a], _RANK[b], _RANK["int"])
    return next(t for t, r in _RANK.items() if r == best)


def _promote_unary(t: str) -> str:
    return "int" if t == "char" else t


def _promote_branches(a: str, b: str) -> str:
    """The static type of `c ? a : b`: Painless's conditional promotion, coarsened."""
    if a == b:
        return a
    if "def" in (a, b):
        return "def"
    ua, ub = UNBOXES.get(a, a), UNBOXES.get(b, b)
    if ua in NUMERIC and ub in NUMERIC:
        return _promote(ua, ub)
    if a == "null":
        return BOXES.get(b, b)
    if b == "null":
        return BOXES.get(a, a)
    # Anything else is an Object for Painless: no methods, no fields, no boolean.
    return "Object"


def _iteration(v: Any) -> list[Any] | Any:
    """What `for (x : v)` walks, failing as Java's iterators do when the collection changes."""
    if type(v) is list:
        return _ListWalk(v)
    if v is None:
        raise npe('Cannot invoke "Object.getClass()" because "iterable" is null')
    if isinstance(v, JArray):
        return list(v)
    if isinstance(v, list):
        return _ListWalk(v)
    if isinstance(v, JCollection):
        backing = getattr(v, "backing", None)
        items = v.items()
        if isinstance(backing, dict):
            return _MapWalk(items, backing)
        return items
    if isinstance(v, Mapping):
        raise iae(f"Cannot iterate over [{jclass(v)}]")
    raise iae(f"Cannot iterate over [{jclass(v)}]")


class _ListWalk:
    """ArrayList's iterator: hasNext is cursor != size; next() throws if the size changed."""

    __slots__ = ("items",)

    def __init__(self, items: list[Any]) -> None:
        self.items = items

    def __iter__(self) -> Any:
        items = self.items
        expected = len(items)
        cursor = 0
        while cursor != len(items):
            if len(items) != expected:
                raise PainlessRuntimeError(None, "ConcurrentModificationException")
            if cursor >= len(items):
                raise PainlessRuntimeError(None, "ConcurrentModificationException")
            yield items[cursor]
            cursor += 1


class _MapWalk:
    """HashMap's views: next() throws once the map's size changed (a structural change)."""

    __slots__ = ("items", "backing")

    def __init__(self, items: list[Any], backing: dict[Any, Any]) -> None:
        self.items = items
        self.backing = backing

    def __iter__(self) -> Any:
        expected = len(self.backing)
        for item in self.items:
            if len(self.backing) != expected:
                raise PainlessRuntimeError(None, "ConcurrentModificationException")
            yield item


__all__ = ["Compiler", "Unit", "map_keys"]
