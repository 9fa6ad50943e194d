"""Secrets under corrupt input: real dumps, mutated thousands of ways, through `convert`.

A capture is what anyone can write with `wg show all dump > $(date +%s).dump`, so it may
hold the host's real private and preshared keys, and a damaged one (a truncated copy, an
editor's mistake, a fuzzer) must not turn them into output. Each example here mutates the
polls of a capture (columns swapped, dropped, doubled or copied from another line, lines
swapped, dropped or doubled, the file truncated, random bytes and NULs, huge and negative
numbers), runs `wgsiem convert`'s code path on it (`read_capture`, the shipper,
`capture_documents`, `report`), and asserts that no secret, nor any 16-character piece
of one, is in the NDJSON, the log, an exception or the state file; and that every line
the mutations left alone still gives its peer.

The one thing no parser can catch: the first dump it ever reads showing a peer line with
its public and preshared key columns traded. Both are 32 random bytes in base64 and the
preshared key column then holds a public key nobody has seen. From the second poll on
(or with a state file) the preshared key's keyed hash is remembered and the line is
refused; `undetectable` names exactly that case, and only first polls are excused by it.

The `lab` test mutates dumps of real wireguard-go tunnels; the other runs the same
property on dumps written with real X25519 key pairs, so every tier has it.
"""

from __future__ import annotations

import base64
import io
import logging
import os
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from wgsiem.adapters.capture import read_capture
from wgsiem.adapters.output import StreamOutput
from wgsiem.adapters.statefile import save_state
from wgsiem.cli.setup import make_shipper, report
from wgsiem.config import ShipConfig
from wgsiem.replay.capture import capture_documents
from wgsiem.status.state import State
from wgsiem.wgdump.x25519 import public_key_of

WINDOW = 16  # the shortest piece of a secret that counts as a leak
# Examples per property and family; WGSIEM_MUTATIONS=20000 (and a random seed) for a deep run.
EXAMPLES = int(os.environ.get("WGSIEM_MUTATIONS", "0")) or None
T0 = 1_790_000_000

# --------------------------------------------------------------------------- the harness


@dataclass
class Outputs:
    ndjson: str
    log: str
    state: str
    crash: str  # an exception's text, "" when none escaped

    def all(self) -> str:
        return "\n".join((self.ndjson, self.log, self.state, self.crash))


def convert(polls: list[bytes], workdir: Path) -> Outputs:
    """What `wgsiem convert` prints, logs and would keep, for a capture of `polls`."""
    capture = workdir / "capture"
    capture.mkdir(parents=True)
    for i, data in enumerate(polls):
        (capture / f"{T0 + 30 * i}.dump").write_bytes(data)
    log_text = io.StringIO()
    handler = logging.StreamHandler(log_text)
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    logger = logging.getLogger("wgsiem")
    logger.addHandler(handler)
    out, crash = io.StringIO(), ""
    shipper = make_shipper(ShipConfig(), os.urandom(32), {}, State())
    try:
        stream = StreamOutput(out)
        for batch in capture_documents(shipper, read_capture(capture), [], on_poll=report):
            stream.write_batch(batch)
        save_state(workdir / "state.json", shipper.state)
    except Exception as err:  # noqa: BLE001 - a crash is a finding, and its text is scanned too
        crash = f"{type(err).__name__}: {err}"
    finally:
        logger.removeHandler(handler)
    state = workdir / "state.json"
    return Outputs(out.getvalue(), log_text.getvalue(), state.read_text() if state.exists() else "", crash)


def pieces(secrets: list[str]) -> set[str]:
    return {s[i : i + WINDOW] for s in secrets for i in range(len(s) - WINDOW + 1)}


def leaked(text: str, secret_pieces: set[str]) -> bool:
    return any(piece in text for piece in secret_pieces)


# ------------------------------------------------------------------------- the mutations

NUMBERS = ["-1", "-9223372036854775808", str(2**64), str(2**64 - 1), "1" * 40, "1e9", "٣", "²", "0x10", " 7", ""]


