"""Field definitions (ecs_mappings/) and the index templates built from them.

The key test: every field of every event any fixture gives (the lab-story capture with
its kernel log and GeoIP, every kernel log framing, every line of lines.yaml, and a
synthetic story making every status action) is defined, with a type its value fits.
"""

from __future__ import annotations

import ipaddress
import json
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support.config_story import config_story
from tests.support.dumps import FakeInterface, dump, fake_key
from wgsiem.ecs import health as health_docs
from wgsiem.ecs.catalogue import flow_actions, log_actions, status_actions
from wgsiem.ecs.document import Context
from wgsiem.ecs.health import Health
from wgsiem.enrich.geoip import GeoIP
from wgsiem.enrich.registry import RegisteredPeer
from wgsiem.kernlog.framing import LogRecord
from wgsiem.mappings import (
    DEFAULT_PIPELINE,
    ECS_MAPPINGS_DIR,
    MINIMAL_DISTRIBUTION_TYPES,
    FieldError,
    check_document,
    component_templates,
    field_types,
    index_templates,
    leaves,
    load_fields,
    value_error,
    value_fits,
)
from wgsiem.mappings.fields import OBJECT_VALUED, TYPES
from wgsiem.mappings.templates import load_spec, template_fields
from wgsiem.shipper import Shipper
from wgsiem.status.diff import DiffSettings
from wgsiem.status.spike import SpikeSettings
from wgsiem.status.state import State
from wgsiem.wgdump import PresharedKeyHasher
from wgsiem.wgdump.raw import RawPoll

REPO = Path(__file__).resolve().parents[1]
CAPTURE = REPO / "fixtures" / "captures" / "lab-story"
FLOWS = REPO / "fixtures" / "captures" / "gateway-flows"  # real conntrack records, a peer reaching another
FRAMINGS = sorted((REPO / "fixtures" / "kernel" / "framings").iterdir())
LINES = yaml.safe_load((REPO / "fixtures" / "kernel" / "lines.yaml").read_text())
T0 = 1_790_000_000
ALICE = fake_key("alice")


# -- the schema ------------------------------------------------------------------------------


def definitions(tmp_path: Path, **files: list[dict[str, Any]] | str) -> Path:
    """A field directory with the real schema and the given files (name -> entries or text)."""
    shutil.copy(ECS_MAPPINGS_DIR / "fields.schema.json", tmp_path)
    for name, content in files.items():
        text = content if isinstance(content, str) else yaml.safe_dump(content, sort_keys=False)
        (tmp_path / f"{name}.yml").write_text(text)
    return tmp_path


GOOD = {"name": "a.ok", "type": "keyword", "description": "a field that is fine"}


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        ({"name": "a.b", "type": "strng", "description": "a misspelt type"}, "key 'type': 'strng' is not one of"),
        ({"name": "a.b", "type": "keyword"}, "key 'description': missing"),
        ({"name": "a.b", "type": "keyword", "description": "an extra key", "colour": "red"}, "key 'colour': unknown key"),
        ({"name": "a.b", "type": "ip", "description": "ignore_above is for keywords", "ignore_above": 10},
         "key 'ignore_above': not allowed for type 'ip'"),
        ({"name": "a.b", "type": "scaled_float", "description": "no scaling factor"}, "key 'scaling_factor': missing"),
        ({"name": "a.b", "type": "long", "description": "a value is for constant_keyword", "value": "x"},
         "key 'value': not allowed for type 'long'"),
        ({"name": "a.b", "type": "keyword", "description": "a bad multi-field", "multi_fields": [{"name": "t", "type": "long"}]},
         "key 'multi_fields[0].type': 'long' is not one of"),
        ({"name": "Source.IP", "type": "ip", "description": "not a lowercase dotted name"}, "key 'name': 'Source.IP' does not match"),
        ({"name": "a.b", "type": "keyword", "description": "two\nlines"}, "key 'description'"),
        ({"name": "a.b", "type": "keyword", "description": "short"}, "key 'description': 'short' is too short"),
    ],
    ids=["type", "required", "unknown-key", "ignore_above", "scaling_factor", "value", "multi_field", "name", "newline", "short"],
)  # fmt: skip
def test_schema_rejects_bad_entries_naming_file_entry_and_key(tmp_path, entry, expected):
    directory = definitions(tmp_path, bad=[GOOD, entry])
    with pytest.raises(FieldError) as err:
        load_fields(directory)
    message = str(err.value)
    where = f"bad.yml: entry 2 ({entry['name']})" if "name" in entry else "bad.yml: entry 2"
    assert where in message and expected in message, message


