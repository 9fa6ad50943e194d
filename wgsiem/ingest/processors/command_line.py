"""The processor that splits a command line into its arguments: command_line_args.

Elasticsearch's CommandLineParserProcessor and CommandLineParser: one string in, the list
of arguments a shell would pass (ECS `process.args` from `process.command_line`), by the
quoting rules of bash, Windows' CommandLineToArgvW (`cmd`) or PowerShell. Only the quoting
is reproduced, as in Elasticsearch: no variable, glob or command expansion, and an unclosed
quote runs to the end of the line instead of failing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from wgsiem.errors import WgsiemError
from wgsiem.ingest.document import IngestDocument
from wgsiem.ingest.options import Options
from wgsiem.ingest.pipeline import Processor, Trace

# Only space and tab separate arguments in all three shells; a newline is kept in the argument.
_BLANKS = frozenset(" \t")
# What a backslash escapes inside bash double quotes; before any other character it stays.
_BASH_QUOTED_ESCAPES = frozenset('"$`\\!')
# PowerShell's backtick sequences that stand for a control character; any other character
# after a backtick stands for itself (so "`"" is a quote and "` " a space).
_POWERSHELL_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "a": "\a", "b": "\b", "f": "\f", "0": "\0"}


def split_bash(line: str) -> list[str]:
    args: list[str] = []
    parts: list[str] = []
    started = False  # an argument is open, even an empty one ('' or "")
    i, end = 0, len(line)
    while i < end:
        char = line[i]
        if char in _BLANKS:
            if started:
                args.append("".join(parts))
                parts.clear()
                started = False
            i += 1
        elif char == "\\":
            if i + 1 == end:
                break  # a backslash that ends the line escapes nothing and opens no argument
            parts.append(line[i + 1])
            started = True
            i += 2
        elif char == "'":
            close = line.find("'", i + 1)
            if close < 0:
                close = end
            parts.append(line[i + 1 : close])
            started = True
            i = close + 1
        elif char == '"':
            started = True
            i += 1
            while i < end and line[i] != '"':
                if line[i] == "\\" and i + 1 < end and line[i + 1] in _BASH_QUOTED_ESCAPES:
                    i += 1
                parts.append(line[i])
                i += 1
            i += 1
        else:
            parts.append(char)
            started = True
            i += 1
    if started:
        args.append("".join(parts))
    return args


def split_cmd(line: str) -> list[str]:
    args: list[str] = []
    parts: list[str] = []
    started = False
    quoted = False
    i, end = 0, len(line)
    while i < end:
        char = line[i]
        if char == "\\":
            run_end = i
            while run_end < end and line[run_end] == "\\":
                run_end += 1
            run = run_end - i
            started = True
            if run_end < end and line[run_end] == '"':
                # Before a quote, backslashes pair up; an odd one left over makes the quote
                # literal, otherwise the quote is left to open or close quoting.
                parts.append("\\" * (run // 2))
                if run % 2:
                    parts.append('"')
                    run_end += 1
            else:
                parts.append("\\" * run)
            i = run_end
        elif char == '"':
            started = True
            if quoted and i + 1 < end and line[i + 1] == '"':
                parts.append('"')  # "" inside quotes: a quote, and the quoting goes on
                i += 2
            else:
                quoted = not quoted
                i += 1
        elif char in _BLANKS and not quoted:
            if started:
                args.append("".join(parts))
                parts.clear()
                started = False
            i += 1
        else:
            parts.append(char)
            started = True
            i += 1
    if started:
        args.append("".join(parts))
    return args


def split_powershell(line: str) -> list[str]:
    args: list[str] = []
    parts: list[str] = []
    started = False
    i, end = 0, len(line)
    while i < end:
        char = line[i]
        if char in _BLANKS:
            if started:
                args.append("".join(parts))
                parts.clear()
                started = False
            i += 1
        elif char == "`" and i + 1 < end:
            following = line[i + 1]
            parts.append(_POWERSHELL_ESCAPES.get(following, following))
            started = True
            i += 2
        elif char == "'":
            started = True
            i += 1
            while i < end:
                close = line.find("'", i)
                if close < 0:
                    parts.append(line[i:])
                    i = end
                elif close + 1 < end and line[close + 1] == "'":
                    parts.append(line[i : close + 1])  # '' inside single quotes: one quote
                    i = close + 2
                else:
                    parts.append(line[i:close])
                    i = close + 1
                    break
        elif char == '"':
            started = True
            i += 1
            while i < end:
                inner = line[i]
                if inner == '"':
                    if i + 1 < end and line[i + 1] == '"':
                        parts.append('"')
                        i += 2
                        continue
                    i += 1
                    break
                if inner == "`" and i + 1 < end:
                    following = line[i + 1]
                    parts.append(_POWERSHELL_ESCAPES.get(following, following))
                    i += 2
                    continue
                parts.append(inner)
                i += 1
        else:
            # A backtick that ends the line lands here too: nothing to escape, so it is kept.
            parts.append(char)
            started = True
            i += 1
    if started:
        args.append("".join(parts))
    return args


# ShellType.fromString: names matched without regard to case; "sh" is bash.
SHELLS: dict[str, Callable[[str], list[str]]] = {
    "bash": split_bash,
    "sh": split_bash,
    "cmd": split_cmd,
    "powershell": split_powershell,
}


class UnknownShellError(WgsiemError, ValueError):
    """A shell name CommandLineParserProcessor does not know."""


def shell_splitter(name: str) -> Callable[[str], list[str]]:
    splitter = SHELLS.get(name.lower())
    if splitter is None:
        raise UnknownShellError(f"unsupported shell type [{name}]; supported types are [bash], [cmd], and [powershell]")
    return splitter


def split_command_line(line: str, shell: str) -> list[str]:
    """CommandLineParserProcessor.apply: the arguments of `line` by the rules of `shell`."""
    return shell_splitter(shell)(line)


class CommandLineArgs(Processor):
    type = "command_line_args"

    def __init__(self, opts: Options, builder: Any) -> None:
        # Read in the factory's order, so the first bad option is the one Elasticsearch names.
        self.field = opts.string("field")
        self.target = opts.string("target_field", self.field)
        self.ignore_missing = opts.boolean("ignore_missing", False)
        shell = opts.string("shell", "bash")
        try:
            self.split = shell_splitter(shell)
        except UnknownShellError as error:
            raise opts.error(str(error), "shell") from None

    def execute(self, doc: IngestDocument, trace: Trace) -> None:
        line = doc.subject(self.field, "cannot parse command line.", ignore_missing=self.ignore_missing, kind=str)
        if line is None:
            return
        doc.set(self.target, self.split(line))

    def produced_fields(self) -> list[str]:
        return [self.target]
