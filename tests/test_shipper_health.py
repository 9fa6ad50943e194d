"""The shipper's own health as an event: the builder (counts over an interval, outcome), the
ship loop's clock for it (start-up, every --health-interval, between polls if need be), a
real `wgsiem ship` with a failing `wg`, and the Kibana rule for a host that stopped sending."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from tests.support.dumps import FakeInterface, dump
from wgsiem.cli.setup import make_shipper
from wgsiem.cli.ship import run_loop
from wgsiem.config import ShipConfig
from wgsiem.ecs.document import Context
from wgsiem.ecs.health import COUNTS, FAILURES, Health, build
from wgsiem.mappings import check_document
from wgsiem.status.state import State
from wgsiem.wgdump.raw import RawPoll

REPO = Path(__file__).resolve().parents[1]
T0 = 1_790_000_000
CTX = Context(host_name="vpn1")


def flat(doc: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in doc.items():
        if isinstance(value, dict):
            out.update(flat(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out


# -- the builder -----------------------------------------------------------------------------


def test_counts_are_the_interval_and_gauges_are_now():
    since = Health(polls=20, poll_failures=2, wg_errors=2, malformed_lines=1, documents_written=100, dropped_documents=5,
                   last_success=T0 - 400, spooled_documents=9, spooled_bytes=900)  # fmt: skip
    now = Health(polls=30, poll_failures=2, wg_errors=2, malformed_lines=1, documents_written=142, dropped_documents=5,
                 last_success=T0 - 10, spooled_documents=3, spooled_bytes=300, log_lines=77)  # fmt: skip
    doc = build(since, T0 - 300, now, T0, CTX)
    assert doc["wireguard"]["shipper"] == {
        "polls": 10, "poll_failures": 0, "wg_errors": 0, "malformed_lines": 0, "documents_written": 42, "dropped_documents": 0,
        "spool_documents": 3, "spool_bytes": 300, "last_successful_poll": "2026-09-21T14:13:10.000Z",
        "version": doc["wireguard"]["shipper"]["version"],
    }  # fmt: skip
    ev = doc["event"]
    assert (ev["action"], ev["dataset"], ev["kind"], ev["outcome"]) == ("shipper-health", "wireguard.status", "metric", "success")
    assert (ev["start"], ev["end"], doc["@timestamp"]) == ("2026-09-21T14:08:20.000Z", "2026-09-21T14:13:20.000Z", "2026-09-21T14:13:20.000Z")
    assert ev["duration"] == 300 * 1_000_000_000
    assert doc["host"]["name"] == "vpn1" and doc["data_stream"]["dataset"] == "wireguard.status"
    assert doc["message"] == (
        "shipper health: 10 polls (0 failed, 0 with wg errors), 0 malformed lines, 42 documents written, 0 dropped, 3 spooled: success"
    )
    assert check_document(doc) == []


@pytest.mark.parametrize("failure", FAILURES)
def test_any_failure_in_the_interval_makes_it_a_failure(failure):
    since = Health(polls=5, **{failure: 3})
    now = Health(polls=15, **{failure: 4})
    doc = build(since, T0 - 300, now, T0, CTX)
    assert doc["event"]["outcome"] == "failure" and doc["wireguard"]["shipper"][failure] == 1


def test_failures_before_the_interval_and_work_done_are_a_success():
    since = Health(polls=5, poll_failures=3, wg_errors=3, malformed_lines=2, dropped_documents=9)
    now = Health(polls=15, poll_failures=3, wg_errors=3, malformed_lines=2, dropped_documents=9, documents_written=50, log_lines=8,
                 spooled_documents=1000, spooled_bytes=10**6)  # fmt: skip
    doc = build(since, T0 - 300, now, T0, CTX)
    assert doc["event"]["outcome"] == "success"
    assert {k: doc["wireguard"]["shipper"][k] for k in COUNTS} == {
        "polls": 10, "poll_failures": 0, "wg_errors": 0, "malformed_lines": 0, "documents_written": 50, "dropped_documents": 0,
    }  # fmt: skip


def test_no_successful_poll_yet_leaves_the_date_out_and_the_id_follows_the_numbers():
    doc = build(Health(), T0, Health(polls=1, poll_failures=1), T0, CTX)
    assert "last_successful_poll" not in doc["wireguard"]["shipper"] and doc["event"]["duration"] == 0
    assert doc["event"]["outcome"] == "failure"
    again = build(Health(), T0, Health(polls=1, poll_failures=1), T0, CTX)
    other = build(Health(), T0, Health(polls=1), T0, CTX)
    elsewhere = build(Health(), T0, Health(polls=1, poll_failures=1), T0, Context(host_name="vpn2"))
    assert doc == again
    assert len({doc["event"]["id"], other["event"]["id"], elsewhere["event"]["id"]}) == 3


def test_the_health_event_holds_numbers_and_names_only():
    """No peer, endpoint, interface or key can be in it: the fields are exactly these."""
    doc = build(Health(), T0 - 300, Health(polls=10, poll_failures=1, last_success=T0 - 30, spooled_documents=2), T0, CTX)
    assert set(flat(doc)) == {
        "@timestamp", "ecs.version", "data_stream.type", "data_stream.dataset", "data_stream.namespace", "message",
        "event.module", "event.dataset", "event.action", "event.kind", "event.category", "event.type", "event.outcome",
        "event.start", "event.end", "event.duration", "event.id", "host.name", "host.hostname",
        "observer.type", "observer.vendor", "observer.product", "observer.hostname",
        *(f"wireguard.shipper.{k}" for k in (*COUNTS, "spool_documents", "spool_bytes", "last_successful_poll", "version")),
    }  # fmt: skip
    assert not re.search(r"[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=", json.dumps(doc))  # nothing shaped like a WireGuard key


# -- the ship loop -----------------------------------------------------------------------------


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class Sleep(threading.Event):
    """run_loop's stop event, on the fake clock: a wait moves the clock; set once it reaches `until`."""

    def __init__(self, clock: Clock, until: float) -> None:
        super().__init__()
        self.clock = clock
        self.until = until

    def wait(self, timeout: float | None = None) -> bool:
        assert timeout is not None and timeout > 0
        self.clock.now += timeout
        if self.clock.now >= self.until:
            self.set()
        return self.is_set()