def test_every_problem_is_reported_at_once(tmp_path):
    directory = definitions(tmp_path, bad=[{"name": "a.b", "type": "strng", "description": "one"}, {"name": "c", "description": "two here"}])
    message = str(pytest.raises(FieldError, load_fields, directory).value)
    assert "entry 1 (a.b)" in message and "entry 2 (c): key 'type': missing" in message


def test_duplicates_across_files_and_leaf_parents_are_errors(tmp_path):
    one = [GOOD, {"name": "x.leaf", "type": "long", "description": "a number field here"}]
    two = [
        {"name": "a.ok", "type": "long", "description": "defined twice"},
        {"name": "x.leaf.child", "type": "long", "description": "under a leaf field"},
        {"name": "u.name", "type": "keyword", "description": "has a text multi-field", "multi_fields": [{"name": "text", "type": "text"}]},
        {"name": "u.name.text", "type": "keyword", "description": "clashes with that multi-field"},
    ]
    message = str(pytest.raises(FieldError, load_fields, definitions(tmp_path, one=one, two=two)).value)
    assert "two.yml: entry 1 (a.ok): key 'name': already defined (one.yml entry 1)" in message
    assert "two.yml: entry 2 (x.leaf.child): key 'name': x.leaf (one.yml entry 2) is a long field" in message
    assert "two.yml: entry 3 (u.name): key 'multi_fields': u.name.text is also defined as a field" in message
    assert "two.yml: entry 4 (u.name.text): key 'name': u.name (two.yml entry 3)" in message


def test_a_file_must_be_a_list(tmp_path):
    message = str(pytest.raises(FieldError, load_fields, definitions(tmp_path, bad="name: a.b\n")).value)
    assert "bad.yml: expected a list of field entries" in message
    message = str(pytest.raises(FieldError, load_fields, definitions(tmp_path, bad="- [unclosed\n")).value)
    assert "bad.yml: not valid YAML" in message


# -- the definitions ------------------------------------------------------------------------------


def test_definitions_load_and_field_types_are_cached():
    fields = load_fields()
    assert {f.file for f in fields.values()} == {"ecs.yml", "wireguard.yml", "filebeat.yml", "journald.yml"}
    types = field_types()
    assert types == {name: f.type for name, f in fields.items()}
    types["source.ip"] = "keyword"  # a copy: the cache is not touched
    assert field_types()["source.ip"] == "ip"
    assert all(name.startswith("wireguard.") for name, f in fields.items() if f.file == "wireguard.yml")
    assert not any(name.startswith("wireguard.") for name, f in fields.items() if f.file != "wireguard.yml")


@pytest.mark.parametrize(
    ("name", "es_type"),
    [
        ("@timestamp", "date"), ("message", "match_only_text"), ("event.original", "keyword"),
        ("event.duration", "long"), ("source.ip", "ip"), ("source.geo.location", "geo_point"),
        ("source.bytes", "long"), ("source.as.number", "long"), ("process.command_line", "wildcard"),
        ("data_stream.dataset", "constant_keyword"), ("error.message", "match_only_text"), ("related.ip", "ip"),
        ("wireguard.peer.rx_bytes", "unsigned_long"), ("wireguard.peer.tx_bytes", "unsigned_long"),
        ("wireguard.transfer.bytes", "unsigned_long"), ("wireguard.log.nonce", "unsigned_long"),
        ("wireguard.peer.latest_handshake", "date"), ("wireguard.log.inner_source_ip", "ip"),
    ],
)  # fmt: skip
def test_types_of_key_fields(name, es_type):
    assert field_types()[name] == es_type


def test_ecs_keyword_options():
    fields = load_fields()
    assert fields["event.original"].mapping() == {"type": "keyword", "index": False, "doc_values": False}
    assert fields["host.name"].mapping() == {"type": "keyword", "ignore_above": 1024}
    assert fields["user.name"].multi_fields == {"text": "match_only_text"}
    assert fields["source.as.organization.name"].multi_fields == {"text": "match_only_text"}


