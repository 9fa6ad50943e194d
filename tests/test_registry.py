"""The peer registry file (enrich/registry.py): every field checked, the older names-file
forms still read, and each error naming the file, line and key."""

from __future__ import annotations

import ipaddress
import re

import pytest

from tests.support.dumps import fake_key
from wgsiem.enrich.names import NamesError, NamesWatcher
from wgsiem.enrich.registry import RegisteredPeer, RegistryError, load_registry

ALICE, BOB = fake_key("alice"), fake_key("bob")

FULL_YAML = f"""\
peers:
  "{ALICE}":
    name: alice-laptop
    owner: alice
    email: alice@example.com
    role: laptop
    networks: [198.51.100.0/24, "2001:db8::/32", 203.0.113.9]
    countries: [nl, SE]
    tags: [finance]
  "{BOB}":
    name: site-bob
    role: site
    always_on: true
change_windows:
  - {{days: [tue, thu], start: "18:00", end: "20:00", timezone: Europe/Amsterdam}}
"""

FULL_TOML = f"""\
[peers."{ALICE}"]
name = "alice-laptop"
owner = "alice"
email = "alice@example.com"
role = "laptop"
networks = ["198.51.100.0/24", "2001:db8::/32", "203.0.113.9"]
countries = ["nl", "SE"]
tags = ["finance"]

[peers."{BOB}"]
name = "site-bob"
role = "site"
always_on = true

[[change_windows]]
days = ["tue", "thu"]
start = "18:00"
end = "20:00"
timezone = "Europe/Amsterdam"
"""


