"""What a WireGuard kernel or wg-quick message says: its action and its fields.

The message formats are data (`messages.yaml`): each template compiles to one regular
expression. A line is matched only against the templates that share its first word,
so the cost per line stays flat as templates are added.

A line is WireGuard's when it carries the module prefix `wireguard: ` (anywhere:
dynamic-debug flags can put a thread id, function or line number before it), or comes
from wg-quick. Such a line that no template knows is the action `unrecognized`, with
its text: nothing about WireGuard is dropped. Other lines are not ours (None).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources
from typing import Any

import yaml

from ..errors import WgsiemError
from ..wgdump.model import Endpoint
from ..wgdump.parse import canonical_ip

UNRECOGNIZED = "unrecognized"
PREFIX = "wireguard: "
_SUPPRESSED = re.compile(r"net_ratelimit: (\d+) callbacks suppressed")

# How the kernel prints an endpoint (%pISpfsc), or what it prints when it has none.
ENDPOINT_PATTERN = r"\[[0-9A-Fa-f:.]+\]:\d+(?:/\d+)?(?:%\d+)?|[0-9.]+:\d+|\(einval\)|\(invalid address\)"
_PLACEHOLDERS = {
    "iface": r"[^\s/:]+",
    "peer_id": r"\d+",
    "keypair_id": r"\d+",
    "endpoint": ENDPOINT_PATTERN,
    "inner_source": r"[0-9A-Fa-f:.]+",
    "inner_destination": r"[0-9A-Fa-f:.]+",
    "seconds": r"\d+",
    "attempt": r"\d+",
    "nonce": r"\d+",
    "nonce_max": r"\d+",
    "error_code": r"-?\d+",
    "version": r"\S+",
    "command": r".+",
    "text": r".+",
}

class TemplateError(WgsiemError):
    pass


@dataclass(slots=True)  # not frozen: built for every line, and frozen init costs twice as much
class LogMessage:
    action: str
    source: str  # "kernel" or "wg-quick"
    interface: str | None
    fields: dict[str, Any]  # per the placeholders; endpoint as an Endpoint (None when unset)
    variant: str | None = None


@dataclass(frozen=True, slots=True)
class Template:
    action: str
    variant: str | None
    source: str
    text: str
    regex: re.Pattern[str]
    first_word: str
    has_iface: bool
    converters: tuple[tuple[str, Callable[[str], Any]], ...]  # fields that are not kept as text


def compile_template(text: str, action: str, variant: str | None, source: str) -> Template:
    parts = re.split(r"\{(\w+)\}", text)
    pattern = []
    for i, part in enumerate(parts):
        if i % 2 == 0:
            pattern.append(re.escape(part))
        elif part not in _PLACEHOLDERS:
            raise TemplateError(f"{action}: unknown placeholder {{{part}}} in {text!r}")
        else:
            pattern.append(f"(?P<{part}>{_PLACEHOLDERS[part]})")
    body = text.removeprefix("{iface}: ")
    names = parts[1::2]
    converters = tuple((name, _CONVERTERS[name]) for name in names if name in _CONVERTERS)
    regex = re.compile("".join(pattern) + r"\Z")
    return Template(action, variant, source, text, regex, body.split(" ", 1)[0], "iface" in names, converters)


@cache
def _messages_yaml() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(resources.files("wgsiem.kernlog").joinpath("messages.yaml").read_text())
    return loaded


@cache
def templates() -> tuple[Template, ...]:
    raw = _messages_yaml()
    out = []
    for source in ("kernel", "wg-quick"):
        for entry in raw[source]:
            out.append(compile_template(entry["template"], entry["action"], entry.get("variant"), source))
    return tuple(out)


class MessageParser:
    """Turns the message of a log record into a LogMessage; counts what the kernel suppressed."""

    def __init__(self) -> None:
        # Templates by source and first word (after "{iface}: " for kernel lines that name
        # an interface): a line is tried only against its own bucket.
        self.buckets: dict[tuple[str, bool], dict[str, list[Template]]] = {}
        for t in templates():
            by_word = self.buckets.setdefault((t.source, t.has_iface), {})
            by_word.setdefault(t.first_word, []).append(t)
        self._named = self.buckets.get(("kernel", True), {})
        self.suppressed = 0  # callbacks the kernel's net_ratelimit dropped (any subsystem)

    def parse(self, message: str, program: str | None = None) -> LogMessage | None:
        at = message.find(PREFIX)
        if at >= 0:
            return self._kernel(message[at + len(PREFIX) :].rstrip())
        if program == "wg-quick" or message.startswith(("[#] ", "[!] ", "wg-quick: ")):
            text = message.rstrip()
            return self._try(self.buckets[("wg-quick", False)], text) or LogMessage(
                UNRECOGNIZED, "wg-quick", None, {"text": text}
            )
        if m := _SUPPRESSED.search(message):
            self.suppressed += int(m.group(1))
        return None

    def _kernel(self, text: str) -> LogMessage:
        head, sep, rest = text.partition(": ")
        named = bool(sep) and " " not in head
        if named:  # the common case, "wg0: <message>", kept inline: it runs for every line
            space = rest.find(" ")
            bucket = self._named.get(rest[:space] if space >= 0 else rest)
            if bucket is not None:
                for i, template in enumerate(bucket):
                    m = template.regex.match(text)
                    if m is not None:
                        if i:
                            bucket[i - 1], bucket[i] = template, bucket[i - 1]
                        return _message(template, m)
        found = self._try(self.buckets[("kernel", False)], text)
        if found is not None:
            return found
        return LogMessage(UNRECOGNIZED, "kernel", head if named else None, {"text": text})

    @staticmethod
    def _try(by_word: dict[str, list[Template]], text: str, body: str | None = None) -> LogMessage | None:
        body = text if body is None else body
        space = body.find(" ")
        bucket = by_word.get(body if space < 0 else body[:space])
        if bucket is None:
            return None
        for i, template in enumerate(bucket):
            m = template.regex.match(text)
            if m is not None:
                if i:  # move it up one: the frequent messages end up tried first
                    bucket[i - 1], bucket[i] = template, bucket[i - 1]
                return _message(template, m)
        return None


def _message(template: Template, m: re.Match[str]) -> LogMessage:
    fields = m.groupdict()
    interface = fields.pop("iface", None)
    for name, convert in template.converters:
        fields[name] = convert(fields[name])
    if template.source == "wg-quick":
        interface = _wg_quick_interface(fields.get("command") or fields.get("text") or "")
    return LogMessage(template.action, template.source, interface, fields, template.variant)


def _address(text: str) -> str:
    return canonical_ip(text) or text


@lru_cache(maxsize=65536)  # a busy interface prints the same few endpoints over and over
def parse_kernel_endpoint(text: str) -> Endpoint | None:
    """%pISpfsc: `1.2.3.4:51820`, `[2001:db8::1]:51820/0%0`; (einval) when unset."""
    if text.startswith("("):
        return None
    if text.startswith("["):
        host, _, rest = text[1:].partition("]:")
        port = rest.split("/", 1)[0].split("%", 1)[0]
        scope = rest.partition("%")[2]
        zone = scope if scope and scope != "0" else None  # a numeric scope id; 0 is none
    else:
        host, _, port = text.rpartition(":")
        zone = None
    ip = canonical_ip(host)
    if ip is None or not port.isdigit():
        return None
    return Endpoint(ip, int(port), zone)


@cache
def interface_patterns() -> tuple[str, ...]:
    """messages.yaml's `wg-quick-interface` regexes, as written (grok's named-group syntax)."""
    return tuple(_messages_yaml()["wg-quick-interface"])


@cache
def _interface_regexes() -> tuple[re.Pattern[str], ...]:
    return tuple(re.compile(p.replace("(?<", "(?P<")) for p in interface_patterns())


def _wg_quick_interface(text: str) -> str | None:
    # The leftmost match wins, ties to the earlier pattern: how grok runs a pattern list (one
    # alternation), so the raw-line pipeline finds the same interface.
    best = None
    for pattern in _interface_regexes():
        m = pattern.search(text)
        if m is not None and (best is None or m.start() < best.start()):
            best = m
    return best.group("iface") if best is not None else None


_CONVERTERS: dict[str, Callable[[str], Any]] = {
    **{name: int for name in ("peer_id", "keypair_id", "seconds", "attempt", "nonce", "nonce_max", "error_code")},
    "endpoint": parse_kernel_endpoint,
    "inner_source": _address,
    "inner_destination": _address,
}
