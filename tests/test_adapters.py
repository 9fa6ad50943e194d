"""The edges: state file, install secret, NDJSON output, capture directories, wg runner."""

from __future__ import annotations

import json
import os
import stat

import pytest

from tests.support.dumps import FakeInterface, dump
from wgsiem.adapters import files
from wgsiem.adapters.capture import CaptureError, read_capture, write_poll
from wgsiem.adapters.output import NdjsonFileOutput
from wgsiem.adapters.secret import SecretError, load_or_create_secret
from wgsiem.adapters.statefile import load_state, save_state
from wgsiem.adapters.wg import run_wg
from wgsiem.status.diff import StatusDiffer
from wgsiem.status.state import State, StateError
from wgsiem.wgdump import DumpParser, PresharedKeyHasher


def busy_state() -> State:
    wg0 = FakeInterface()
    wg0.peer("alice", endpoint="[fe80::1%eth0]:5", allowed_ips="10.0.0.2/32,fd00::2/128", handshake=99, rx=5, tx=6,
             psk="x" * 43 + "=", keepalive="25")  # fmt: skip
    wg0.peer("bob")
    differ = StatusDiffer(State())
    parser = DumpParser(PresharedKeyHasher(b"s" * 32))
    differ.apply(parser.parse(dump(wg0), 100))
    return differ.state


def test_state_round_trip(tmp_path):
    state = busy_state()
    save_state(tmp_path / "state.json", state)
    loaded = load_state(tmp_path / "state.json")
    assert loaded == state
    assert stat.S_IMODE(os.stat(tmp_path / "state.json").st_mode) == 0o600


def test_missing_state_is_a_new_install(tmp_path):
    assert load_state(tmp_path / "nope.json").is_new


@pytest.mark.parametrize("content", [b"{", b"[]", b'{"version": 99}', b'{"version":1,"last_poll":1,"interfaces":{"wg0":{}}}'])
def test_damaged_state_is_refused_with_a_clear_error(tmp_path, content):
    path = tmp_path / "state.json"
    path.write_bytes(content)
    with pytest.raises(StateError, match=str(path)):
        load_state(path)


def test_crash_mid_write_leaves_the_old_state(tmp_path, monkeypatch):
    path = tmp_path / "state.json"
    save_state(path, State(last_poll=1))

    def crash(*args):
        raise OSError("disk on fire")

    monkeypatch.setattr(files.os, "replace", crash)
    with pytest.raises(OSError):
        save_state(path, busy_state())
    assert load_state(path) == State(last_poll=1)
    assert [p.name for p in tmp_path.iterdir()] == ["state.json"]  # no temp file left


def test_secret_is_created_once_and_private(tmp_path):
    path = tmp_path / "sub" / "secret"
    first = load_or_create_secret(path)
    assert len(first) == 32 and load_or_create_secret(path) == first
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    path.write_bytes(b"short")
    with pytest.raises(SecretError, match="expected 32 random bytes"):
        load_or_create_secret(path)


def test_ndjson_rotation_by_size(tmp_path):
    out = NdjsonFileOutput(tmp_path / "w.ndjson", max_bytes=200, keep=2)
    for i in range(12):
        out.write_batch([{"n": i, "pad": "x" * 40}])
    out.close()
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["w.ndjson", "w.ndjson.1", "w.ndjson.2"]
    kept = []
    for name in ("w.ndjson.2", "w.ndjson.1", "w.ndjson"):
        lines = (tmp_path / name).read_text().splitlines()
        # rotated once it reached the size: at most one batch past it
        assert sum(len(line) + 1 for line in lines[:-1]) < 200
        kept += [json.loads(line)["n"] for line in lines]
    assert kept == sorted(kept) and kept[-1] == 11  # oldest dropped, order kept, nothing torn


def test_ndjson_batch_is_never_split_across_files(tmp_path):
    out = NdjsonFileOutput(tmp_path / "w.ndjson", max_bytes=60, keep=3)
    out.write_batch([{"a": "x" * 60}])
    out.write_batch(iter([{"b": "y" * 30}, {"c": "z" * 30}]))  # the file is full: rotate first
    out.write_batch([])
    out.close()
    assert len((tmp_path / "w.ndjson").read_text().splitlines()) == 2
    assert json.loads((tmp_path / "w.ndjson.1").read_text()) == {"a": "x" * 60}


def test_capture_directory(tmp_path):
    write_poll(tmp_path, 20, "b")
    write_poll(tmp_path, 10, "a")
    assert [(r.time, r.stdout) for r in read_capture(tmp_path)] == [(10, "a"), (20, "b")]
    (tmp_path / "notes.dump").write_text("x")
    with pytest.raises(CaptureError, match="notes.dump: a capture file is named <unix-seconds>.dump"):
        list(read_capture(tmp_path))
    with pytest.raises(CaptureError, match="no <unix-seconds>.dump files"):
        list(read_capture(tmp_path / "empty" if (tmp_path / "empty").mkdir() is None else tmp_path))


def test_a_captured_poll_keeps_how_wg_ended_and_fails_as_a_live_one(tmp_path):
    """<t>.exit.json: a failed poll is told from a host without interfaces, with run_wg's verdict."""
    from wgsiem.adapters.capture import exit_text

    denied = "Unable to access interface wg0: Operation not permitted\n"
    for t, text in ((10, ""), (20, ""), (30, "wg0\t(redacted)\tpub\t51820\toff\n")):
        write_poll(tmp_path, t, text)
    (tmp_path / "20.exit.json").write_text(exit_text(1, denied))
    (tmp_path / "30.exit.json").write_text(exit_text(0, "Unable to access interface wg1: No such device\n"))
    empty, failed, partial = read_capture(tmp_path)
    assert (empty.failure, empty.exit_status, empty.stderr) == (None, None, "")  # no interfaces: not a failure
    assert failed.failure == "'wg show all dump' exited with status 1: " + denied.strip()
    assert (failed.exit_status, failed.stderr) == (1, denied)
    assert partial.failure is None and partial.exit_status == 0 and "wg1" in partial.stderr
    (tmp_path / "20.exit.json").write_text('{"exit_status": "1"}')
    with pytest.raises(CaptureError, match=r"20\.exit\.json: exit_status: '1' is not a number"):
        list(read_capture(tmp_path))
    (tmp_path / "20.exit.json").write_text('{"status": 1}')
    with pytest.raises(CaptureError, match=r"20\.exit\.json: expected"):
        list(read_capture(tmp_path))


def test_run_wg_reports_missing_binary_and_failure(tmp_path):
    assert "not found" in run_wg(1, str(tmp_path / "no-wg")).failure
    fake = tmp_path / "wg"
    fake.write_text("#!/bin/sh\necho 'Unable to access interface: Operation not permitted' >&2\nexit 1\n")
    fake.chmod(0o755)
    raw = run_wg(1, str(fake))
    assert raw.failure and "Operation not permitted" in raw.stderr


def test_documents_encode_as_the_json_module_would_even_past_64_bits():
    from wgsiem.adapters.output import encode

    doc = {"s": "Linköping", "n": 2**64 - 1, "f": 1.5, "l": [None, True], "nested": {"a": {}}}
    assert encode(doc) == json.dumps(doc, separators=(",", ":"), ensure_ascii=False).encode()
    big = {"network": {"bytes": 2**64 + 5}}  # rx + tx of two huge counters
    assert json.loads(encode(big)) == big
