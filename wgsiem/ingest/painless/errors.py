"""Painless's two failures, and the `script_exception` bodies Elasticsearch makes of them.

A script that does not compile is a `PainlessCompileError` (Elasticsearch: a ScriptException
"compile error" caused by an IllegalArgumentException, answered when the pipeline is
created); a script that throws while it runs is a `PainlessRuntimeError` (a ScriptException
"runtime error" caused by the Java exception). Both know the offset in the source where
Painless would point, from which the body's `script_stack` and `position` are made as
PainlessScriptEngine and PainlessScript.convertToScriptException make them.
"""

from __future__ import annotations

from typing import Any

from ...errors import WgsiemError
from ..java.types import es_exception_name

LANG = "painless"


def one_line(text: str) -> str:
    # One character for one character, so positions in messages still point at the source.
    return text.replace("\r", " ").replace("\n", " ").replace("\t", " ")


def line_column(source: str, offset: int) -> tuple[int, int]:
    """1-based line and column of an offset (a line ends at \\n, \\r\\n or \\r)."""
    before = source[:offset]
    line = before.count("\n") + before.count("\r") - before.count("\r\n") + 1
    start = max(before.rfind("\n"), before.rfind("\r")) + 1
    return line, offset - start + 1


class PainlessCompileError(WgsiemError):
    """A script outside the supported part of Painless, or one Painless itself refuses.

    `position` is the offset Painless points at; `reason` the message without the location
    (what Elasticsearch puts in `caused_by.reason`); `expected` what the parser wanted there.
    """

    def __init__(self, reason: str, source: str, position: int, expected: str | None = None) -> None:
        line, column = line_column(source, position)
        super().__init__(f"{reason} (at position {position}, line {line}, column {column} of [{one_line(source)}])")
        self.reason = reason
        self.source = source
        self.position = position
        self.line = line
        self.column = column
        self.expected = expected

    def script_exception(self) -> dict[str, Any]:
        """The `script_exception` fields of the compile error (PainlessScriptEngine): a window of
        25 characters each side of the offset, marked with `...` where it was cut."""
        source, offset = self.source, self.position
        start, end = max(0, offset - 25), min(len(source), offset + 25)
        snippet = ("... " if start > 0 else "") + source[start:end] + (" ..." if end < len(source) else "")
        pointer = ("    " if start > 0 else "") + " " * (offset - start) + "^---- HERE"
        return {
            "type": "script_exception",
            "reason": "compile error",
            "script_stack": [snippet, pointer],
            "script": source,
            "lang": LANG,
            "position": {"offset": offset, "start": start, "end": end},
            "caused_by": {"type": "illegal_argument_exception", "reason": self.reason},
        }


class PainlessStackOverflowError(PainlessCompileError):
    """The script nests deeper than the compiler's stack: PainlessScriptEngine.compile turns
    the StackOverflowError into a "compile error" whose script_stack is empty and without a
    position (no frame of the script's class in the trace). Java's stack takes deeper
    nesting than Python's, so this comes sooner here (some hundreds of levels)."""

    def __init__(self, source: str) -> None:
        super().__init__("the script nests too deeply for the compiler's stack (StackOverflowError)", source, 0)

    def script_exception(self) -> dict[str, Any]:
        return {
            "type": "script_exception",
            "reason": "compile error",
            "script_stack": [],
            "script": self.source,
            "lang": LANG,
            "caused_by": {"type": "stack_overflow_error", "reason": None},
        }


class PainlessRuntimeError(WgsiemError):
    """Evaluation failed where Painless would throw.

    `java_exception` is the simple name of the Java exception (NullPointerException,
    ClassCastException, ...), `message` its message. `at` is (offset Painless points at, start,
    end of the failing node, the compiled unit with the source and its statement offsets),
    set by the innermost node the error passes. `where` is the failing part of the source,
    for people.
    """

    def __init__(self, message: str | None, java_exception: str, *, es_exception: str | None = None) -> None:
        # A Java exception may have no message (getMessage() is null, the body's reason too).
        super().__init__(message if message is not None else java_exception)
        self.message = message  # type: ignore[assignment]  # Java's getMessage() may be null
        self.java_exception = java_exception
        self.es_exception = es_exception or es_exception_name(java_exception)
        self.at: tuple[int, int, int, Any] | None = None
        self.unit: Any = None  # the script, when no node claimed the error

    @property
    def source(self) -> str:
        unit = self.at[3] if self.at is not None else self.unit
        return unit.source if unit is not None else ""

    @property
    def where(self) -> str:
        if self.at is None:
            return ""
        return one_line(self.source[self.at[1] : self.at[2]])

    def __str__(self) -> str:
        where = self.where
        text = self.message if self.message is not None else self.java_exception
        return f"{text} (at [{where}])" if where else text

    def script_exception(self) -> dict[str, Any]:
        """The `script_exception` fields of the runtime error (PainlessScript): the statement
        the failing node is in, from its start to the start of the next statement."""
        source = self.source
        body: dict[str, Any] = {"type": "script_exception", "reason": "runtime error", "script_stack": [], "script": source, "lang": LANG}
        if self.at is None:
            body["script_stack"] = ["<<< unknown portion of script >>>"]
        else:
            offset = self.at[0]
            statements = self.at[3].statements
            starts = [s for s in statements if s <= offset]
            start = starts[-1] if starts else 0
            later = [s for s in statements if s > start]
            end = later[0] if later else len(source)
            body["script_stack"] = [source[start:end], " " * (offset - start) + "^---- HERE"]
            body["position"] = {"offset": offset, "start": start, "end": end}
        body["caused_by"] = {"type": self.es_exception, "reason": self.message}
        return body


def npe(message: str) -> PainlessRuntimeError:
    return PainlessRuntimeError(message, "NullPointerException")


def cce(message: str) -> PainlessRuntimeError:
    return PainlessRuntimeError(message, "ClassCastException")


def iae(message: str) -> PainlessRuntimeError:
    return PainlessRuntimeError(message, "IllegalArgumentException")


def ioobe(index: int, size: int, kind: str = "Index") -> PainlessRuntimeError:
    # The JDK's Objects.checkIndex / ArrayList message; arrays and Strings name themselves.
    if kind == "Array":
        return PainlessRuntimeError(f"Index {index} out of bounds for length {size}", "ArrayIndexOutOfBoundsException")
    if kind == "String":
        return PainlessRuntimeError(f"index {index}, length {size}", "StringIndexOutOfBoundsException")
    return PainlessRuntimeError(f"Index {index} out of bounds for length {size}", "IndexOutOfBoundsException")


def unsupported_op(message: str | None = None) -> PainlessRuntimeError:
    return PainlessRuntimeError(message, "UnsupportedOperationException")


def java_cast_message(from_class: str, to_class: str) -> str:
    """The JDK's ClassCastException message for a failed checkcast between java.base classes."""
    return (
        f"class {from_class} cannot be cast to class {to_class} "
        f"({from_class} and {to_class} are in module java.base of loader 'bootstrap')"
    )