def test_examples_fit_their_fields():
    for f in load_fields().values():
        if f.example is not None:
            assert value_fits(f.type, f.example), (f.name, f.example, value_error(f.type, f.example))
            assert isinstance(f.example, list) == f.array or f.type in OBJECT_VALUED, f.name


# -- templates ------------------------------------------------------------------------------


def mapped_names(properties: dict[str, Any], prefix: str = "") -> dict[str, str]:
    out = {}
    for key, spec in properties.items():
        name = f"{prefix}.{key}" if prefix else key
        if "properties" in spec:
            out.update(mapped_names(spec["properties"], name))
        else:
            out[name] = spec["type"]
    return out


def test_templates_render_and_map_every_field():
    components = component_templates()
    indexes = index_templates()
    spec = load_spec()
    assert set(indexes) == {"logs-wireguard.status", "logs-wireguard.log", "logs-wireguard.flow"}
    assert set(components) == {"logs-wireguard@mappings", *(f"logs-wireguard.{d}@package" for d in ("status", "log", "flow"))}
    json.dumps(components), json.dumps(indexes)  # plain JSON
    types = field_types()
    per_template = template_fields()
    for name, body in indexes.items():
        dataset = name.removeprefix("logs-")
        assert body["index_patterns"] == [f"logs-{dataset}-*"] and body["data_stream"] == {}
        assert body["priority"] == 200 and body["version"] == spec.version and isinstance(body["version"], int)
        assert body["_meta"]["managed_by"] == "wgsiem"
        assert body["composed_of"] == ["logs-wireguard@mappings", f"logs-{dataset}@package", f"logs-{dataset}@custom"]
        assert body["ignore_missing_component_templates"] == [f"logs-{dataset}@custom"]
        mapped: dict[str, str] = {}
        for component in body["composed_of"]:
            if component in body["ignore_missing_component_templates"]:
                assert component not in components  # the user's: never installed by us
                continue
            mapping = components[component]["template"].get("mappings", {"properties": {}})
            overlap = set(mapped) & set(mapped_names(mapping["properties"]))
            assert not overlap, overlap
            mapped.update(mapped_names(mapping["properties"]))
        assert mapped == {n: types[n] for n in per_template[name]}
        settings = components[f"logs-{dataset}@package"]["template"]["settings"]
        assert settings["index.default_pipeline"] == DEFAULT_PIPELINE == "logs-wireguard"
    # every field is in some template, and the log template maps the journald fields
    assert set().union(*per_template.values()) == set(types)
    assert "journald.pid" in per_template["logs-wireguard.log"] and "journald.pid" not in per_template["logs-wireguard.status"]
    shared = components["logs-wireguard@mappings"]
    assert shared["version"] == spec.version
    mappings = shared["template"]["mappings"]
    assert mappings["dynamic"] is True and mappings["date_detection"] is False
    props = mappings["properties"]
    assert props["@timestamp"] == {"type": "date"}
    assert props["data_stream"]["properties"]["type"] == {"type": "constant_keyword"}
    assert props["source"]["properties"]["geo"]["properties"]["location"] == {"type": "geo_point"}
    assert props["user"]["properties"]["name"] == {"type": "keyword", "ignore_above": 1024, "fields": {"text": {"type": "match_only_text"}}}


def test_minimal_distribution_templates_use_core_types_only():
    rendered = json.dumps(component_templates(substitutes=MINIMAL_DISTRIBUTION_TYPES))
    for es_type in MINIMAL_DISTRIBUTION_TYPES:
        assert f'"{es_type}"' not in rendered, es_type
    props = component_templates(substitutes=MINIMAL_DISTRIBUTION_TYPES)["logs-wireguard@mappings"]["template"]["mappings"]["properties"]
    assert props["process"]["properties"]["command_line"] == {"type": "keyword", "ignore_above": 1024, "fields": {"text": {"type": "text"}}}
    assert props["wireguard"]["properties"]["peer"]["properties"]["rx_bytes"] == {"type": "double"}