class Collect:
    def __init__(self) -> None:
        self.docs: list[dict] = []

    def write_batch(self, docs) -> int:
        batch = list(docs)
        self.docs += batch
        return len(batch)

    def close(self) -> None:
        pass


def good() -> str:
    wg0 = FakeInterface()
    wg0.peer("alice", endpoint="198.51.100.7:51820", allowed_ips="10.0.0.2/32", handshake=T0 - 5, rx=10, tx=20)
    return dump(wg0)


def loop(tmp_path: Path, answers: dict[int, RawPoll], until: float, *, once: bool = False, **settings: Any) -> tuple[list[dict], float]:
    cfg = ShipConfig(state_dir=tmp_path, host_name="vpn1", **settings)
    shipper = make_shipper(cfg, os.urandom(32), {}, State())
    clock = Clock(float(T0))  # time.time(): a float, and event.id hashes the time as given
    out = Collect()
    polled = []

    def poll(t: int) -> RawPoll:
        polled.append(t)
        return answers.get(t) or RawPoll(t, good())

    run_loop(cfg, shipper, out, poll, clock, Sleep(clock, until), once=once)
    if answers:
        assert polled == sorted(answers)
    return [d for d in out.docs if d["event"]["action"] == "shipper-health"], clock.now


def test_ship_writes_one_at_start_up_and_one_every_interval_counting_what_failed(tmp_path):
    answers = {
        T0: RawPoll(T0, good()),
        T0 + 30: RawPoll(T0 + 30, "", failure="'wg' not found: install wireguard-tools or pass --wg PATH"),  # wg did not run
        T0 + 60: RawPoll(T0 + 60, good(), "Unable to access interface wg1: No such device\n", exit_status=1),
        T0 + 90: RawPoll(T0 + 90, good(), exit_status=0),
        T0 + 120: RawPoll(T0 + 120, good() + "wg0\tgarbage\n", exit_status=0),
    }
    health, _ = loop(tmp_path, answers, T0 + 130, interval=30.0, health_interval=60.0)
    shipper = [h["wireguard"]["shipper"] for h in health]
    assert [h["@timestamp"][11:19] for h in health] == ["14:13:20", "14:14:20", "14:15:20"]
    assert [h["event"]["outcome"] for h in health] == ["success", "failure", "failure"]
    assert [(s["polls"], s["poll_failures"], s["wg_errors"], s["malformed_lines"]) for s in shipper] == [(1, 0, 0, 0), (2, 1, 1, 0), (2, 0, 0, 1)]
    # The baseline's two documents, then the health event before each later interval.
    assert shipper[0]["documents_written"] == 2 and shipper[1]["documents_written"] >= 1
    assert [h["event"]["start"][11:19] for h in health] == ["14:13:20", "14:13:20", "14:14:20"]
    # The poll at T0 + 30 failed: the last successful poll is the one before it, then the later ones.
    assert [s["last_successful_poll"][11:19] for s in shipper] == ["14:13:20", "14:14:20", "14:15:20"]
    assert all(check_document(h) == [] for h in health)