@pytest.mark.parametrize(("name", "text"), [("peers.yaml", FULL_YAML), ("peers.toml", FULL_TOML)])
def test_a_full_registry_in_yaml_and_toml(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    registry = load_registry(path)
    assert registry.peers[ALICE] == RegisteredPeer(
        name="alice-laptop", owner="alice", email="alice@example.com", role="laptop", always_on=False,
        networks=(ipaddress.ip_network("198.51.100.0/24"), ipaddress.ip_network("2001:db8::/32"), ipaddress.ip_network("203.0.113.9/32")),
        countries=("NL", "SE"), tags=("finance",),
    )  # fmt: skip
    assert registry.peers[BOB] == RegisteredPeer(name="site-bob", role="site", always_on=True)
    assert registry.names == {ALICE: "alice-laptop", BOB: "site-bob"}
    (window,) = registry.change_windows
    assert window.timezone == "Europe/Amsterdam" and window.days == (1, 3)
    watcher = NamesWatcher((), path)  # what ship, convert and record use
    assert watcher.names == registry.names and watcher.windows == registry.change_windows


@pytest.mark.parametrize(
    "text",
    [
        f'"{ALICE}": alice-laptop\n',
        f'"{ALICE}": {{name: alice-laptop}}\n',
        f'peers:\n  "{ALICE}": alice-laptop\n',
    ],
)
def test_the_older_names_file_forms_still_load(tmp_path, text):
    path = tmp_path / "peers.yaml"
    path.write_text(text)
    registry = load_registry(path)
    assert registry.names == {ALICE: "alice-laptop"} and registry.change_windows is None
    assert registry.peers[ALICE] == RegisteredPeer("alice-laptop")


@pytest.mark.parametrize(
    ("entry", "line", "message"),
    [
        ("    role: tablet\n", 4, f"peers.{ALICE}.role: 'tablet' is not one of laptop, phone, server, site, service"),
        ("    email: alice\n", 4, f"peers.{ALICE}.email: not an email address: 'alice'"),
        ("    networks: [198.51.100.0/33]\n", 4, f"peers.{ALICE}.networks: not a network (CIDR) or address: '198.51.100.0/33'"),
        ("    countries: [Netherlands]\n", 4, f"peers.{ALICE}.countries: not an ISO 3166 two-letter country code: 'Netherlands'"),
        ("    always_on: yes please\n", 4, f"peers.{ALICE}.always_on: expected true, false or how long the peer may be silent,"
                                         " like 15m: 'yes please' is not a duration like 30s"),
        ("    always_on: 600\n", 4, f"peers.{ALICE}.always_on: expected true, false or how long the peer may be silent, like 15m"),
        ("    always_on: 2m\n", 4, f"peers.{ALICE}.always_on: '2m' is too short: a working tunnel renews its session only every"),
        ("    tags: finance\n", 4, f"peers.{ALICE}.tags: expected a list"),
        ("    colour: blue\n", 4, f"peers.{ALICE}.colour: unknown key (known: name, owner"),
    ],
)
def test_a_bad_value_names_the_file_line_and_key(tmp_path, entry, line, message):
    path = tmp_path / "peers.yaml"
    path.write_text(f'peers:\n  "{ALICE}":\n    name: alice-laptop\n{entry}')
    with pytest.raises(RegistryError) as err:
        load_registry(path)
    assert str(err.value).startswith(f"{path}:{line}: {message}")


@pytest.mark.parametrize(
    ("value", "always_on", "silent_after"),
    [("true", True, 600), ("false", False, 600), ("15m", True, 900), ("3m", True, 180), ("2h", True, 7200), ("1d", True, 86400)],
)
def test_always_on_is_true_false_or_how_long_the_peer_may_be_silent(tmp_path, value, always_on, silent_after):
    path = tmp_path / "peers.yaml"
    path.write_text(f'"{BOB}": {{name: site-bob, always_on: {value}}}\n')
    peer = load_registry(path).peers[BOB]
    assert (peer.always_on, peer.silent_after) == (always_on, silent_after)
    toml = tmp_path / "peers.toml"
    toml.write_text(f'[peers."{BOB}"]\nname = "site-bob"\nalways_on = {value if value in ("true", "false") else repr(value)}\n')
    assert load_registry(toml).peers[BOB] == peer


def test_a_bad_always_on_in_toml_names_its_line(tmp_path):
    toml = tmp_path / "peers.toml"
    toml.write_text(f'[peers."{ALICE}"]\nname = "alice"\n\n[peers."{BOB}"]\nname = "site-bob"\nalways_on = "90s"\n')
    with pytest.raises(RegistryError, match=rf"peers.toml:6: peers.{re.escape(BOB)}.always_on: '90s' is too short"):
        load_registry(toml)


def test_structural_errors_are_named_too(tmp_path):
    path = tmp_path / "peers.yaml"
    path.write_text(f'peers:\n  "{ALICE}": alice\n  not-a-key: bob\n')
    with pytest.raises(RegistryError, match=r"peers.yaml:3: peers.not-a-key: not a base64 WireGuard public key"):
        load_registry(path)
    path.write_text(f'peers:\n  "{ALICE}": alice\nwindows: []\n')
    with pytest.raises(RegistryError, match=r"peers.yaml:3: windows: unknown key beside peers and change_windows"):
        load_registry(path)
    path.write_text(f'peers:\n  "{ALICE}":\n    owner: alice\n')
    with pytest.raises(RegistryError, match=rf"peers.yaml:2: peers.{ALICE}.name: expected the peer's name"):
        load_registry(path)
    toml = tmp_path / "peers.toml"
    toml.write_text(f'[peers."{ALICE}"]\nname = "alice"\nrole = "tablet"\n')
    with pytest.raises(RegistryError, match=rf"peers.toml:3: peers.{ALICE}.role: 'tablet' is not one of"):
        load_registry(toml)
    # The shipper's names loader says the same (and keeps the names it had while running).
    with pytest.raises(NamesError, match="peers.toml:3: "):
        NamesWatcher((), toml)


def _judged(entry: RegisteredPeer | None, ip: str, country: str | None, name: str | None = "alice-laptop") -> tuple[dict, dict]:
    from wgsiem.ecs.document import Context, identify_peer, judge_place
    from wgsiem.enrich.geoip import Place

    ctx = Context("vpn1", names={ALICE: name} if name else {}, registry={ALICE: entry} if entry else {})
    doc: dict = {}
    wp: dict = {"public_key": ALICE}
    identify_peer(doc, wp, ALICE, ctx)
    judge_place(wp, ALICE, ctx, ip, Place({"country_iso_code": country} if country else {}, None, None))
    return doc, wp


def test_events_say_who_the_peer_is_and_whether_it_is_where_it_is_expected():
    nl = RegisteredPeer(
        "alice-laptop", owner="alice", email="alice@example.com", role="laptop", tags=("finance",),
        networks=(ipaddress.ip_network("198.51.100.0/24"), ipaddress.ip_network("2001:db8::/32")), countries=("NL",),
    )  # fmt: skip
    doc, wp = _judged(nl, "198.51.100.7", "NL")
    assert doc["user"] == {"name": "alice", "email": "alice@example.com"}  # the owner, not the device
    assert doc["related"]["user"] == ["alice", "alice-laptop"]
    assert wp["name"] == "alice-laptop" and wp["role"] == "laptop" and wp["tags"] == ["finance"] and "always_on" not in wp
    assert (wp["expected_network"], wp["expected_country"], wp["expected_place"]) == (True, True, True)
    # Abroad, on another network: both judgements say no.
    _, wp = _judged(nl, "175.16.199.20", "CN")
    assert (wp["expected_network"], wp["expected_country"], wp["expected_place"]) == (False, False, False)
    # Another network in an expected country is still an expected place (a hotel in the Netherlands).
    _, wp = _judged(nl, "89.160.20.130", "NL")
    assert (wp["expected_network"], wp["expected_place"]) == (False, True)
    # IPv6 inside the listed /32; the country unknown: judged by the network alone.
    _, wp = _judged(nl, "2001:db8::5", None)
    assert wp["expected_network"] is True and "expected_country" not in wp and wp["expected_place"] is True
    # Only countries listed and no GeoIP: nothing can be judged, nothing is said.
    _, wp = _judged(RegisteredPeer("alice-laptop", countries=("NL",)), "175.16.199.20", None)
    assert not {"expected_network", "expected_country", "expected_place"} & set(wp)
    # A name alone (the old names file): the documents are as they were.
    doc, wp = _judged(RegisteredPeer("alice-laptop"), "175.16.199.20", "CN")
    assert doc["user"] == {"name": "alice-laptop"} and wp == {"public_key": ALICE, "name": "alice-laptop"}
    # A registry owner without a name anywhere still says who it is.
    doc, _ = _judged(RegisteredPeer("x", owner="carol"), "192.0.2.1", "US", name=None)
    assert doc["user"] == {"name": "carol"}
