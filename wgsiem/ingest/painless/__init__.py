"""Painless for ingest pipelines: processor `if` conditions and the `script` processor.

The source is tokenized (lexer.py), parsed into a syntax tree following PainlessParser.g4
(parser.py) and compiled once into nested Python closures (compiler.py) with Painless's
static types and checks; running a script runs closures, never the parser. The values are
Java's (values.py, objects.py): Integer and Long, Float and Double, char, Strings counted
in UTF-16 units, HashMap iteration order, Java's `==`, arithmetic, casts and toString. The
API is Painless's whitelist, by name and arity (methods.py), plus what the ingest contexts
add (ingest.py: ctx's metadata rules, metadata(), field(), Json, Processors.*).

What the engine does not implement is refused when the script is compiled, with the line,
column and construct (a PainlessCompileError): java.time, byte and short, class
intersections in regexes, `===`, multi-dimensional arrays... Failures while running are
PainlessRuntimeErrors named after the Java exception Painless would throw, with the offset
it would report; both give Elasticsearch's `script_exception` body.

Two contexts, as in Elasticsearch: "condition" (IngestConditionalScript: `ctx` and
`params`, read-only, the result cast to boolean) and "script" (IngestScript: `ctx`
writable with its metadata checked, `params` read-only, metadata(), Processors.*, Json).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any

from .compiler import CTX, FIRST_LOCAL, LOOP_BUDGET, RET, Compiler, Unit, _needs_frame
from .errors import PainlessCompileError, PainlessRuntimeError, PainlessStackOverflowError
from .ingest import check_ctx, register_processor_runner
from .objects import to_plain
from .parser import parse
from .values import CURRENT_CTX, JFloat, JLong

__all__ = [
    "JFloat",
    "JLong",
    "PainlessCompileError",
    "PainlessRuntimeError",
    "Script",
    "compile_condition",
    "compile_script",
    "register_processor_runner",
]

_EMPTY: Mapping[str, Any] = {}


class Script:
    """A compiled Painless script of one context. `run` executes it on a document's ctx."""

    def __init__(self, source: str, context: str) -> None:
        if context not in ("condition", "script"):
            raise ValueError(context)
        self.source = source
        self.context = context
        try:
            self._compile(source, context)
        except RecursionError:
            raise PainlessStackOverflowError(source) from None

    def _compile(self, source: str, context: str) -> None:
        functions, statements, starts = parse(source)
        compiler = Compiler(source, context, tuple(starts))
        self.unit: Unit = compiler.unit
        only = statements[0] if len(statements) == 1 else None
        if context == "condition" and not statements:
            raise PainlessCompileError("unexpected end of input: expected an expression", source, len(source), "an expression")
        if (
            context == "condition"
            and not functions
            and only is not None
            and only.kind in ("expr", "return")
            and only.a is not None
            and not _needs_frame(only.a)
        ):
            # One expression, no local: the closures take ctx itself as their frame.
            compiler.fast = True
            self.fast: Callable[[Any], bool] | None = compiler.as_boolean(compiler.expression(only.a), "the condition's result")
            self.body: Callable[[Any], Any] | None = None
            self.frame_size = FIRST_LOCAL
        else:
            self.fast = None
            self.body, self.frame_size = compiler.compile_unit(functions, statements)

    def run(self, ctx: Any, params: Mapping[str, Any] | None = None, ingest: Mapping[str, Any] | None = None) -> Any:
        """Run on ctx; a condition returns its boolean. Raises PainlessRuntimeError."""
        if self.fast is not None:
            return self.fast(ctx)
        frame: list[Any] = [ctx, params if params is not None else _EMPTY, None, LOOP_BUDGET, ingest]
        frame.extend([None] * (self.frame_size - FIRST_LOCAL))
        had_version = self.context == "script" and "_version" in ctx
        body = self.body
        assert body is not None
        previous, CURRENT_CTX[0] = CURRENT_CTX[0], ctx
        try:
            body(frame)
        except PainlessRuntimeError as error:
            if error.at is None:
                error.unit = self.unit
            raise
        except RecursionError:
            overflow = PainlessRuntimeError(None, "StackOverflowError")
            overflow.unit = self.unit
            raise overflow from None
        finally:
            CURRENT_CTX[0] = previous
        if self.context == "condition":
            return bool(frame[RET])
        try:
            check_ctx(frame[CTX], had_version)
            to_plain(frame[CTX])
        except PainlessRuntimeError as error:
            error.unit = self.unit
            raise
        return None

    def condition(self, params: Mapping[str, Any] | None = None) -> Callable[[Any], bool]:
        """ctx -> bool, for a processor's `if` (params bound once)."""
        if self.fast is not None:
            return self.fast
        return functools.partial(self.run, params=params)


@functools.lru_cache(maxsize=4096)
def compile_script(source: str, context: str = "script") -> Script:
    """Compile (cached by source and context); raises PainlessCompileError."""
    return Script(source, context)


@functools.lru_cache(maxsize=4096)
def compile_condition(source: str) -> Callable[[Any], bool]:
    """Compile an ingest `if` condition; the result takes `ctx` and returns True or False.

    Raises PainlessCompileError for anything outside the supported language or malformed;
    the returned callable raises PainlessRuntimeError where Painless would throw.
    """
    return compile_script(source, "condition").condition()
