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
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import yaml

from ..wgdump.model import Endpoint
from ..wgdump.parse import canonical_ip

UNRECOGNIZED = "unrecognized"
PREFIX = "wireguard: "
_SUPPRESSED = re.compile(r"net_ratelimit: (\d+) callbacks suppressed")

_ENDPOINT = r"\[[0-9A-Fa-f:.]+\]:\d+(?:/\d+)?(?:%\d+)?|[0-9.]+:\d+|\(einval\)|\(invalid address\)"
_PLACEHOLDERS = {
    "iface": r"[^\s/:]+",
    "peer_id": r"\d+",
    "keypair_id": r"\d+",
    "endpoint": _ENDPOINT,
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
_INTEGERS = {"peer_id", "keypair_id", "seconds", "attempt", "nonce", "nonce_max", "error_code"}
_ADDRESSES = {"inner_source", "inner_destination"}

# Where a wg-quick command names its interface.
_COMMAND_INTERFACE = [
    re.compile(p)
    for p in (
        r"^ip link add (?:dev )?(\S+) type wireguard",
        r"^ip link (?:delete|del) (?:dev )?(\S+)",
        r"^wg (?:setconf|addconf|syncconf|set|showconf) (\S+)",
        r"\bdev (\S+)",
        r"^resolvconf -[ad] (?:tun\.)?(\S+)",
    )
]
_QUOTED_INTERFACE = re.compile(r"`([^']+)'")


class TemplateError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
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
    return Template(action, variant, source, text, re.compile("".join(pattern) + r"\Z"), body.split(" ", 1)[0])


@cache
def templates() -> tuple[Template, ...]:
    raw = yaml.safe_load(resources.files("wgsiem.kernlog").joinpath("messages.yaml").read_text())
    out = []
    for source in ("kernel", "wg-quick"):
        for entry in raw[source]:
            out.append(compile_template(entry["template"], entry["action"], entry.get("variant"), source))
    return tuple(out)


class MessageParser:
    """Turns the message of a log record into a LogMessage; counts what the kernel suppressed."""

    def __init__(self) -> None:
        self.by_word: dict[tuple[str, str], list[Template]] = {}
        for t in templates():
            self.by_word.setdefault((t.source, t.first_word), []).append(t)
        self.suppressed = 0  # callbacks the kernel's net_ratelimit dropped (any subsystem)

    def parse(self, message: str, program: str | None = None) -> LogMessage | None:
        at = message.find(PREFIX)
        if at >= 0:
            return self._match("kernel", message[at + len(PREFIX) :].rstrip())
        if program == "wg-quick" or message.startswith(("[#] ", "[!] ", "wg-quick: ")):
            return self._match("wg-quick", message.rstrip())
        if m := _SUPPRESSED.search(message):
            self.suppressed += int(m.group(1))
        return None

    def _match(self, source: str, text: str) -> LogMessage:
        head, sep, rest = text.partition(": ")
        words = [text.split(" ", 1)[0]]
        if sep and source == "kernel":
            words.insert(0, rest.split(" ", 1)[0])
        for word in words:
            for template in self.by_word.get((source, word), ()):
                m = template.regex.match(text)
                if m is not None:
                    return _message(template, m.groupdict())
        interface = head if sep and source == "kernel" and " " not in head else None
        return LogMessage(UNRECOGNIZED, source, interface, {"text": text})


def _message(template: Template, groups: dict[str, str]) -> LogMessage:
    fields: dict[str, Any] = {}
    interface = groups.pop("iface", None)
    for name, value in groups.items():
        if name in _INTEGERS:
            fields[name] = int(value)
        elif name == "endpoint":
            fields[name] = parse_kernel_endpoint(value)
        elif name in _ADDRESSES:
            fields[name] = canonical_ip(value) or value
        else:
            fields[name] = value
    if template.source == "wg-quick":
        interface = _wg_quick_interface(fields.get("command") or fields.get("text") or "")
    return LogMessage(template.action, template.source, interface, fields, template.variant)


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


def _wg_quick_interface(text: str) -> str | None:
    if m := _QUOTED_INTERFACE.search(text):
        return m.group(1)
    for pattern in _COMMAND_INTERFACE:
        if m := pattern.search(text):
            return m.group(1)
    return None