def test_a_health_interval_shorter_than_the_poll_interval_writes_between_polls(tmp_path):
    health, stopped = loop(tmp_path, {}, T0 + 150, interval=100.0, health_interval=30.0)
    assert [h["@timestamp"][11:19] for h in health] == ["14:13:20", "14:13:50", "14:14:20", "14:14:50", "14:15:20"]
    assert [h["wireguard"]["shipper"]["polls"] for h in health] == [1, 0, 0, 0, 1]
    assert stopped == T0 + 150


@pytest.mark.parametrize(("once", "every"), [(True, 300.0), (False, 0.0)], ids=["--once", "--health-interval 0"])
def test_no_health_events_with_once_or_an_interval_of_zero(tmp_path, once, every):
    health, _ = loop(tmp_path, {}, T0 + 100, once=once, interval=30.0, health_interval=every)
    assert health == []


def test_the_setting_is_checked():
    from wgsiem.config import ConfigError, load_config

    assert load_config(None, {"health_interval": 0.0}).health_interval == 0
    with pytest.raises(ConfigError, match="health_interval must be 0"):
        load_config(None, {"health_interval": -1.0})


# -- replay: the same events from a capture ---------------------------------------------------------

DENIED = "Unable to access interface wg0: Operation not permitted\n"


def capture(tmp_path: Path, times: list[int], failing: set[int]) -> list[RawPoll]:
    """A capture as `wgsiem replay` reads it: a failed poll is an empty dump and its .exit.json."""
    from wgsiem.adapters.capture import exit_text, read_capture, write_poll

    folder = tmp_path / "captures"
    for t in times:
        write_poll(folder, t, "" if t in failing else good())
        if t in failing:
            (folder / f"{t}.exit.json").write_text(exit_text(1, DENIED))
    return list(read_capture(folder))


@pytest.mark.parametrize(("interval", "every"), [(30, 60.0), (30, 300.0), (100, 30.0)])
def test_replay_writes_the_health_events_ship_writes_for_the_same_polls(tmp_path, interval, every):
    from wgsiem.replay.capture import with_health

    times = [T0 + interval * i for i in range(12)]
    polls = capture(tmp_path, times, failing={times[3], times[4], times[9]})
    assert [p.failure is not None for p in polls].count(True) == 3 and polls[3].exit_status == 1 and polls[3].stderr == DENIED
    # ship stops just after the last poll: no health event falls due in between.
    shipped, _ = loop(tmp_path / "ship", {p.time: p for p in polls}, times[-1] + 1, interval=float(interval), health_interval=every)
    shipper = make_shipper(ShipConfig(state_dir=tmp_path / "replay", host_name="vpn1"), os.urandom(32), {}, State())
    docs = list(with_health(shipper, polls, [], every))
    replayed = [d for d in docs if d["event"]["action"] == "shipper-health"]
    assert replayed == shipped and len(shipped) >= 2  # event.id included
    assert shipped[0]["event"]["outcome"] == "success" and "failure" in {h["event"]["outcome"] for h in shipped}
    assert docs.index(replayed[0]) == 2  # the start-up event follows the baseline's two documents


# -- wgsiem ship, for real -------------------------------------------------------------------------