def test_templates_yml_must_name_existing_files(tmp_path):
    for name in ("fields.schema.json", "templates.schema.json", "ecs.yml", "wireguard.yml", "filebeat.yml", "journald.yml"):
        shutil.copy(ECS_MAPPINGS_DIR / name, tmp_path)
    text = (ECS_MAPPINGS_DIR / "templates.yml").read_text().replace("files: [journald.yml]", "files: [journal.yml]")
    (tmp_path / "templates.yml").write_text(text)
    message = str(pytest.raises(FieldError, load_spec, tmp_path).value)
    assert "field file journal.yml does not exist" in message and "field file journald.yml is used by no template" in message
    (tmp_path / "templates.yml").write_text(text.replace("priority: 200", "priority: high"))
    assert "priority" in str(pytest.raises(FieldError, load_spec, tmp_path).value)


# -- every field of every fixture's events ----------------------------------------------------


# alice in the peer registry: expected in Amsterdam's network or the Netherlands; she roams to
# China. carol is an always-on site: ten days silent at the baseline (peer-silent), then back.
REGISTRY = {
    ALICE: RegisteredPeer(
        "alice", owner="alice", email="alice@example.com", role="laptop", always_on=True,
        networks=(ipaddress.ip_network("198.51.100.0/24"),), countries=("NL",), tags=("finance",),
    ),
    fake_key("carol"): RegisteredPeer("carol", role="site", always_on=True, silent_after=900),
}  # fmt: skip


def status_story(geoip: GeoIP) -> list[dict]:
    """Polls making every status action, with the optional fields filled in: an interface
    changing port, fwmark and key at once, keepalive and preshared key changes, a roam
    between two located endpoints, a spike over a non-zero baseline, a counter reset,
    IPv6 and scoped link-local endpoints, a peer back after a silence."""
    shipper = Shipper(
        State(),
        PresharedKeyHasher(b"k" * 32),
        Context(host_name="vpn1", names={ALICE: "alice"}, geoip=geoip, registry=REGISTRY),
        DiffSettings(spike=SpikeSettings(min_bytes=1_000_000, min_history=60)),
    )
    wg0, wg1 = FakeInterface(fwmark="0x1"), FakeInterface(name="wg1", listen_port=0)
    alice = wg0.peer("alice", endpoint="198.51.100.10:34195", allowed_ips="10.0.0.2/32", handshake=T0 - 5, rx=10, tx=10, keepalive="25")
    carol = wg0.peer("carol", allowed_ips="10.0.0.4/32,192.168.50.0/24", handshake=T0 - 864_000)  # silent ten days
    wg1.peer("dave", endpoint="[fe80::1%eth0]:51820", allowed_ips="fd00::4/128", handshake=T0 - 10, rx=1, tx=1)
    docs: list[dict] = []

    def step(t: int, *interfaces: FakeInterface) -> None:
        docs.extend(shipper.process(RawPoll(time=t, stdout=dump(*(interfaces or (wg0, wg1))))).documents)

    step(T0)
    bob = wg0.peer("bob", endpoint="[2001:db8::5]:51000", allowed_ips="10.0.0.3/32,fd00::3/128",
                   handshake=T0 + 20, rx=300, tx=200, psk=fake_key("psk"), keepalive="25")  # fmt: skip
    step(T0 + 30)
    for i in range(2, 6):
        alice.rx += 20_000
        step(T0 + 30 * i)
    alice.endpoint, alice.handshake, alice.rx, alice.keepalive = "175.16.199.7:40404", T0 + 170, alice.rx + 90_000_000, "30"
    wg0.fwmark, wg0.listen_port = "0xca6c", 51821
    wg0.new_key("private wg0 rotated")
    bob.allowed_ips, bob.psk = "10.0.0.3/32", fake_key("psk rotated")
    carol.handshake = T0 + 175  # and back
    step(T0 + 180)
    bob.rx, bob.tx, bob.handshake, bob.psk = 5, 7, T0 + 190, "(none)"  # counters reset, key removed
    step(T0 + 200)
    del wg0.peers["carol"]
    step(T0 + 600)
    step(T0 + 630, wg0)  # wg1 goes down
    step(T0 + 660)  # and comes back
    return docs


