"""The package's docs/README.md (what Kibana shows on the integration's page), written from
the package's own files: its manifests, fields, sample events, rules and dashboards."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import yaml

from ..rules.model import Rule

INTRO = """\
WireGuard keeps no logs. This integration gives Elastic an audit trail of WireGuard hosts
and the detections to go with it: peers added, removed and changed, endpoints roaming (with
GeoIP and ASN), handshakes, sessions and traffic per peer, written by
[wgsiem](https://github.com/wgsiem/wgsiem) on each WireGuard host, and the kernel's and
wg-quick's own lines.

## How it works

Run `wgsiem ship` on each WireGuard host (`pip install wgsiem`; see its README). It polls
`wg show all dump`, diffs each poll against the last one, and writes one ECS document per
change to `/var/log/wgsiem/wireguard-status.ndjson`. Add this integration to the host's
agent policy: the Elastic Agent reads that file (each document keeps its `event.id` as its
`_id`, so nothing is indexed twice), and, where wgsiem does not run, WireGuard's raw kernel
and wg-quick lines from journald or kern.log, which the integration's pipeline parses (those
two inputs are off by default: on a host running wgsiem each line would be indexed twice).
The shipper writes its kernel-line and inner-flow documents (`ship` with conntrack on: each
peer's connections through the gateway) into the same file; the status data stream sends
them on to the log and flow data streams, so the flow data stream needs no input of its own.

Private and preshared keys never leave wgsiem's parser: no document carries one, and the
ingest pipeline removes any field that could.
"""


def render_readme(files: Mapping[str, bytes], fields: Mapping[str, Sequence[Mapping[str, Any]]], rules: Sequence[Rule], version: str) -> str:
    """`fields`: each data stream's field entries, whole (a source tree's files leave the
    types of ECS fields to ECS; the page shows them)."""
    manifest = yaml.safe_load(files["manifest.yml"])
    out = [f"# {manifest['title']} integration", "", f"Version {version}.", "", INTRO]
    out += _inputs(manifest)
    for folder in sorted({name.split("/")[1] for name in files if name.startswith("data_stream/")}, reverse=True):
        out += _data_stream(files, folder, fields[folder])
    out += _rules(rules)
    out += _dashboards(files)
    return "\n".join(out).rstrip() + "\n"


def _inputs(manifest: Mapping[str, Any]) -> list[str]:
    out = ["## Inputs", ""]
    for template in manifest["policy_templates"]:
        for entry in template["inputs"]:
            out.append(f"- **{entry['title']}** (`{entry['type']}`): {entry['description']}")
    return [*out, ""]


def _data_stream(files: Mapping[str, bytes], folder: str, entries: Sequence[Mapping[str, Any]]) -> list[str]:
    base = f"data_stream/{folder}"
    manifest = yaml.safe_load(files[f"{base}/manifest.yml"])
    lifecycle = yaml.safe_load(files[f"{base}/lifecycle.yml"])
    out = [f"## {manifest['title']} (`logs-{manifest['dataset']}-*`)", ""]
    out += [
        f"Kept for {lifecycle['data_retention']}: the ILM policy `{manifest['ilm_policy']}` deletes a backing index that",
        "old (counted from its rollover); on Serverless the data stream lifecycle does. To keep",
        f"documents longer or shorter, give the component template `logs-{manifest['dataset']}@custom`",
        "an `index.lifecycle.name` of your own policy (or, on Serverless, a `lifecycle.data_retention`).",
        "",
    ]
    out += ["An example event:", "", "```json", json.dumps(json.loads(files[f"{base}/sample_event.json"]), indent=2), "```", ""]
    out += ["| field | type | description |", "|---|---|---|"]
    for entry in sorted(entries, key=lambda e: e["name"]):
        description = " ".join(str(entry.get("description", "")).split()).replace("|", "\\|")
        out.append(f"| `{entry['name']}` | {entry['type']} | {description} |")
    return [*out, ""]


def _rules(rules: Sequence[Rule]) -> list[str]:
    out = ["## Detection rules", "", "Installed with the integration, disabled, under Security > Rules > Add Elastic rules.", ""]
    out += ["| rule | severity | what it finds |", "|---|---|---|"]
    for rule in sorted(rules, key=lambda r: r.name):
        first = " ".join(str(rule.body["description"]).split()).split(". ")[0].rstrip(".")
        out.append(f"| {rule.name} | {rule.body['severity']} | {first}. |")
    return [*out, ""]


def _dashboards(files: Mapping[str, bytes]) -> list[str]:
    """The dashboards the package installs (kibana/dashboard/), by title."""
    found = [json.loads(data)["attributes"] for name, data in files.items() if name.startswith("kibana/dashboard/")]
    if not found:
        return []
    out = ["## Dashboards", "", "Installed with the integration, under Analytics > Dashboards; every panel reads the `logs-wireguard.*` data view.", ""]
    for attributes in sorted(found, key=lambda a: a["title"]):
        out.append(f"- **{attributes['title']}**: {' '.join(attributes['description'].split())}")
    return [*out, ""]