def test_ship_reports_its_start_then_a_failing_wg(tmp_path):
    """A `wg` that works, then fails as it does without CAP_NET_ADMIN: the start-up health event
    says success, a later one counts the failed polls; SIGTERM stops it cleanly."""
    (tmp_path / "dump").write_text(good())
    fail = tmp_path / "fail"
    wg = tmp_path / "wg"
    wg.write_text(f"#!/bin/sh\nif [ -e '{fail}' ]; then echo 'Unable to access interface: Operation not permitted' >&2; exit 1; fi\n"
                  f"cat '{tmp_path / 'dump'}'\n")  # fmt: skip
    wg.chmod(0o755)
    out = tmp_path / "out.ndjson"
    proc = subprocess.Popen(
        [sys.executable, "-m", "wgsiem", "ship", "--wg", str(wg), "--state-dir", str(tmp_path / "state"), "--output-file", str(out),
         "--host-name", "vpn1", "--wg-config-dir", str(tmp_path / "none"), "--kernel-log", "off",
         "--interval", "0.2", "--health-interval", "1"],
        cwd=REPO, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip

    def health() -> list[dict]:
        docs = [json.loads(line) for line in out.read_text().splitlines()] if out.exists() else []
        return [d for d in docs if d["event"]["action"] == "shipper-health"]

    try:
        deadline = time.monotonic() + 30
        while not health():
            assert time.monotonic() < deadline and proc.poll() is None
            time.sleep(0.05)
        fail.touch()
        while not any(h["wireguard"]["shipper"]["poll_failures"] for h in health()):
            assert time.monotonic() < deadline and proc.poll() is None
            time.sleep(0.05)
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == 1, err  # the last poll failed
    first, *later = health()
    assert first["event"]["outcome"] == "success" and first["wireguard"]["shipper"]["polls"] == 1
    assert first["wireguard"]["shipper"]["documents_written"] == 2  # interface-discovered, peer-discovered
    failing = next(h for h in later if h["wireguard"]["shipper"]["poll_failures"])
    shipper = failing["wireguard"]["shipper"]
    assert failing["event"]["outcome"] == "failure" and shipper["wg_errors"] == shipper["poll_failures"] > 0
    assert "wg could not read the interfaces: Operation not permitted" in err


# -- the Kibana rule for a host that stopped sending -------------------------------------------------

STACK_RULE = REPO / "detection_rules" / "stack" / "host_stopped_sending.json"
SCHEMA = REPO / "detection_rules" / "schemas" / "kibana-custom-threshold-rule.schema.json"


def problems(body: dict) -> list[str]:
    schema = json.loads(SCHEMA.read_text())
    validator = jsonschema.Draft202012Validator(schema)
    return sorted(f"{'.'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(body))


def test_the_host_stopped_sending_rule_fits_kibanas_schema():
    jsonschema.Draft202012Validator.check_schema(json.loads(SCHEMA.read_text()))
    body = json.loads(STACK_RULE.read_text())
    assert problems(body) == []
    params = body["params"]
    assert body["rule_type_id"] == "observability.rules.custom_threshold"
    assert params["alertOnGroupDisappear"] is True and params["alertOnNoData"] is True and params["groupBy"] == ["host.name"]
    (criterion,) = params["criteria"]
    assert criterion["metrics"] == [{"name": "A", "aggType": "count"}]
    # Three health intervals of the default 300 s: one late event is no outage.
    assert (criterion["timeSize"], criterion["timeUnit"]) == (15, "m") and criterion["timeSize"] * 60 == 3 * ShipConfig().health_interval
    search = params["searchConfiguration"]
    assert search["index"]["title"] == "logs-wireguard.status-*" and search["index"]["timeFieldName"] == "@timestamp"
    assert search["query"] == {"language": "kuery", "query": 'event.action:"shipper-health"'}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda b: b["params"]["criteria"][0]["metrics"][0].update(field="host.name"), "is not valid under any of the given schemas"),
        (lambda b: b["params"]["criteria"][0].update(comparator="below"), "'below' is not one of"),
        (lambda b: b["params"]["searchConfiguration"]["index"].update(timeField="@timestamp"), "is not valid under any of the given schemas"),
        (lambda b: b["params"].pop("searchConfiguration"), "'searchConfiguration' is a required property"),
        (lambda b: b["schedule"].update(interval="5 minutes"), "does not match"),
        (lambda b: b.update(rule_type_id="metrics.alert.threshold"), "was expected"),
        (lambda b: b["params"].update(alertOnGroupDisappear="yes"), "is not of type 'boolean'"),
    ],
    ids=["count-with-field", "comparator", "index-key", "no-search", "interval", "rule-type", "flag-type"],
)
def test_the_schema_refuses_what_kibana_refuses(change, message):
    body = json.loads(STACK_RULE.read_text())
    change(body)
    found = problems(body)
    assert any(message in p for p in found), found


def test_the_rule_and_its_alternative_are_documented():
    text = (REPO / "docs" / "operate.md").read_text()
    section = text[text.index("## When a host stops sending") :]
    section = section[: section.index("\n## ", 1)]
    for needle in ("detection_rules/stack/host_stopped_sending.json", "alertOnGroupDisappear", "alertOnNoData", "custom_threshold.nodata",
                   "wgsiem_last_successful_poll_timestamp_seconds", "--health-interval", "WireGuard Shipper Reporting Failures"):  # fmt: skip
        assert needle in section, needle