def log_line_docs(geoip: GeoIP) -> list[tuple[str, dict]]:
    """Each line of lines.yaml, after a poll that lets the kernel peer ids be tied to peers."""
    out = []
    for case in LINES:
        shipper = Shipper(State(), PresharedKeyHasher(b"k" * 32), Context(host_name="vpn1", names={ALICE: "alice"}, geoip=geoip))
        wg0 = FakeInterface()
        wg0.peer("alice", endpoint="198.51.100.7:51820")
        list(shipper.process(RawPoll(T0, dump(wg0))).documents)
        record = LogRecord(original=case["line"], message=case["line"], time=None, monotonic=None, host=None, program=None, pid=None, cursor=None)
        out += [(f"lines.yaml {case['line'][:60]!r}", d) for d in shipper.process_log([(record, T0 + 1)])]
    return out


def convert(geoip_world, *args: str, capture: Path = CAPTURE) -> list[dict]:
    proc = subprocess.run(
        [sys.executable, "-m", "wgsiem", "convert", str(capture), "--peers", str(capture / "peers.yaml"),
         "--geoip-city", str(geoip_world.city), "--geoip-asn", str(geoip_world.asn), *args],
        capture_output=True, text=True, cwd=REPO, check=True,
    )  # fmt: skip
    return [json.loads(line) for line in proc.stdout.splitlines()]


@pytest.fixture(scope="module")
def corpus(geoip_world) -> list[tuple[str, dict]]:
    """(where it came from, document) for every event of every fixture."""
    runs = {
        "lab-story + kernel.log": ("--kernel-log", str(CAPTURE / "kernel.log"), "--spike-min-history", "3", "--spike-min-bytes", "5000000"),
        **{f"lab-story + framings/{p.name}": ("--kernel-log", str(p), "--host-name", "vpn1") for p in FRAMINGS},
    }
    with ThreadPoolExecutor(max_workers=4) as pool:
        flows = pool.submit(convert, geoip_world, "--host-name", "gw1", capture=FLOWS)
        results = dict(zip(runs, pool.map(lambda args: convert(geoip_world, *args), runs.values()), strict=True))
        results["gateway-flows"] = flows.result()
    out = [(name, doc) for name, docs in results.items() for doc in docs]
    with GeoIP(city=geoip_world.city, asn=geoip_world.asn) as geoip:
        out += [("status story", d) for d in status_story(geoip)]
        out += [("config story", d) for d in config_story()[0]]
        out += log_line_docs(geoip)
    # The shipper's own health: a failing interval, with a spool and a last successful poll.
    failing = Health(polls=10, poll_failures=1, wg_errors=2, malformed_lines=1, documents_written=40, dropped_documents=3,
                     last_success=T0 - 30, spooled_documents=5, spooled_bytes=5000)  # fmt: skip
    out.append(("shipper health", health_docs.build(Health(), T0 - 300, failing, T0, Context(host_name="vpn1"))))
    return [(f"{where}: {doc['event']['action']}", doc) for where, doc in out]


def test_the_corpus_has_every_action(corpus):
    seen = {doc["event"]["action"] for _, doc in corpus}
    assert set(status_actions()) <= seen and set(log_actions()) <= seen and set(flow_actions()) <= seen
    assert {"lab-story + kernel.log: transfer-spike", "status story: interface-changed"} <= {w for w, _ in corpus}


def test_every_field_of_every_fixture_event_is_defined_and_fits(corpus):
    types = field_types()
    undefined: dict[str, tuple[Any, str]] = {}
    misfits: dict[str, tuple[str, str]] = {}
    for where, doc in corpus:
        for name, value in leaves(doc, types):
            if name not in types:
                undefined.setdefault(name, (value, where))
                continue
            if isinstance(value, list) and types[name] not in OBJECT_VALUED and any(isinstance(v, dict) for v in value):
                misfits.setdefault(name, (f"a list of objects {value!r:.80}", where))
            elif value is None:
                misfits.setdefault(name, ("null: leave the field out instead", where))
            elif (problem := value_error(types[name], value)) is not None:
                misfits.setdefault(name, (problem, where))
    report = [f"not defined in ecs_mappings/: {n} = {v!r:.80} ({w})" for n, (v, w) in sorted(undefined.items())]
    report += [f"does not fit {types[n]}: {n}: {p} ({w})" for n, (p, w) in sorted(misfits.items())]
    assert not report, "\n".join(report)


