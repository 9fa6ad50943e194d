"""The raw-line pipeline (ingest_pipelines/logs-wireguard-raw.yml) against wgsiem's own parser.

Parity: for every kernel and wg-quick fixture line, the offline engine running the pipeline
gives the same action and fields as `Shipper.process_log` does for the same line — all
the fields that come from the line itself. Not compared, by design: what needs the
shipper's state (the peer's key and name), `message` (the shipper writes a sentence
naming the peer; the pipeline keeps the line), `event.id` (Filebeat documents have their
own), and `@timestamp` where the line has no absolute time (dmesg, or syslog without a
year). IP addresses compare by value: the kernel prints IPv6 destinations in full
(%pI6) and Elasticsearch's `ip` type, like the shipper, reads them as one address. The
nonces compare by value too: they reach 2^64-1, past grok's `long`, so the pipeline
keeps their digits, which an `unsigned_long` field indexes as the same number.
"""

from __future__ import annotations

import copy
import ipaddress
import json
import secrets
from pathlib import Path
from typing import Any

import pytest
import yaml

from wgsiem.content import INGEST_PIPELINES
from wgsiem.ecs.document import Context
from wgsiem.ingest.document import IngestDocument
from wgsiem.ingest.errors import DropDocument
from wgsiem.kernlog.framing import LogRecord, frame
from wgsiem.pipelines.files import load_pipelines, read_body
from wgsiem.pipelines.raw_grok import expected
from wgsiem.pipelines.testing import flatten
from wgsiem.shipper import Shipper
from wgsiem.status.state import State
from wgsiem.wgdump import PresharedKeyHasher

REPO = Path(__file__).resolve().parents[1]
LINES = yaml.safe_load((REPO / "fixtures" / "kernel" / "lines.yaml").read_text())
FRAMINGS = REPO / "fixtures" / "kernel" / "framings"
T0 = 1_795_306_663

PARITY_FIELDS = (
    "event.action", "event.kind", "event.category", "event.type", "event.outcome", "event.module",
    "event.dataset", "wireguard.log", "wireguard.interface.name", "observer.ingress.interface.name",
    "source.ip", "source.port", "source.address", "network.type", "destination.ip", "error.code",
    "process.name", "process.command_line", "process.pid", "related.ip", "log.syslog.hostname",
    "data_stream.type", "data_stream.dataset", "observer.type", "observer.vendor", "network.protocol",
    "network.transport",
)  # fmt: skip
IP_FIELDS = {"source.ip", "destination.ip", "wireguard.log.inner_source_ip"}
U64_AS_TEXT = {"wireguard.log.nonce", "wireguard.log.nonce_max"}


@pytest.fixture(scope="module")
def raw_pipeline(tmp_path_factory: pytest.TempPathFactory):
    from wgsiem.geoworld import DEFAULT_SOURCE, build_world

    geo = tmp_path_factory.mktemp("geo")
    build_world(DEFAULT_SOURCE, geo)
    return load_pipelines(INGEST_PIPELINES, [geo])["logs-wireguard-raw"]


def comparable(doc: dict[str, Any], with_time: bool) -> dict[str, Any]:
    out = {}
    for name, value in flatten(doc).items():
        if not any(name == f or name.startswith(f + ".") for f in PARITY_FIELDS + (("@timestamp",) if with_time else ())):
            continue
        if name in IP_FIELDS:
            value = str(ipaddress.ip_address(value))
        if name in U64_AS_TEXT:
            value = int(value)
        if name == "related.ip":
            value = sorted(str(ipaddress.ip_address(v)) for v in value)
        out[name] = value
    return out


def shipper_doc(record: LogRecord, time: float) -> dict[str, Any] | None:
    shipper = Shipper(State(), PresharedKeyHasher(secrets.token_bytes(32)), Context(host_name="vpn1", names={}))
    docs = shipper.process_log([(record, time)])
    return docs[0] if docs else None


def pipeline_doc(pipeline, source: dict[str, Any]) -> dict[str, Any] | None:
    doc = IngestDocument.from_source(copy.deepcopy(source), index="logs-wireguard.log-default")
    try:
        pipeline.execute(doc)
    except DropDocument:
        return None
    out = doc.source()
    assert out.get("event", {}).get("kind") != "pipeline_error", out.get("error")
    return out


