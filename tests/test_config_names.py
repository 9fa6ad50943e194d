"""Ship settings (defaults < YAML file < command line) and peer names."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path

import pytest
import yaml

from tests.support.dumps import fake_key
from wgsiem.config import ConfigError, ShipConfig, load_config
from wgsiem.enrich.names import NamesError, friendly_from_config, load_names, names_from_config, names_from_file

REPO = Path(__file__).resolve().parents[1]
ALICE, BOB = fake_key("alice"), fake_key("bob")


def test_defaults():
    cfg = load_config(None, {})
    assert cfg == ShipConfig()
    assert cfg.interval == 30 and cfg.session_timeout == 180 and cfg.spike_factor == 10
    assert cfg.state_file == Path("/var/lib/wgsiem/state.json")


def test_file_then_command_line(tmp_path):
    path = tmp_path / "ship.yaml"
    path.write_text("interval: 5\nsession-timeout: 240\ninterfaces: wg0\nwg_config_dirs: [/a, /b]\n")
    cfg = load_config(path, {"interval": 2.5, "spike_factor": None, "interfaces": ()})
    assert cfg.interval == 2.5  # the command line wins
    assert cfg.session_timeout == 240 and cfg.interfaces == ("wg0",)
    assert cfg.wg_config_dirs == (Path("/a"), Path("/b"))
    assert cfg.diff_settings().session_timeout == 240


@pytest.mark.parametrize(
    "text,message",
    [
        ("intervall: 5\n", "intervall: unknown setting"),
        ("interval: fast\n", "interval: expected float"),
        ("rotate_keep: true\n", "rotate_keep: expected int"),
        ("- a\n", "expected a mapping"),
        ("interval: [\n", "not valid YAML"),
        ("interval: 0\n", "interval must be more than 0"),
        ("output: kafka\n", "output must be 'file' or 'stdout'"),
        ("geoip_city: /nonexistent.mmdb\n", "geoip_city: /nonexistent.mmdb: no such file"),
    ],
)
def test_bad_config_names_file_and_key(tmp_path, text, message):
    path = tmp_path / "ship.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message):
        load_config(path, {})


def test_the_shipped_example_config_loads():
    """It says every value in it is the default, and it lists every key."""
    cfg = load_config(REPO / "deploy" / "ship.yaml", {})
    assert cfg == ShipConfig()
    listed = set(yaml.safe_load((REPO / "deploy" / "ship.yaml").read_text()))
    assert listed == {f.name for f in fields(ShipConfig)}


CONF = f"""[Interface]
PrivateKey = {fake_key("secret")}
ListenPort = 51820

[Peer]
# friendly_name = alice
PublicKey = {ALICE}
PresharedKey = {fake_key("psk")}
AllowedIPs = 10.0.0.2/32

[Peer]
PublicKey = {BOB}
# friendly_json = {{"name": "bob's phone", "owner": "bob"}}

[Peer]
PublicKey = {fake_key("nameless")}
"""


def test_names_from_wg_quick_config():
    assert names_from_config(CONF, "wg0.conf") == {ALICE: "alice", BOB: "bob's phone"}


def test_friendly_json_labels_for_the_metrics():
    names, labels = friendly_from_config(CONF.replace('"owner": "bob"', '"owner": "bob", "floor": 3, "admin": true'), "wg0.conf")
    assert names == {ALICE: "alice", BOB: "bob's phone"}
    assert labels == {BOB: {"name": "bob's phone", "owner": "bob", "floor": "3", "admin": "true"}}  # alice has a friendly_name only
    with pytest.raises(NamesError, match=r"wg0.conf:13: friendly_json: 'tags': expected a string, number or boolean"):
        friendly_from_config(CONF.replace('"owner": "bob"', '"tags": ["a"]'), "wg0.conf")


def test_config_errors_never_quote_a_key():
    bad = CONF.replace(f"PublicKey = {ALICE}", "PublicKey = nope") + "\n"
    with pytest.raises(NamesError, match=r"wg0.conf:7: PublicKey") as err:
        names_from_config(bad, "wg0.conf")
    assert fake_key("secret") not in str(err.value)


@pytest.mark.parametrize("suffix,text", [
    (".yaml", f"{ALICE}: alice\n{BOB}:\n  name: bob\n"),
    (".toml", f'"{ALICE}" = "alice"\n["{BOB}"]\nname = "bob"\n'),
    (".yaml", f"peers:\n  {ALICE}: alice\n  {BOB}: bob\n"),
])  # fmt: skip
def test_names_file(tmp_path, suffix, text):
    path = tmp_path / f"peers{suffix}"
    path.write_text(text)
    assert names_from_file(path) == {ALICE: "alice", BOB: "bob"}


def test_names_file_errors(tmp_path):
    path = tmp_path / "peers.yaml"
    path.write_text("notakey: alice\n")
    with pytest.raises(NamesError, match="notakey.*not a base64 WireGuard public key"):
        names_from_file(path)
    path.write_text(f"{ALICE}: [1, 2]\n")
    with pytest.raises(NamesError, match="expected a name"):
        names_from_file(path)


def test_names_file_wins_over_configs(tmp_path):
    (tmp_path / "wg0.conf").write_text(CONF)
    names_file = tmp_path / "peers.yaml"
    names_file.write_text(f"{ALICE}: alice-laptop\n")
    assert load_names([tmp_path, tmp_path / "missing"], names_file) == {ALICE: "alice-laptop", BOB: "bob's phone"}


def test_unreadable_or_broken_configs_are_skipped_with_a_warning(tmp_path):
    (tmp_path / "wg0.conf").write_text(CONF)
    (tmp_path / "wg1.conf").write_text("[Peer]\nPublicKey = nope\n# friendly_name = x\n")
    (tmp_path / "wg2.conf").write_bytes(b"\xff\xfe\x00")
    warnings: list[str] = []
    names = load_names([tmp_path], None, warnings.append)
    assert names == {ALICE: "alice", BOB: "bob's phone"}
    assert len(warnings) == 2 and "wg1.conf:2: PublicKey" in warnings[0] and "wg2.conf" in warnings[1]


@pytest.mark.parametrize("namespace", ["Prod", "eu-west", "a b", "x" * 101, ""])
def test_namespace_must_be_a_data_stream_namespace(namespace):
    with pytest.raises(ConfigError, match="data stream namespace"):
        load_config(None, {"namespace": namespace} if namespace else {"namespace": "a#"})


def test_failing_wg_says_why(tmp_path):
    from wgsiem.adapters.wg import run_wg

    fake = tmp_path / "wg"
    fake.write_text("#!/bin/sh\necho 'Unable to access interface wg0: Permission denied' >&2\nexit 1\n")
    fake.chmod(0o755)
    assert "Permission denied" in run_wg(1, str(fake)).failure
