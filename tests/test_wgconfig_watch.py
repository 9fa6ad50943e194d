"""The wg-quick files watched read to read, drift against the running interface, change
windows, the capture's redacted snapshots, and the directory reader."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.support.config_story import T0, ConfFile, config_story, poll
from tests.support.dumps import FakeInterface, fake_key
from wgsiem.adapters.capture import read_capture, write_config_snapshot, write_poll
from wgsiem.adapters.config_files import ConfigDirReader
from wgsiem.ecs.catalogue import status_actions
from wgsiem.ecs.document import Context
from wgsiem.enrich.windows import WindowError, parse_windows
from wgsiem.shipper import Shipper
from wgsiem.status.state import State
from wgsiem.wgconfig.events import CONFIG_ACTIONS
from wgsiem.wgconfig.record import exposure, record_of
from wgsiem.wgconfig.redact import redact_config
from wgsiem.wgconfig.snapshot import decode_snapshot, encode_snapshot
from wgsiem.wgdump import PresharedKeyHasher
from wgsiem.wgdump.raw import ConfigRead, FileMeta, RawConfigFile
from wgsiem.wgdump.redact import redact_dump

REPO = Path(__file__).resolve().parents[1]
HASHER = PresharedKeyHasher(b"k" * 32)


@pytest.fixture(scope="module")
def story():
    return config_story()


def test_the_story_makes_every_configuration_action_in_order(story):
    docs, _ = story
    config = [d for d in docs if d["event"]["action"].startswith("config-")]
    assert {d["event"]["action"] for d in config} == set(CONFIG_ACTIONS)
    at = [(d["@timestamp"][11:19], d["event"]["action"]) for d in docs]
    # The planted peer: file events before the poll's, drift after them.
    first = [a for t, a in at if t == "14:14:20"]
    assert first == ["config-file-changed", "config-file-exposed", "config-hook-changed", "config-peer-added", "config-drift-started"]
    restart = [a for t, a in at if t == "14:21:00"]
    assert restart.index("peer-added") < restart.index("config-drift-ended")
    assert [a for t, a in at if t == "14:20:00"] == ["config-drift-persists"]


def test_configuration_documents_keep_their_promises(story):
    docs, secrets = story
    text = json.dumps(docs)
    assert not [s for s in secrets if s in text]
    for d in docs:
        if not d["event"]["action"].startswith("config-"):
            continue
        action = status_actions()[d["event"]["action"]]
        assert d["event"]["category"] == list(action.category) and d["event"]["type"] == list(action.type)
        assert d["event"]["dataset"] == "wireguard.status" and "{" not in d["message"]
        assert d["file"]["path"].startswith("/etc/wireguard/")
        assert d["wireguard"]["change_window"] == {"inside": True}  # the story is inside Monday 14:00-15:00
        for field in action.fields:
            value = d
            for part in field.split("."):
                value = value.get(part) if isinstance(value, dict) else None
            optional = field in ("file.owner", "file.group") or field.startswith(("wireguard.config.previous.", "wireguard.interface.previous", "wireguard.config.interface",
                                         "wireguard.peer.previous", "wireguard.peer.preshared_key_change",
                                         "wireguard.config.peer.", "wireguard.config.hook.previous", "wireguard.config.drift."))  # fmt: skip
            assert value is not None or optional, (d["event"]["action"], field)
    planted = next(d for d in docs if d["event"]["action"] == "config-peer-added")
    assert planted["wireguard"]["config"]["peer"] == {"endpoint": "67.43.156.7:36000", "running": False}
    changed = next(d for d in docs if d["event"]["action"] == "config-peer-changed")
    assert changed["user"]["name"] == "alice" and changed["wireguard"]["peer"]["preshared_key_change"] == "removed"
    assert changed["wireguard"]["config"]["peer"]["previous_endpoint"] == "198.51.100.10:51820"
    persists = next(d for d in docs if d["event"]["action"] == "config-drift-persists")
    assert persists["event"]["duration"] == 340 * 10**9 and persists["wireguard"]["config"]["drift"]["kind"] == "pending"
    invalid = [d for d in docs if d["wireguard"].get("config", {}).get("valid") is False]
    assert invalid and "AllowedIPs" in invalid[0]["error"]["message"]


def test_a_restart_of_the_shipper_changes_nothing(story):
    """State saved after each poll and loaded again gives the events of an unbroken run."""
    docs, _ = story
    # Replay the same story, the shipper rebuilt from its saved state after every poll.
    from tests.support import config_story as cs

    original = cs.Shipper

    class Restarting:
        def __init__(self, state, hasher, context, **kw):
            self.args = (hasher, context, kw)
            self.shipper = original(state, hasher, context, **kw)

        def process(self, raw):
            out = self.shipper.process(raw)
            docs = list(out.documents)
            saved = State.from_json(json.loads(self.shipper.state.encode()))
            self.shipper = original(saved, self.args[0], self.args[1], **self.args[2])
            out.documents = iter(docs)
            return out

    cs.Shipper = Restarting
    try:
        again, _ = cs.config_story()
    finally:
        cs.Shipper = original
    assert [d["event"]["id"] for d in again] == [d["event"]["id"] for d in docs]


def _shipper(after: int = 60) -> Shipper:
    return Shipper(State(), HASHER, Context("vpn1"), drift_after=after)


def _actions(shipper: Shipper, *args) -> list[str]:
    return [d["event"]["action"] for d in shipper.process(poll(*args)).documents if d["event"]["action"].startswith("config-")]


def _baseline() -> tuple[FakeInterface, ConfFile, Shipper]:
    """wg0 and its file, agreeing, read by a new shipper: the start of a file's story."""
    wg0 = FakeInterface()
    conf = ConfFile("/etc/wireguard/wg0.conf", wg0)
    s = _shipper()
    assert _actions(s, T0, [wg0], [conf]) == ["config-file-discovered"]
    return wg0, conf, s