@st.composite
def mutated(draw: st.DrawFn, dump: str, donors: list[str]) -> bytes:
    """`dump` after one to three mutations; `donors` are values to copy in (from any line)."""
    lines = dump.rstrip("\n").split("\n")
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(["swap", "drop", "double", "copy", "number", "lines", "truncate", "bytes"]))
        if not lines:
            break
        i = draw(st.integers(0, len(lines) - 1))
        cols = lines[i].split("\t")
        col = draw(st.integers(0, len(cols) - 1))
        if kind == "swap":
            other = draw(st.integers(0, len(cols) - 1))
            cols[col], cols[other] = cols[other], cols[col]
        elif kind == "drop":
            del cols[col]
        elif kind == "double":
            cols.insert(col, cols[col])
        elif kind == "copy":
            cols[col] = draw(st.sampled_from(donors))
        elif kind == "number":
            cols[col] = draw(st.sampled_from(NUMBERS))
        elif kind == "lines":
            j = draw(st.integers(0, len(lines) - 1))
            how = draw(st.sampled_from(["swap", "drop", "double"]))
            if how == "swap":
                lines[i], lines[j] = lines[j], lines[i]
            elif how == "drop":
                del lines[i]
            else:
                lines.insert(j, lines[i])
            continue
        if kind in ("swap", "drop", "double", "copy", "number"):
            lines[i] = "\t".join(cols)
            continue
        data = ("\n".join(lines) + "\n").encode()
        at = draw(st.integers(0, len(data)))
        if kind == "truncate":
            data = data[:at]
        else:
            junk = draw(st.binary(min_size=1, max_size=6) | st.sampled_from([b"\0", b"\0\0\0", b"\t", b"\n", b"\xff\xfe"]))
            data = data[:at] + junk + data[at:]
        lines = data.decode(errors="replace").split("\n")
    return ("\n".join(lines) + "\n").encode() if lines else b""


def secret_columns(text: str) -> set[str]:
    """The values the dump prints where a private or preshared key goes."""
    found = set()
    for line in text.split("\n"):
        cols = line.split("\t")
        if len(cols) == 5:
            found.add(cols[1])
        elif len(cols) == 9:
            found.add(cols[2])
    return found


def undetectable(first_poll: bytes, secrets: list[str]) -> bool:
    """A first dump with a secret in a peer line's public key column that the same dump
    prints in no secret column: nothing on earth tells it from a peer's public key."""
    text = first_poll.decode(errors="replace")
    shown = secret_columns(text)
    for line in text.split("\n"):
        cols = line.split("\t")
        if len(cols) == 9 and cols[1] in secrets and cols[1] not in shown:
            return True
    return False


def intact_peers(original: str, mutated_text: str) -> set[tuple[str, str]]:
    """(interface, public key) of the peer lines the mutations left alone, under their own
    untouched interface line (the only one of that name), whose key is on no other peer
    line and in no secret column of the mutated dump (such a key is refused, as it must be)."""
    before = set(original.split("\n"))
    rows = [line.split("\t") for line in mutated_text.split("\n")]
    shown = secret_columns(mutated_text)
    names = Counter(cols[0] for cols in rows if len(cols) == 5)
    publics = Counter(cols[1] for cols in rows if len(cols) == 9)
    head: str | None = None
    peers: set[tuple[str, str]] = set()
    for cols in rows:
        line = "\t".join(cols)
        if len(cols) == 5:
            head = cols[0] if line in before and names[cols[0]] == 1 else None
        elif len(cols) == 9 and head == cols[0] and line in before and publics[cols[1]] == 1 and cols[1] not in shown:
            peers.add((cols[0], cols[1]))
    return peers