def check(pipeline, record: LogRecord, source: dict[str, Any], time: float, with_time: bool, ignore: tuple[str, ...] = ()) -> None:
    ours = shipper_doc(record, time)
    theirs = pipeline_doc(pipeline, source)
    if ours is None:
        assert theirs is None, f"the pipeline kept a line the parser says is not WireGuard's: {theirs}"
        return
    assert theirs is not None, "the pipeline dropped a WireGuard line"
    mine, wanted = comparable(theirs, with_time), comparable(ours, with_time)
    for name in ignore:
        mine.pop(name, None)
        wanted.pop(name, None)
    assert mine == wanted


def test_pipeline_grok_is_messages_yaml() -> None:
    """The pipeline's patterns and catalogue say what messages.yaml says (no drift)."""
    body = read_body(INGEST_PIPELINES / "logs-wireguard-raw.yml")
    by_tag = {p[t].get("tag"): p[t] for p in body["processors"] for t in p}
    want = expected()
    assert by_tag["kernel-message"]["patterns"] == want["patterns"]["kernel"]
    assert by_tag["wg-quick-message"]["patterns"] == want["patterns"]["wg-quick"]
    assert by_tag["kernel-message"]["pattern_definitions"] == want["pattern_definitions"]
    assert by_tag["wg-quick-message"]["pattern_definitions"] == want["pattern_definitions"]
    assert by_tag["catalogue"]["value"] == want["catalogue"]
    assert by_tag["wg-quick-interface"]["patterns"] == want["interface_patterns"]


@pytest.mark.parametrize("case", LINES, ids=[c["line"][:70] for c in LINES])
def test_parity_every_line_format(raw_pipeline, case) -> None:
    line = case["line"]
    record = LogRecord(original=line, message=line, time=None, monotonic=None, host=None, program=None, pid=None, cursor=None)
    check(raw_pipeline, record, {"message": line}, T0, with_time=False)


def _framing_cases() -> list[tuple[str, int, str]]:
    cases = []
    for path in sorted(FRAMINGS.iterdir()):
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if line.strip():
                cases.append((path.name, number, line))
    return cases


@pytest.mark.parametrize(("name", "number", "line"), _framing_cases(), ids=[f"{n}:{i}" for n, i, _ in _framing_cases()])
def test_parity_every_framing(raw_pipeline, name: str, number: int, line: str) -> None:
    record = frame(line)
    assert record is not None
    time = record.time if record.time is not None else T0
    if name == "journal.json":
        # Filebeat's journald input: MESSAGE in message; SYSLOG_IDENTIFIER and _PID translated.
        entry = json.loads(line)
        source: dict[str, Any] = {"message": entry["MESSAGE"]}
        if "SYSLOG_IDENTIFIER" in entry:
            source["syslog"] = {"identifier": entry["SYSLOG_IDENTIFIER"]}
        if "_PID" in entry:
            source["journald"] = {"pid": int(entry["_PID"])}
        # Filebeat puts _HOSTNAME in host.hostname, which is not the line's own header.
        check(raw_pipeline, record, source, time, with_time=False, ignore=("log.syslog.hostname",))
    else:
        # Files: the whole line in message; ISO timestamps carry the year and zone.
        check(raw_pipeline, record, {"message": line}, time, with_time=name.startswith("journal-short-iso"))


def test_pipeline_outputs_use_only_defined_fields() -> None:
    """Every document the pipeline tests expect (documents marked pipeline_error aside, which
    carry the bad input on purpose) has only fields ecs_mappings/ defines, with fitting values."""
    from wgsiem.mappings.fields import check_document

    checked = 0
    for path in sorted((INGEST_PIPELINES / "_dev" / "test" / "pipeline").glob("*/*-expected.json")):
        for index, doc in enumerate(json.loads(path.read_text())["expected"]):
            if doc is None or doc.get("event", {}).get("kind") == "pipeline_error":
                continue
            assert check_document(doc) == [], f"{path.name} event {index}"
            checked += 1
    assert checked > 30
