"""The WireGuard lab: real wireguard-go tunnels in network namespaces (needs root)."""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path

import pytest

from wgsiem.lab.tunnels import Lab, LabError, free_prefix

KEY = re.compile(r"^[A-Za-z0-9+/]{43}=$")


def hub_peers(lab: Lab) -> tuple[list[str], dict[str, list[str]]]:
    """`wg show HUB dump` as (interface fields, {public key: peer fields})."""
    lines = lab.hub_dump().splitlines()
    interface = lines[0].split("\t")
    assert len(interface) == 4, interface[2:]  # private key not shown on failure
    peers = {}
    for line in lines[1:]:
        fields = line.split("\t")
        assert len(fields) == 8, fields[2:]
        peers[fields[0]] = fields
    return interface, peers


def peer(lab: Lab, client) -> dict[str, str]:
    _, peers = hub_peers(lab)
    fields = peers[client.public_key]
    names = ("public_key", "psk", "endpoint", "allowed_ips", "handshake", "rx", "tx", "keepalive")
    return dict(zip(names, fields, strict=False))


def wireguard_processes(prefix: str) -> list[int]:
    pattern = re.compile(rf"^{re.escape(prefix)}(hub|c\d+)$")
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            argv = Path("/proc", entry, "cmdline").read_bytes().decode(errors="replace").split("\0")
        except OSError:
            continue
        if argv and os.path.basename(argv[0]) == "wireguard-go" and any(pattern.match(a) for a in argv[1:]):
            pids.append(int(entry))
    return pids


def leftovers(prefix: str) -> list[str]:
    found = []
    netns = Path("/var/run/netns")
    if netns.is_dir():
        found += [f"netns {n}" for n in os.listdir(netns) if n.startswith(prefix + "-")]
    sockets = Path("/var/run/wireguard")
    pattern = re.compile(rf"^{re.escape(prefix)}(hub|c\d+)\.sock$")
    if sockets.is_dir():
        found += [f"socket {n}" for n in os.listdir(sockets) if pattern.match(n)]
    found += [f"wireguard-go pid {p}" for p in wireguard_processes(prefix)]
    return found


@pytest.mark.lab
def test_client_connects_and_hub_dump_shows_it(wg_lab: Lab) -> None:
    alice = wg_lab.add_client("alice", "198.51.100.0/24")
    assert alice.underlay.startswith("198.51.100.")
    assert alice.tunnel_ip == f"10.77.0.{alice.index + 10}"
    assert peer(wg_lab, alice)["handshake"] == "0"  # add_client sends nothing
    wg_lab.connect(alice)
    interface, _ = hub_peers(wg_lab)
    assert interface[1] == wg_lab.hub_public_key
    assert interface[2] == "51820"
    line = peer(wg_lab, alice)
    assert int(line["handshake"]) > 0
    assert re.fullmatch(r"198\.51\.100\.\d+:\d+", line["endpoint"])
    assert line["endpoint"].rpartition(":")[0] == alice.underlay
    assert line["allowed_ips"] == f"{alice.tunnel_ip}/32"
    assert line["psk"] == "(none)"
    assert int(line["rx"]) > 0 and int(line["tx"]) > 0


@pytest.mark.lab
def test_ipv6_client_endpoint(wg_lab: Lab) -> None:
    bob = wg_lab.add_client("bob", "2001:db8::/64")
    wg_lab.connect(bob)
    line = peer(wg_lab, bob)
    assert re.fullmatch(r"\[2001:db8::[0-9a-f:]+\]:\d+", line["endpoint"])
    assert line["endpoint"].startswith(f"[{bob.underlay}]:")
    assert int(line["handshake"]) > 0


@pytest.mark.lab
def test_preshared_key_client_handshakes(wg_lab: Lab) -> None:
    carol = wg_lab.add_client("carol", "gb-london", preshared_key=True, keepalive=25, hub_keepalive=30)
    plain = wg_lab.add_client("dave", "203.0.113.40")
    assert carol.preshared_key_set and not plain.preshared_key_set
    wg_lab.connect(carol)
    line = peer(wg_lab, carol)
    assert line["psk"] != "(none)" and KEY.match(line["psk"])
    assert line["psk"] in wg_lab.secrets()
    assert int(line["handshake"]) > 0
    assert line["endpoint"].startswith("81.2.69.")
    assert line["keepalive"] == "30"
    assert peer(wg_lab, plain)["psk"] == "(none)"
    assert wg_lab.hub_peer(carol)["preshared_key"] == "(set)"  # the helper hides the key


@pytest.mark.lab
def test_silent_peer(wg_lab: Lab) -> None:
    ghost = wg_lab.add_silent_peer("ghost", preshared_key=True, allowed_ips=["10.77.9.0/24", "fd77::9:0/112"])
    assert ghost.namespace is None and ghost.interface is None
    line = peer(wg_lab, ghost)
    assert line["handshake"] == "0"
    assert line["endpoint"] == "(none)"
    assert line["allowed_ips"].split(",") == ["10.77.9.0/24", "fd77::9:0/112"]
    assert line["rx"] == "0" and line["tx"] == "0"
    with pytest.raises(LabError, match="silent"):
        wg_lab.connect(ghost)


@pytest.mark.lab
def test_send_raises_counters(wg_lab: Lab) -> None:
    erin = wg_lab.add_client("erin", "89.160.20.128/25")
    wg_lab.connect(erin)
    before = peer(wg_lab, erin)
    wg_lab.send(erin, 5_000_000)
    middle = peer(wg_lab, erin)
    received = int(middle["rx"]) - int(before["rx"])
    assert 5_000_000 <= received < 10_000_000
    wg_lab.send(erin, 5_000_000, to_hub=False)
    after = peer(wg_lab, erin)
    sent = int(after["tx"]) - int(middle["tx"])
    assert 5_000_000 <= sent < 10_000_000
    assert int(after["rx"]) - int(middle["rx"]) < 1_000_000  # only ICMP and keepalives came back