def test_save_config_interfaces_only_drift_on_pending_peers():
    wg0 = FakeInterface()
    wg0.peer("alice", allowed_ips="10.0.0.2/32")
    conf = ConfFile("/etc/wireguard/wg0.conf", wg0, extra=["SaveConfig = true"])
    conf.peer("alice", "AllowedIPs = 10.0.0.2/32")
    s = _shipper()
    assert _actions(s, T0, [wg0], [conf]) == ["config-file-discovered"]
    wg0.peer("bob", allowed_ips="10.0.0.3/32")  # wg set: SaveConfig writes it at wg-quick down
    wg0.peers["alice"].keepalive = "25"
    assert _actions(s, T0 + 30, [wg0], [conf]) == []
    conf.peer("carol", "AllowedIPs = 10.0.0.4/32")  # edited while up: the save will drop it
    assert _actions(s, T0 + 60, [wg0], [conf]) == ["config-file-changed", "config-peer-added", "config-drift-started"]


def test_drift_holds_while_the_interface_is_down_and_ends_with_its_file():
    wg0, conf, s = _baseline()
    conf.peer("mallory", "AllowedIPs = 10.0.0.9/32")
    assert _actions(s, T0 + 30, [wg0], [conf])[-1] == "config-drift-started"
    assert _actions(s, T0 + 60, [], [conf]) == []  # down: nothing to compare, nothing ends
    assert _actions(s, T0 + 90, [], []) == ["config-file-removed", "config-drift-ended"]  # no file: over
    assert _actions(s, T0 + 120, [wg0], []) == []


def test_an_unreadable_directory_removes_nothing():
    wg0, conf, s = _baseline()
    blocked = ConfigRead((), ("/etc/wireguard",), ("/etc/wireguard: cannot read the wg-quick files: Permission denied",))
    out = s.process(replace(poll(T0 + 30, [wg0], []), config=blocked))
    assert not [d for d in out.documents if d["event"]["action"].startswith("config-")]
    assert out.notices == list(blocked.problems)  # said once, not every poll
    assert s.process(replace(poll(T0 + 45, [wg0], []), config=blocked)).notices == []
    assert _actions(s, T0 + 60, [wg0], [conf]) == []  # still the same file


def test_exposure_reasons():
    def rec(mode, uid=0, gid=0, keys=True):
        text = f"[Interface]\nPrivateKey = {fake_key('x')}\n" if keys else "[Interface]\nListenPort = 1\n"
        return record_of(RawConfigFile("/etc/wireguard/wg0.conf", FileMeta("h", 1, mode, uid, gid), text), HASHER)

    assert exposure(rec(0o600)) == ()
    assert exposure(rec(0o640)) == ()  # group root may read
    assert exposure(rec(0o644)) == ("keys-readable-by-others",)
    assert exposure(rec(0o640, gid=50)) == ("keys-readable-by-group",)
    assert exposure(rec(0o666, keys=False)) == ("writable-by-others",)
    assert exposure(rec(0o660, gid=50, keys=False)) == ("writable-by-group",)
    assert exposure(rec(0o600, uid=1000)) == ("owner-not-root",)