def check(polls: list[bytes], originals: list[str], mutated_at: int, secrets: list[str], workdir: Path) -> None:
    got = convert(polls, workdir)
    # Never a crash: a damaged capture costs its lines, not the run.
    assert got.crash == "", got.crash if not leaked(got.crash, pieces(secrets)) else "a crash (its text holds a secret)"
    if leaked(got.all(), pieces(secrets)):
        where = [name for name in ("ndjson", "log", "state") if leaked(getattr(got, name), pieces(secrets))]
        pytest.fail(f"a secret reached {where} (poll {mutated_at} mutated)")
    # The lines left alone still give their peers: in the state the run kept, on their interface.
    for iface, public in intact_peers(originals[mutated_at], polls[mutated_at].decode(errors="replace")):
        assert f'"{public}"' in got.state, f"the untouched line of peer {public} on {iface} gave nothing"


def run_property(originals: list[str], secrets: list[str], tmp_path_factory: pytest.TempPathFactory, examples: int) -> None:
    donors = sorted({c for text in originals for line in text.split("\n") for c in line.split("\t")} | {"(none)", "off"})

    deep = EXAMPLES is not None
    examples = EXAMPLES or examples
    pinned = settings(max_examples=examples, deadline=None, suppress_health_check=list(HealthCheck), derandomize=not deep)

    @pinned
    @given(data=st.data())
    def later_poll(data: st.DataObject) -> None:
        # A shipper that has read the host's dump once, then a damaged one.
        at = data.draw(st.integers(1, len(originals) - 1))
        polls = [text.encode() for text in originals[: at + 1]]
        polls[at] = data.draw(mutated(originals[at], donors))
        check(polls, originals, at, secrets, tmp_path_factory.mktemp("later"))

    @pinned
    @given(data=st.data())
    def first_poll(data: st.DataObject) -> None:
        polls = [data.draw(mutated(originals[0], donors))]
        assume(not undetectable(polls[0], secrets))
        check(polls, originals, 0, secrets, tmp_path_factory.mktemp("first"))

    later_poll()
    first_poll()


# ---------------------------------------------------------------------------- the dumps


def keypair() -> tuple[str, str]:
    private = base64.b64encode(os.urandom(32)).decode()
    return private, public_key_of(private) or ""


def written_dumps() -> tuple[list[str], list[str]]:
    """Three polls of two interfaces with real key pairs and preshared keys, as `wg show
    all dump` prints them: handshakes and counters moving, one peer roaming."""
    (priv0, pub0), (priv1, pub1) = keypair(), keypair()
    peers = [keypair()[1] for _ in range(5)]
    psks = [base64.b64encode(os.urandom(32)).decode() for _ in range(3)]
    polls = []
    for n in range(3):
        t = T0 + 30 * n
        lines = [
            f"wg0\t{priv0}\t{pub0}\t51820\toff",
            f"wg0\t{peers[0]}\t{psks[0]}\t198.51.100.7:{40000 + n}\t10.0.0.2/32\t{t - 5}\t{1000 * n}\t{2000 * n}\toff",
            f"wg0\t{peers[1]}\t{psks[1]}\t[2001:db8::7]:51820\t10.0.0.3/32,fd00::3/128\t{t - 100}\t{77 + n}\t{88 + n}\t25",
            f"wg0\t{peers[2]}\t(none)\t(none)\t10.0.0.4/32\t0\t0\t0\toff",
            f"wg1\t{priv1}\t{pub1}\t51821\t0xca6c",
            f"wg1\t{peers[3]}\t{psks[2]}\t203.0.113.9:51820\t10.1.0.2/32\t{t - 20}\t{5 * n}\t{6 * n}\toff",
            f"wg1\t{peers[4]}\t(none)\t192.0.2.44:1\t10.1.0.3/32\t{t - 1}\t{9 * n}\t{9 * n}\toff",
        ]
        polls.append("\n".join(lines) + "\n")
    return polls, [priv0, priv1, *psks]