def test_lists_are_only_in_array_fields(corpus):
    fields = load_fields()
    wrong = {
        name: where
        for where, doc in corpus
        for name, value in leaves(doc)
        if isinstance(value, list) and name in fields and not fields[name].array
    }
    assert not wrong, wrong


def test_every_wireguard_field_is_carried_by_some_fixture_event(corpus):
    carried = {name for _, doc in corpus for name, _ in leaves(doc)}
    unused = sorted(n for n in field_types() if n.startswith("wireguard.") and n not in carried)
    assert not unused, f"defined but in no fixture's events (add a fixture, or drop the definition): {unused}"


# -- value_fits ---------------------------------------------------------------------------------

FITS = [
    ("keyword", "wg0"), ("keyword", ["a", "b"]), ("keyword", []), ("constant_keyword", "logs"), ("wildcard", "ip link add"),
    ("match_only_text", "a message"), ("text", "x"),
    ("long", 0), ("long", -(2**63)), ("long", 2**63 - 1), ("long", [1, 2, [3]]),
    ("unsigned_long", 0), ("unsigned_long", 2**63), ("unsigned_long", 2**64 - 1),
    ("integer", 2**31 - 1), ("short", -(2**15)), ("byte", 127),
    ("double", 1.5), ("double", 3), ("float", 1e38), ("half_float", 65504), ("scaled_float", 0.1),
    ("boolean", True), ("boolean", False),
    ("date", "2026-11-22T00:32:18.000Z"), ("date", "2026-11-22"), ("date", "2026"), ("date", "2026-11"),
    ("date", "2026-11-22T00:32"), ("date", "2026-11-22T00:32:18.123456789+01:00"), ("date", "2026-11-22T00:32:18-0530"),
    ("date", "2026-11-22T00:32:18+01"), ("date", 1795307538000), ("date", -1), ("date_nanos", "2026-11-22T00:32:18.000000001Z"),
    ("ip", "198.51.100.7"), ("ip", "2001:db8::5"), ("ip", "::ffff:10.0.0.1"), ("ip", ["10.0.0.1", "fd00::1"]),
    ("geo_point", {"lat": 52.3676, "lon": 4.9041}), ("geo_point", {"lat": -90, "lon": 180}),
    ("geo_point", {"type": "Point", "coordinates": [4.9, 52.3]}), ("geo_point", "52.3,4.9"), ("geo_point", "POINT (4.9 52.3)"),
    ("object", {"a": 1}), ("flattened", {"a": {"b": "c"}}),
    ("long", None), ("keyword", [None, "a"]),
]  # fmt: skip

MISFITS = [
    ("keyword", 5, "takes a string"), ("keyword", True, "takes a string"), ("keyword", {"a": 1}, "takes a string"),
    ("keyword", ["a", 5], "item 1"), ("match_only_text", 1.5, "takes a string"),
    ("long", True, "takes an integer"), ("long", False, "takes an integer"), ("long", 1.0, "takes an integer"),
    ("long", "5", "takes an integer"), ("long", 2**63, "outside long's range"), ("long", -(2**63) - 1, "outside"),
    ("unsigned_long", -1, "outside"), ("unsigned_long", 2**64, "outside"), ("unsigned_long", True, "takes an integer"),
    ("integer", 2**31, "outside"), ("short", 2**15, "outside"), ("byte", -129, "outside"),
    ("double", True, "takes a number"), ("double", "1.5", "takes a number"), ("double", float("nan"), "finite"),
    ("double", float("inf"), "finite"), ("float", 1e39, "finite"), ("half_float", 70000, "finite"),
    ("double", 10**400, "too large"),
    ("boolean", 1, "true or false"), ("boolean", "true", "true or false"),
    ("date", "2026-11-22 00:32:18", "not an ISO 8601"), ("date", "22/11/2026", "not an ISO 8601"),
    ("date", "2026-13-01", "not a valid date"), ("date", "2026-02-30T00:00:00Z", "not a valid date"),
    ("date", "2026-11-22T25:00:00Z", "not a valid date"), ("date", "2026-11-22T00:00:00+19:00", "offset"),
    ("date", "2026-11-22T", "not an ISO 8601"), ("date", "1795307538000", "not an ISO 8601"), ("date", True, "bool"),
    ("date", 1.5, "ISO 8601 string or epoch"), ("date", 2**63, "outside"),
    ("ip", "10.0.0.256", "not an IPv4 or IPv6"), ("ip", "fe80::1%eth0", "scope"), ("ip", "010.0.0.1", "not an IPv4"),
    ("ip", "198.51.100.7:51820", "not an IPv4"), ("ip", 3232235521, "takes an address string"),
    ("geo_point", {"lat": 91, "lon": 0}, "outside -90..90"), ("geo_point", {"lat": 0, "lon": -181}, "outside -180..180"),
    ("geo_point", {"lat": True, "lon": 0}, "lat is not a number"), ("geo_point", {"lat": 1}, "not a geo point"),
    ("geo_point", {"lat": 1, "lon": 2, "alt": 3}, "not a geo point"), ("geo_point", "u173zq", "not a geo point"),
    ("object", "x", "takes an object"), ("flattened", [1], "item 0"),
]  # fmt: skip


