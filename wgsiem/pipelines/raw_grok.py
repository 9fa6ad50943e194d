"""messages.yaml as grok, for the raw-line ingest pipeline (ingest_pipelines/logs-wireguard-raw.yml).

The pipeline file is data and is written by hand, but its grok patterns and its catalogue
(grok match index → action) must say exactly what messages.yaml says; `expected()` derives
them and tests/test_raw_pipeline.py compares. After changing messages.yaml, run
`python -m wgsiem.pipelines.raw_grok` and paste what it prints into the pipeline.
"""

from __future__ import annotations

import re
import sys
from typing import Any

import yaml

from ..ecs.catalogue import log_actions
from ..kernlog.messages import ENDPOINT_PATTERN, UNRECOGNIZED, interface_patterns, templates

# The pipeline's own grok patterns (its `pattern_definitions`).
DEFINITIONS = {
    "WG_IFACE": r"[^\s/:]+",
    "WG_ENDPOINT": ENDPOINT_PATTERN,
    "WG_ADDRESS": r"[0-9A-Fa-f:.]+",
}

# placeholder → grok: where each goes in the document (the same names as ecs/log.py)
PLACEHOLDER_GROK = {
    "iface": "%{WG_IFACE:wireguard.interface.name}",
    "peer_id": "%{NONNEGINT:wireguard.log.peer_id:long}",
    "keypair_id": "%{NONNEGINT:wireguard.log.keypair_id:long}",
    "endpoint": "%{WG_ENDPOINT:_tmp.endpoint}",
    "inner_source": "%{WG_ADDRESS:wireguard.log.inner_source_ip}",
    "inner_destination": "%{WG_ADDRESS:destination.ip}",
    "seconds": "%{NONNEGINT:wireguard.log.seconds:long}",
    "attempt": "%{NONNEGINT:wireguard.log.attempt:long}",
    # u64 values up to 2^64-1 (the max is always above 2^63): grok's `long` would fail on
    # them, so they stay decimal text, which an unsigned_long field indexes as the number.
    "nonce": r"(?<wireguard.log.nonce>\d+)",
    "nonce_max": r"(?<wireguard.log.nonce_max>\d+)",
    "error_code": r"(?<error.code>-?\d+)",
    "version": r"(?<wireguard.log.module_version>\S+)",
    "command": r"(?<process.command_line>.+)",
    "text": r"(?<wireguard.log.text>.+)",
}

# What no template knows is still kept: the kernel's with the interface when the line
# starts with one (as messages.py reads "wg0: ..."), wg-quick's as text.
FALLBACK = {
    "kernel": r"^(?=(?:(?<wireguard.interface.name>[^ ]*?): )?)(?<wireguard.log.text>.*)$",
    "wg-quick": r"^(?<wireguard.log.text>.*)$",
}


def template_grok(text: str) -> str:
    parts = re.split(r"\{(\w+)\}", text)
    out = []
    for i, part in enumerate(parts):
        out.append(PLACEHOLDER_GROK[part] if i % 2 else re.escape(part).replace("\\ ", " "))
    return "^" + "".join(out) + "$"


def expected() -> dict[str, Any]:
    """What the pipeline must hold: patterns and catalogue per source, and the interface patterns."""
    actions = log_actions()
    out: dict[str, Any] = {"pattern_definitions": dict(DEFINITIONS), "patterns": {}, "catalogue": {}}
    for source in ("kernel", "wg-quick"):
        mine = [t for t in templates() if t.source == source]
        out["patterns"][source] = [template_grok(t.text) for t in mine] + [FALLBACK[source]]
        catalogue = {}
        for index, (name, variant) in enumerate([(t.action, t.variant) for t in mine] + [(UNRECOGNIZED, None)]):
            action = actions[name]
            entry: dict[str, Any] = {
                "action": name,
                "kind": action.kind,
                "category": list(action.category),
                "type": list(action.type),
            }
            if action.outcome:
                entry["outcome"] = action.outcome
            if variant:
                entry["variant"] = variant
            catalogue[str(index)] = entry
        out["catalogue"][source] = catalogue
    out["interface_patterns"] = [p.replace("(?<iface>", "(?<_tmp.interface>") for p in interface_patterns()]
    return out


def main() -> int:
    yaml.safe_dump(expected(), sys.stdout, sort_keys=False, width=1000, allow_unicode=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