@pytest.mark.lab
def test_roam_moves_the_endpoint(wg_lab: Lab) -> None:
    frank = wg_lab.add_client("frank", "198.51.100.0/24")
    wg_lab.connect(frank)
    assert peer(wg_lab, frank)["endpoint"].startswith("198.51.100.")
    wg_lab.roam(frank, "203.0.113.0/24")
    endpoint = peer(wg_lab, frank)["endpoint"]
    assert re.fullmatch(r"203\.0\.113\.\d+:\d+", endpoint)
    assert frank.underlay == endpoint.rpartition(":")[0]
    # across families: the client's configured hub endpoint changes too
    wg_lab.roam(frank, "2001:db8::/64")
    assert peer(wg_lab, frank)["endpoint"].startswith(f"[{frank.underlay}]:")
    assert frank.hub_endpoint == "[2001:db8::1]:51820"
    wg_lab.roam(frank, "175.16.199.77")
    assert peer(wg_lab, frank)["endpoint"].startswith("175.16.199.77:")


@pytest.mark.lab
def test_remove_makes_the_peer_disappear(wg_lab: Lab) -> None:
    gina = wg_lab.add_client("gina", "67.43.156.0/24")
    hank = wg_lab.add_client("hank", "216.160.83.56/29")
    wg_lab.connect(gina)
    wg_lab.remove(gina)
    _, peers = hub_peers(wg_lab)
    assert gina.public_key not in peers
    assert hank.public_key in peers
    assert os.path.exists(f"/var/run/netns/{gina.namespace}")  # the client namespace stays


@pytest.mark.lab
def test_stop_leaves_nothing_and_cleans_a_crashed_lab(tmp_path: Path) -> None:
    prefix = free_prefix()
    crashed = Lab(tmp_path / "one", prefix=prefix)
    try:
        crashed.start()
        crashed.connect(crashed.add_client("ivan", "175.16.199.0/24"))
        crashed.add_client("judy", "2001:db8::/64")
        assert leftovers(prefix)
        # A new lab with the same prefix, as after a crash: its stop() removes everything.
        Lab(tmp_path / "two", prefix=prefix).stop()
        assert leftovers(prefix) == []
        # ...and it starts cleanly where leftovers were.
        with Lab(tmp_path / "three", prefix=prefix) as lab:
            lab.connect(lab.add_client("ivan", "175.16.199.0/24"))
        assert leftovers(prefix) == []
    finally:
        crashed.stop()
    crashed.stop()  # idempotent
    assert leftovers(prefix) == []


@pytest.mark.lab
def test_failed_start_tears_down(tmp_path: Path) -> None:
    class Broken(Lab):
        def _wg(self, args, **kw):
            if "listen-port" in args:
                args = [*args[:-1], "not-a-port"]
            return super()._wg(args, **kw)

    prefix = free_prefix()
    with pytest.raises(LabError, match="wg set"), Broken(tmp_path / "lab", prefix=prefix):
        pass
    assert leftovers(prefix) == []


@pytest.mark.lab
def test_secrets_are_keys_and_never_leak(wg_lab: Lab) -> None:
    kate = wg_lab.add_client("kate", "192.0.2.0/24", preshared_key=True)
    wg_lab.add_silent_peer("leo", preshared_key=True)
    wg_lab.connect(kate)
    secrets = wg_lab.secrets()
    # hub, kate, kate's psk, leo, leo's psk
    assert len(secrets) == 5 and len(set(secrets)) == 5
    assert all(len(s) == 44 and KEY.match(s) for s in secrets)
    assert wg_lab.hub_dump().split("\t")[0] in secrets  # the hub's private key is real
    for path in wg_lab.workdir.iterdir():
        if path.suffix in (".key", ".psk"):
            assert stat.S_IMODE(path.stat().st_mode) == 0o600

    errors = []
    with pytest.raises(LabError) as info:
        wg_lab.roam("nobody", "203.0.113.0/24")
    errors.append(str(info.value))
    with pytest.raises(LabError) as info:
        wg_lab.add_client("mia", "8.8.8.8")
    errors.append(str(info.value))
    # a real command failure: wg rejects the allowed-ips after reading the key files
    with pytest.raises(LabError) as info:
        wg_lab.add_client("nina", "198.51.100.0/24", preshared_key=True, allowed_ips=["not-an-ip"])
    errors.append(str(info.value))
    assert "wg set" in errors[-1] and "not-an-ip" in errors[-1]
    with pytest.raises(LabError) as info:
        # a command that prints a key on stderr (fed through stdin, never a command line)
        wg_lab.netns_exec(kate.namespace, ["sh", "-c", "cat >&2; exit 3"], input=wg_lab.secrets()[0] + "\n")
    errors.append(str(info.value))
    assert "exit 3" in errors[-1]
    assert "nina" not in wg_lab.clients  # a failed add_client is undone
    assert not os.path.exists(f"/var/run/netns/{wg_lab.prefix}-nina")
    secrets = wg_lab.secrets()  # now including nina's keys
    assert len(secrets) == 7
    for message in errors:
        for secret in secrets:
            assert secret not in message
    for path in wg_lab.workdir.glob("*.log"):
        text = path.read_text(errors="replace")
        assert not any(secret in text for secret in secrets)