# -- change windows --------------------------------------------------------------------------


def _t(text: str) -> float:
    return datetime.fromisoformat(text).astimezone(UTC).timestamp()


def test_change_windows_in_their_time_zone_across_midnight_and_summer_time():
    (amsterdam,) = parse_windows([{"days": ["tue", "thu"], "start": "18:00", "end": "20:00", "timezone": "Europe/Amsterdam"}], "f")
    assert amsterdam.contains(_t("2026-12-01T17:30:00+00:00"))  # Tue 18:30 CET
    assert not amsterdam.contains(_t("2026-12-01T19:30:00+00:00"))  # 20:30 CET
    assert amsterdam.contains(_t("2026-07-02T16:30:00+00:00"))  # Thu 18:30 CEST
    assert not amsterdam.contains(_t("2026-07-01T16:30:00+00:00"))  # a Wednesday
    (night,) = parse_windows([{"days": ["fri"], "start": "22:00", "end": "02:00"}], "f")
    assert night.contains(_t("2026-12-04T23:00:00+00:00"))  # Fri 23:00
    assert night.contains(_t("2026-12-05T01:59:00+00:00"))  # Sat 01:59, the same window
    assert not night.contains(_t("2026-12-05T02:00:00+00:00"))
    assert not night.contains(_t("2026-12-04T01:00:00+00:00"))  # Fri 01:00 belongs to Thursday's


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"days": ["someday"], "start": "18:00", "end": "20:00"}, "days: 'someday' is not a day"),
        ({"start": "6pm", "end": "20:00"}, 'start: expected a time as "HH:MM"'),
        ({"start": "18:00", "end": "20:00", "timezone": "Mars/Olympus"}, "timezone: 'Mars/Olympus' is not an IANA time zone"),
        ({"start": "18:00", "end": "18:00"}, "the window would be empty"),
        ({"start": "18:00", "end": "20:00", "hours": 2}, "unknown key 'hours'"),
    ],
)
def test_a_bad_change_window_names_the_file_window_and_key(raw, message):
    with pytest.raises(WindowError, match=message) as err:
        parse_windows([raw], "/etc/wgsiem/peers.yaml")
    assert str(err.value).startswith("/etc/wgsiem/peers.yaml: change_windows[0]: ")


# -- captures --------------------------------------------------------------------------------


def _mutations(text: str, rng: random.Random, n: int):
    pieces = ["=", "#", " ", "\n", "[Peer]", "[Interface]", "PrivateKey", "PresharedKey", "PostUp = ", "\t", "/", "+"]
    for _ in range(n):
        chars = list(text)
        for _ in range(rng.randint(1, 6)):
            i = rng.randrange(len(chars))
            op = rng.random()
            if op < 0.3:
                del chars[i]
            elif op < 0.6:
                chars.insert(i, rng.choice(pieces))
            else:
                chars[i] = rng.choice("AZaz09+/= \n#[]")
        yield "".join(chars)


def test_a_snapshot_never_holds_a_key_even_of_a_damaged_file():
    """Redacted for a capture and read back: no private or preshared key, or most of one,
    in the snapshot or in what the shipper makes of it, for 600 mutated files."""
    private, psk = fake_key("private"), fake_key("psk")
    text = (f"[Interface]\nPrivateKey = {private}\nListenPort = 51820\nPostUp = wg set %i private-key <(echo {private})\n\n"
            f"[Peer]\nPublicKey = {fake_key('alice')}\nPresharedKey = {psk}\nAllowedIPs = 10.0.0.2/32\n")  # fmt: skip
    rng = random.Random(19)
    for mutated in [text, *_mutations(text, rng, 600)]:
        raw = RawConfigFile("/etc/wireguard/wg0.conf", FileMeta("h", len(mutated), 0o600, 0, 0), mutated)
        snapshot = json.dumps(encode_snapshot(ConfigRead((raw,)), HASHER))
        record = record_of(decode_snapshot(json.loads(snapshot), "s").files[0], HASHER)
        out = snapshot + json.dumps(record.to_json())
        for secret in (private, psk):
            assert secret not in out and secret[:20] not in out and secret[-20:] not in out, repr(mutated)