def test_mutated_dumps_with_real_key_pairs_never_show_a_secret(tmp_path_factory: pytest.TempPathFactory) -> None:
    polls, secrets = written_dumps()
    # The clean capture itself: every peer comes out, and no secret.
    clean = convert([p.encode() for p in polls], tmp_path_factory.mktemp("clean"))
    assert clean.crash == "" and clean.ndjson.count('"peer-discovered"') == 5
    assert not leaked(clean.all(), pieces(secrets))
    run_property(polls, secrets, tmp_path_factory, examples=1500)


def test_the_cases_the_fuzzer_found(tmp_path: Path) -> None:
    polls, secrets = written_dumps()
    lines = polls[1].split("\n")
    name_swapped = "\t".join([lines[0].split("\t")[1], "wg0", *lines[0].split("\t")[2:]])
    cols = lines[1].split("\t")
    keys_swapped = "\t".join([cols[0], cols[2], cols[1], *cols[3:]])
    cases = [("\n".join([name_swapped, *lines[1:]]), ":1: interface: not an interface name"),
             ("\n".join([lines[0], keys_swapped, *lines[2:]]), ":2: public-key: holds a value printed as a private or preshared key")]  # fmt: skip
    for i, (bad, said) in enumerate(cases):
        got = convert([polls[0].encode(), bad.encode()], tmp_path / str(i))
        assert got.crash == "" and not leaked(got.all(), pieces(secrets))
        assert f"malformed line skipped: {tmp_path / str(i) / 'capture' / str(T0 + 30)}.dump{said}" in got.log


def test_a_capture_with_stray_bytes_costs_its_lines_only(tmp_path: Path) -> None:
    polls, secrets = written_dumps()
    data = polls[0].encode().replace(b"10.0.0.4/32", b"10.0.0.\xff/32")
    got = convert([data], tmp_path / "bytes")
    assert got.crash == "" and got.ndjson.count('"peer-discovered"') == 4  # the peer of that line only is missing
    assert "allowed-ips" in got.log and not leaked(got.all(), pieces(secrets))
    (tmp_path / "binary").mkdir()
    (tmp_path / "binary" / f"{T0}.dump").write_bytes(b"\x1f\x8b\x08\x00" + os.urandom(64).replace(b"\t", b""))
    proc = subprocess.run([sys.executable, "-m", "wgsiem", "convert", str(tmp_path / "binary")], capture_output=True, text=True)
    assert proc.returncode == 2 and "not text" in proc.stderr and f"{T0}.dump" in proc.stderr


@pytest.mark.lab
def test_mutated_lab_dumps_never_show_a_secret(wg_lab, tmp_path_factory: pytest.TempPathFactory) -> None:
    """Real tunnels: `wg show all dump` of the lab (three interfaces) with handshakes,
    preshared keys and a peer that never connected, polled three times, then mutated
    through `convert`."""
    kate = wg_lab.add_client("kate", "192.0.2.0/24", preshared_key=True)
    lou = wg_lab.add_client("lou", "198.51.100.0/24")
    wg_lab.add_silent_peer("max", preshared_key=True)
    polls = []
    for _ in range(3):
        for client in (kate, lou):
            wg_lab.connect(client)
            wg_lab.send(client, 20_000)
        dump = wg_lab.netns_exec(wg_lab.hub_namespace, ["wg", "show", "all", "dump"]).stdout
        # This lab's interfaces only: `wg` lists every wireguard-go socket on the machine.
        polls.append("".join(line for line in dump.splitlines(True) if line.startswith(wg_lab.prefix)))
    secrets = wg_lab.secrets()
    # wireguard-go's interfaces all sit in the hub's namespace: the hub's and the two
    # clients' private keys, and the two preshared keys (kate's on both ends), are real.
    assert sum(s in polls[0] for s in secrets) == 5
    peer_lines = sum(line.count("\t") == 8 for line in polls[0].splitlines())
    clean = convert([p.encode() for p in polls], tmp_path_factory.mktemp("clean"))
    assert clean.crash == "" and clean.ndjson.count('"peer-discovered"') == peer_lines == 5
    assert not leaked(clean.all(), pieces(secrets))
    run_property(polls, secrets, tmp_path_factory, examples=1000)
