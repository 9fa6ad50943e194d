"""The index templates on a real Elasticsearch, and every scenario's events indexed into them.

What no offline check can show: that the cluster accepts the templates, that the
documents become data streams, and that every value of every event fits the type the
cluster mapped its field with. `index.mapping.ignore_malformed` would keep a document
whose value does not fit and only list the field in `_ignored`, so the test also asks
that no document has `_ignored`.
"""

from __future__ import annotations

import json
import secrets
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tests.support.es import bulk_create, in_namespace, unique_namespace
from wgsiem.adapters.elasticsearch import EsSettings, connect, node_modules, request
from wgsiem.cli import app
from wgsiem.mappings import field_types, leaves
from wgsiem.mappings.datastreams import data_stream_index
from wgsiem.mappings.templates import fit_to_modules, load_spec

pytestmark = pytest.mark.es

REPO = Path(__file__).resolve().parents[1]
SCENARIOS = sorted(p.parent for p in (REPO / "fixtures" / "scenarios").glob("*/events.ndjson"))
RUNNER = CliRunner()


def _client(url: str):  # noqa: ANN202
    return connect(EsSettings(url))


def _mapped_types(properties: dict[str, Any], prefix: str = "") -> dict[str, str]:
    out: dict[str, str] = {}
    for name, spec in properties.items():
        path = f"{prefix}{name}"
        if "properties" in spec:
            out.update(_mapped_types(spec["properties"], path + "."))
        if "type" in spec:
            out[path] = spec["type"]
    return out


def test_install_prints_what_it_adapts_and_is_idempotent(es_url: str) -> None:
    fit = fit_to_modules(node_modules(_client(es_url)))
    first = RUNNER.invoke(app, ["templates", "install", "--es", es_url])
    assert first.exit_code == 0, first.output
    for note in fit.notes:
        assert f"warning: {note}" in first.output
    again = RUNNER.invoke(app, ["templates", "install", "--es", es_url])
    assert again.exit_code == 0, again.output
    datasets = load_spec().datasets
    # The shared component template, and each dataset's @package and index template.
    assert again.output.count(": unchanged") == 1 + 2 * len(datasets), again.output
    templates = request(_client(es_url), "GET", "/_index_template/logs-wireguard.*")["index_templates"]
    assert {t["name"] for t in templates} == {d.index_template for d in datasets} >= {"logs-wireguard.status", "logs-wireguard.log", "logs-wireguard.flow"}
    assert all("data_stream" in t["index_template"] for t in templates)


def test_a_template_the_cluster_rejects_is_a_clear_error(es_url: str) -> None:
    """The cluster, not an offline check, refuses a type it does not know."""
    from wgsiem.adapters.elasticsearch import EsError, install
    from wgsiem.mappings.templates import component_templates

    client = _client(es_url)
    name = f"wgsiem-test-{secrets.token_hex(4)}@mappings"
    body = component_templates(substitutes=fit_to_modules(node_modules(client)).substitutes)["logs-wireguard@mappings"]
    body["template"]["mappings"]["properties"]["wireguard"]["properties"]["bogus"] = {"type": "no_such_type"}
    with pytest.raises(EsError, match=r"PUT /_component_template/.*HTTP 400.*no_such_type.*bogus"):
        install(client, "component_template", name, body)


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda p: p.name)
def test_every_event_of_the_scenario_is_indexed_with_its_declared_types(es_templates: str, scenario: Path) -> None:
    client = _client(es_templates)
    events = [json.loads(line) for line in (scenario / "events.ndjson").read_text().splitlines() if line]
    docs = in_namespace(events, unique_namespace())
    results = bulk_create(client, docs)
    failed = [r for r in results if r.get("status") != 201]
    assert not failed, failed[:3]
    streams = sorted({data_stream_index(d) for d in docs})
    pattern = ",".join(streams)
    count = request(client, "GET", f"/{pattern}/_count")["count"]
    assert count == len(docs)
    ignored = request(client, "POST", f"/{pattern}/_search", {"query": {"exists": {"field": "_ignored"}}, "size": 3})
    assert ignored["hits"]["total"]["value"] == 0, [(h["_id"], h.get("_ignored")) for h in ignored["hits"]["hits"]]

    # Each name is a data stream of backing indices, not an index of that name.
    resolved = request(client, "GET", f"/_resolve/index/{pattern}")
    assert sorted(ds["name"] for ds in resolved["data_streams"]) == streams
    assert all(i["name"].startswith(".ds-") for i in resolved["indices"])
    # Each keeps its documents for the retention templates.yml gives it (a year; flows 90 days).
    # (The test node has no data stream API: the effective template of each says it.)
    retention = {d.dataset: d.retention for d in load_spec().datasets}
    lifecycles = {name: request(client, "POST", f"/_index_template/_simulate_index/{name}")["template"].get("lifecycle") for name in streams}
    wanted = {name: retention[name.split("-")[1]] for name in streams}
    assert {name: (lifecycle or {}).get("data_retention") for name, lifecycle in lifecycles.items()} == wanted

    # Every field of every event is mapped with the declared type (or the node's stand-in).
    fit = fit_to_modules(node_modules(client))
    declared = {name: fit.substitutes.get(t, t) for name, t in field_types().items()}
    mapped: dict[str, str] = {}
    for body in request(client, "GET", f"/{pattern}/_mapping").values():
        mapped.update(_mapped_types(body["mappings"]["properties"]))
    seen = {name for doc in docs for name, _ in leaves(doc)}
    wrong = {name: (mapped.get(name), declared.get(name)) for name in seen if mapped.get(name) != declared.get(name)}
    assert not wrong, wrong