@pytest.mark.parametrize(("es_type", "value"), FITS, ids=[f"{t}-{v!r:.30}" for t, v in FITS])
def test_value_fits(es_type, value):
    assert value_error(es_type, value) is None and value_fits(es_type, value)


@pytest.mark.parametrize(("es_type", "value", "why"), MISFITS, ids=[f"{t}-{v!r:.30}" for t, v, _ in MISFITS])
def test_value_does_not_fit(es_type, value, why):
    assert not value_fits(es_type, value)
    assert why in value_error(es_type, value)


def test_bool_is_not_a_number_and_u64_needs_unsigned_long():
    assert not value_fits("long", True) and not value_fits("unsigned_long", False) and not value_fits("double", True)
    nonce = 18446744073709551615  # lines.yaml: "Packet has invalid nonce 18446744073709551615"
    assert value_fits("unsigned_long", nonce) and not value_fits("long", nonce)
    assert value_fits("unsigned_long", 2**63) and not value_fits("long", 2**63)


def test_unknown_type_is_an_error_and_every_defined_type_is_known():
    with pytest.raises(ValueError, match="unknown Elasticsearch type"):
        value_fits("strng", "x")
    assert set(field_types().values()) <= TYPES


def test_check_document_reports_undefined_misfits_and_lists_of_objects():
    doc = {
        "@timestamp": "2026-11-22T00:32:18.000Z",
        "source": {"ip": "not an address", "geo": {"location": {"lat": 1, "lon": 2}}},
        "wireguard": {"peer": {"rx_bytes": 2**64 - 1, "tx_bytes": -1, "allowed_ips": [{"net": "10.0.0.0/8"}]}},
        "colour": "red",
        "event": {},
    }
    problems = check_document(doc)
    assert problems == [
        "source.ip: 'not an address' is not an IPv4 or IPv6 address (type ip)",
        "wireguard.peer.tx_bytes: -1 is outside unsigned_long's range 0..18446744073709551615 (type unsigned_long)",
        "wireguard.peer.allowed_ips: a list of objects ([{'net': '10.0.0.0/8'}])",
        "colour: not defined (value 'red')",
    ]
    assert dict(leaves(doc))["source.geo.location"] == {"lat": 1, "lon": 2}


# -- data stream names -----------------------------------------------------------------------


def test_data_stream_names_follow_fleet_from_any_document_shape() -> None:
    from wgsiem.mappings.datastreams import data_stream_index, data_stream_of

    nested = {"data_stream": {"type": "logs", "dataset": "wireguard.status", "namespace": "prod"}}
    assert data_stream_index(nested) == "logs-wireguard.status-prod"
    assert data_stream_index({"data_stream.type": "logs", "data_stream.dataset": "wireguard.log", "data_stream.namespace": "x"}) == "logs-wireguard.log-x"
    assert data_stream_index({"event": {"dataset": "wireguard.log"}}) == "logs-wireguard.log-default"
    assert data_stream_index({"data_stream": {"namespace": ["", "eu"]}}) == "logs-generic-eu"
    assert data_stream_of(".ds-logs-wireguard.status-prod-2026.11.22-000003") == "logs-wireguard.status-prod"
    assert data_stream_of("logs-wireguard.status-prod") == "logs-wireguard.status-prod"