def test_redaction_keeps_what_the_watch_compares():
    """The capture's copy tells the same story: same public key, same preshared key identity
    (as the dump's stand-in), same hooks, peers and settings."""
    private, psk = fake_key("private"), fake_key("psk")
    text = (f"[Interface]\nPrivateKey = {private} # wg genkey\nAddress = 10.0.0.1/24\nPostUp = echo {fake_key('other')}\n\n"
            f"[Peer]\n# friendly_name = alice\nPublicKey = {fake_key('alice')}\nPresharedKey = {psk}\nAllowedIPs = 10.0.0.2/32\n")  # fmt: skip
    raw = RawConfigFile("/etc/wireguard/wg0.conf", FileMeta("h", len(text), 0o600, 0, 0), text)
    redacted = redact_config(text, HASHER)
    assert f"PublicKey = {fake_key('alice')}" in redacted and "PrivateKey = (redacted)" in redacted
    assert HASHER.stand_in(psk) in redacted and HASHER.stand_in(fake_key("other")) in redacted
    copy = decode_snapshot(json.loads(json.dumps(encode_snapshot(ConfigRead((raw,)), HASHER))), "s").files[0]
    live, replayed = record_of(raw, HASHER), record_of(copy, HASHER)
    assert replayed.public_key == live.public_key and replayed.peers.keys() == live.peers.keys()
    assert replayed.addresses == live.addresses and len(replayed.hooks) == 1
    # The dump's stand-in for the same PSK hashes to what the snapshot's does.
    line = f"wg0\t{fake_key('alice')}\t{psk}\t(none)\t10.0.0.2/32\t0\t0\t0\toff"
    stand_in = redact_dump(line, HASHER, with_interface=True).split("\t")[2]
    assert HASHER.hash(stand_in) == replayed.peers[fake_key("alice")].preshared_key_hash


def test_convert_reads_a_captures_snapshots(tmp_path):
    """`wgsiem convert` of a capture with wg-config/ gives the events `ship` gave."""
    wg0 = FakeInterface()
    wg0.peer("alice", allowed_ips="10.0.0.2/32")
    conf = ConfFile("/etc/wireguard/wg0.conf", wg0)
    conf.peer("alice", "AllowedIPs = 10.0.0.2/32")
    capture = tmp_path / "capture"
    live = _shipper(after=100)
    expected = []
    for t in (T0, T0 + 30, T0 + 200):
        if t == T0 + 30:
            conf.peer("mallory", "AllowedIPs = 10.0.0.9/32")
        raw = poll(t, [wg0], [conf])
        write_poll(capture, t, redact_dump(raw.stdout, HASHER))
        write_config_snapshot(capture, t, raw.config, HASHER)
        expected += [d["event"]["action"] for d in live.process(raw).documents]
    assert [p.config is not None for p in read_capture(capture)] == [True, True, True]
    out = subprocess.run([sys.executable, "-m", "wgsiem", "convert", str(capture), "--host-name", "vpn1", "--wg-config-drift-after", "100"],
                         capture_output=True, text=True, cwd=REPO, check=True).stdout  # fmt: skip
    got = [json.loads(line)["event"]["action"] for line in out.splitlines()]
    assert got == expected and "config-drift-persists" in got
    assert conf.interface.private_key not in (capture / "wg-config" / f"{T0}.json").read_text()


def test_a_damaged_snapshot_is_named(tmp_path):
    capture = tmp_path / "capture"
    write_poll(capture, T0, "")
    (capture / "wg-config").mkdir()
    (capture / "wg-config" / f"{T0}.json").write_text('{"files": [{"path": "/etc/wireguard/wg0.conf"}]}')
    proc = subprocess.run([sys.executable, "-m", "wgsiem", "convert", str(capture)], capture_output=True, text=True, cwd=REPO)
    assert proc.returncode != 0 and f"wg-config/{T0}.json" in proc.stderr and "missing 'text'" in proc.stderr


# -- the directory reader --------------------------------------------------------------------


