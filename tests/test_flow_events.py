"""wireguard.flow documents through the shipper's own path (`Shipper.process_interval`, as
`ship` and `convert` run it), on the real conntrack recording of fixtures/conntrack/: the
client namespace's addresses (10.98.0.2, fd98::2) are taken as a peer's allowed-ips."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from wgsiem.cli import app
from wgsiem.conntrack import ACCOUNTING_OFF, ConntrackRecord, parse_text
from wgsiem.ecs.document import Context
from wgsiem.mappings import check_document
from wgsiem.shipper import Shipper
from wgsiem.status.state import State
from wgsiem.wgdump import PresharedKeyHasher
from wgsiem.wgdump.raw import RawPoll

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "conntrack"
HUB = "orOXttlXUG+KUfGVl5AQWAjdBTT8Qp8XAuisqpT4l2c="
PEER = "2jWJiAhH1s9INxwrv9NEXtoeZIan0eAPfbPSDyHjAUY="
OTHER = "xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg="
PEER_LINE = f"wg0\t{PEER}\t(none)\t198.51.100.2:48302\t10.98.0.2/32,fd98::2/128\t0\t0\t0\toff"
# The recording's records, from 1796448685 to 1796448690.
BEFORE, AFTER = 1796448680, 1796448700


def dump(*peers: str) -> str:
    return "\n".join([f"wg0\t(redacted)\t{HUB}\t51820\toff", *peers]) + "\n"


def records(name: str = "acct-on.log") -> list[ConntrackRecord]:
    found, problems = parse_text((FIXTURES / name).read_text(), name)
    assert not problems
    return found


def shipper(**kwargs: Any) -> Shipper:
    context = Context(host_name="gw1", names={PEER: "alice-laptop", OTHER: "bob-phone"})
    return Shipper(State(), PresharedKeyHasher(b"k" * 32), context, **kwargs)


def run(ship: Shipper, first: str, second: str, flows: list[ConntrackRecord]) -> tuple[list[dict[str, Any]], list[str]]:
    """A poll before the records and one after them, as `ship` processes them."""
    list(ship.process_interval([], RawPoll(time=BEFORE, stdout=first))[1].documents)
    docs, outcome = ship.process_interval([], RawPoll(time=AFTER, stdout=second), flows)
    list(outcome.documents)
    return docs, outcome.notices


def test_each_connection_is_a_started_and_an_ended_document_of_the_peer():
    flows = records()
    docs, notices = run(shipper(), dump(PEER_LINE), dump(PEER_LINE), flows)
    assert docs and not notices
    assert all(d["event"]["dataset"] == "wireguard.flow" and d["data_stream"]["dataset"] == "wireguard.flow" for d in docs)
    assert all(d["wireguard"]["peer"] == {"public_key": PEER, "name": "alice-laptop"} and d["user"]["name"] == "alice-laptop" for d in docs)
    assert [d["@timestamp"] for d in docs] == sorted(d["@timestamp"] for d in docs)
    started = [d for d in docs if d["event"]["action"] == "flow-started"]
    ended = {d["wireguard"]["flow"]["conntrack_id"]: d for d in docs if d["event"]["action"] == "flow-ended"}
    assert len(started) == sum(r.event == "NEW" for r in flows)
    assert len(ended) == sum(r.event == "DESTROY" for r in flows)
    # The tcp connection that sent 100,000 bytes to the database port and got 50,000 back.
    big = ended[794240106]
    assert big["source"] == {"ip": "10.98.0.2", "port": big["source"]["port"], "bytes": 100744, "packets": 14}
    assert big["destination"] == {"ip": "10.98.0.1", "port": 5432, "bytes": 50632, "packets": 12}
    assert big["network"]["bytes"] == 100744 + 50632 and big["network"]["packets"] == 26
    assert big["network"]["direction"] == "inbound" and big["network"]["transport"] == "tcp" and big["network"]["iana_number"] == "6"
    assert big["event"]["duration"] == 2 * 10**9 and big["event"]["type"] == ["connection", "end"]
    assert big["wireguard"]["flow"]["state"] == "TIME_WAIT" and big["wireguard"]["flow"]["allowed_ip"] == "10.98.0.2/32"
    assert "protocol" not in big["network"]  # the inner application protocol is not known
    assert "ended after 2s, 100.7 KB sent, 50.6 KB received" in big["message"]
    opened = next(d for d in started if d["wireguard"]["flow"]["conntrack_id"] == 794240106)
    assert opened["network"]["community_id"] == big["network"]["community_id"]
    assert opened["message"].startswith("alice-laptop opened tcp 10.98.0.2:")
    # Every field is one the templates define, with a value that fits it; ids are unique.
    for doc in docs:
        assert not check_document(doc), doc
    assert len({d["event"]["id"] for d in docs}) == len(docs)
    icmp6 = next(d for d in docs if d["network"].get("transport") == "ipv6-icmp")
    assert icmp6["network"]["type"] == "ipv6" and "port" not in icmp6["source"]


def test_the_same_input_gives_the_same_documents():
    first = run(shipper(), dump(PEER_LINE), dump(PEER_LINE), records())[0]
    again = run(shipper(), dump(PEER_LINE), dump(PEER_LINE), records())[0]
    assert first == again


def test_a_flow_before_the_poll_that_shows_its_peer_is_attributed_with_that_poll():
    # The peer is added between the two polls; its first connections come before the poll
    # that shows it: the poll before has no peer for them, the one after has.
    docs, _ = run(shipper(), dump(), dump(PEER_LINE), records())
    assert docs and all(d["wireguard"]["peer"]["public_key"] == PEER for d in docs)


def test_flows_of_no_peer_are_dropped_and_counted():
    ship = shipper()
    docs, _ = run(ship, dump(), dump(), records())
    assert docs == []
    assert ship.flows.counts["no-peer"] == sum(r.event in ("NEW", "DESTROY") for r in records())


def test_flow_events_ended_writes_only_the_ends_with_their_start():
    docs, _ = run(shipper(flow_events="ended"), dump(PEER_LINE), dump(PEER_LINE), records())
    assert docs and {d["event"]["action"] for d in docs} == {"flow-ended"}
    big = next(d for d in docs if d["wireguard"]["flow"]["conntrack_id"] == 794240106)
    assert big["event"]["start"] < big["event"]["end"]


def test_accounting_off_is_said_once_and_the_totals_are_left_out():
    ship = shipper()
    flows = records("acct-off.log")
    docs, notices = run(ship, dump(PEER_LINE), dump(PEER_LINE), flows)
    assert notices == [ACCOUNTING_OFF] and "nf_conntrack_acct=1" in notices[0]
    ended = [d for d in docs if d["event"]["action"] == "flow-ended"]
    assert ended and all("bytes" not in d["source"] and "bytes" not in d["network"] for d in ended)
    assert all("an unknown number of bytes sent" in d["message"] for d in ended)
    # Said once: the next interval's flows without counters say nothing again.
    _, outcome = ship.process_interval([], RawPoll(time=AFTER + 30, stdout=dump(PEER_LINE)), flows)
    assert outcome.notices == []


def test_a_peer_reaching_another_peers_address_names_it():
    # 10.98.0.1 (the server of the recording) as a second peer's address: peer to peer.
    other = f"wg0\t{OTHER}\t(none)\t203.0.113.9:51000\t10.98.0.1/32\t0\t0\t0\toff"
    docs, _ = run(shipper(), dump(PEER_LINE, other), dump(PEER_LINE, other), records())
    to_bob = [d for d in docs if d["destination"]["ip"] == "10.98.0.1"]
    assert to_bob and all(
        d["wireguard"]["flow"]["destination_peer"] == {"public_key": OTHER, "name": "bob-phone"}
        and d["wireguard"]["peer"]["public_key"] == PEER
        for d in to_bob
    )


def test_an_allowed_ips_change_moves_later_flows_to_the_new_owner():
    ship = shipper()
    flows = [r for r in records() if r.event == "NEW" and r.original.src == "10.98.0.2"]
    run(ship, dump(PEER_LINE), dump(PEER_LINE), [])
    moved = PEER_LINE.replace(PEER, OTHER)
    list(ship.process_interval([], RawPoll(time=AFTER + 30, stdout=dump(moved)))[1].documents)
    docs, outcome = ship.process_interval([], RawPoll(time=AFTER + 60, stdout=dump(moved)), flows)
    list(outcome.documents)
    assert docs and {d["wireguard"]["peer"]["public_key"] for d in docs} == {OTHER}


def test_convert_reads_the_captures_conntrack_log(tmp_path: Path, caplog: pytest.LogCaptureFixture):
    caplog.set_level(logging.INFO, "wgsiem")
    capture = tmp_path / "capture"
    capture.mkdir()
    for time in (BEFORE, AFTER):
        (capture / f"{time}.dump").write_text(dump(PEER_LINE))
    (capture / "conntrack.log").write_text((FIXTURES / "acct-on.log").read_text() + "[1796448690.1]\tnot a conntrack line\n")
    result = CliRunner().invoke(app, ["convert", str(capture), "--host-name", "gw1"])
    assert result.exit_code == 0, result.output
    docs = [json.loads(line) for line in result.stdout.splitlines()]
    flows = [d for d in docs if d["event"]["dataset"] == "wireguard.flow"]
    assert len(flows) == sum(r.event in ("NEW", "DESTROY") for r in records())
    # The bad line is named with its file and line, and the run went on.
    bad_line = len((FIXTURES / "acct-on.log").read_text().splitlines()) + 1
    assert f"malformed conntrack line skipped: {capture / 'conntrack.log'}:{bad_line}: protocol:" in caplog.text
    assert "45 conntrack records, 1 malformed lines skipped, 21 updates dropped" in caplog.text
    # --conntrack-log names another file, for a capture without its own.
    (capture / "conntrack.log").unlink()
    plain = CliRunner().invoke(app, ["convert", str(capture), "--host-name", "gw1"])
    assert not any('"wireguard.flow"' in line for line in plain.stdout.splitlines())
    named = CliRunner().invoke(app, ["convert", str(capture), "--host-name", "gw1", "--conntrack-log", str(FIXTURES / "acct-on.log")])
    assert [json.loads(x) for x in named.stdout.splitlines() if '"wireguard.flow"' in x] == flows


def test_a_roaming_peers_new_endpoint_is_the_tunnel_not_a_flow():
    ship = shipper()
    run(ship, dump(PEER_LINE), dump(PEER_LINE), [])
    ship.routes()
    roamed = PEER_LINE.replace("198.51.100.2:48302", "203.0.113.50:40000")
    list(ship.process_interval([], RawPoll(time=AFTER + 30, stdout=dump(roamed)))[1].documents)
    (outer,), _ = parse_text(
        "[1796448730.000000]\t    [NEW] ipv4     2 udp      17 30 src=203.0.113.50 dst=192.0.2.1 sport=40000 dport=51820"
        " [UNREPLIED] src=192.0.2.1 dst=203.0.113.50 sport=51820 dport=40000 id=7\n"
    )
    docs, outcome = ship.process_interval([], RawPoll(time=AFTER + 60, stdout=dump(roamed)), [outer])
    list(outcome.documents)
    assert docs == [] and ship.flows.counts["tunnel"] == 1