def test_the_reader_gives_hash_mode_and_owner_and_rereads_only_changes(tmp_path):
    folder = tmp_path / "wireguard"
    folder.mkdir()
    conf = folder / "wg0.conf"
    conf.write_text("[Interface]\nListenPort = 51820\n")
    os.chmod(conf, 0o600)
    (folder / "notes.txt").write_text("not a config")
    reader = ConfigDirReader([folder, tmp_path / "missing"])
    first = reader.read()
    assert [f.path for f in first.files] == [str(conf)] and not first.unknown
    meta = first.files[0].meta
    import hashlib

    assert meta.sha256 == hashlib.sha256(conf.read_bytes()).hexdigest() and meta.mode == 0o600 and meta.uid == os.getuid()
    assert reader.read().files[0] is first.files[0]  # unchanged: not read again
    os.chmod(conf, 0o644)
    assert reader.read().files[0].meta.mode == 0o644
    # A directory that cannot be listed is unknown, not empty.
    blocked = tmp_path / "blocked"
    blocked.write_text("a file where a directory should be")
    read = ConfigDirReader([blocked]).read()
    assert read.unknown == (str(blocked),) and "cannot read" in read.problems[0]


def test_a_failed_poll_leaves_the_files_to_the_next_one():
    """`ship` writes nothing of a failed poll, so the files are not taken in with it either."""
    wg0, conf, s = _baseline()
    conf.peer("mallory", "AllowedIPs = 10.0.0.9/32")
    failed = s.process(replace(poll(T0 + 30, [wg0], [conf]), failure="wg: command not found"))
    assert failed.failure and not list(failed.documents)
    assert _actions(s, T0 + 60, [wg0], [conf]) == ["config-file-changed", "config-peer-added", "config-drift-started"]


def test_the_same_change_outside_its_change_window_alerts(tmp_path):
    """lab-change-in-window is quiet because of its window: moved to another day, the peer
    added to the file is a planted one, and its arrival at the restart a change outside a
    window; nothing else changes."""
    import re
    import shutil

    folder = tmp_path / "lab-change-in-window"
    shutil.copytree(REPO / "fixtures" / "scenarios" / "lab-change-in-window", folder)
    scenario = folder / "scenario.yaml"
    scenario.write_text(scenario.read_text().replace("days: [sat]", "days: [sun]"))
    proc = subprocess.run([sys.executable, "-m", "wgsiem", "replay", str(folder)], capture_output=True, text=True, cwd=REPO)
    assert proc.returncode == 1
    unexpected = re.findall(r"unexpected alert: ([^,\n]+? at \S+)", proc.stdout)
    rules = sorted(u.rpartition(" at ")[0] for u in unexpected)
    assert rules == ["WireGuard Configuration Change Outside a Change Window", "WireGuard Peer Planted in a Configuration File"], proc.stdout


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("peers.yaml", 'peers:\n  "{key}": alice\nchange_windows:\n  - {{days: [mon], start: "14:00", end: "15:00"}}\n'),
        ("peers.toml", '[peers]\n"{key}" = "alice"\n\n[[change_windows]]\ndays = ["mon"]\nstart = "14:00"\nend = "15:00"\n'),
        ("windows.yaml", 'change_windows:\n  - {{days: [mon], start: "14:00", end: "15:00"}}\n'),
    ],
)
def test_the_names_file_carries_the_change_windows(tmp_path, name, text):
    from wgsiem.enrich.names import NamesWatcher

    path = tmp_path / name
    path.write_text(text.format(key=fake_key("alice")))
    watcher = NamesWatcher((), path)
    assert watcher.names == ({fake_key("alice"): "alice"} if "alice" in text else {})
    (window,) = watcher.windows
    assert window.contains(T0) and not window.contains(T0 + 3600)


def test_a_names_file_without_windows_marks_nothing_and_a_bad_window_is_named(tmp_path):
    from wgsiem.enrich.names import NamesError, NamesWatcher

    path = tmp_path / "peers.yaml"
    path.write_text(f'"{fake_key("alice")}": alice\n')
    assert NamesWatcher((), path).windows is None
    path.write_text('change_windows:\n  - {days: [mon], start: "25:00", end: "15:00"}\n')
    with pytest.raises(NamesError, match=r"peers.yaml:2: change_windows\[0\]: start: expected a time"):
        NamesWatcher((), path)
