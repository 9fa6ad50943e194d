"""Option groups: each group of options is declared once, appears the same on every
command, and reaches the command as one settings object, checked before the body runs."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Annotated

import pytest
import typer
from typer.testing import CliRunner

from wgsiem.adapters.elasticsearch import EsSettings
from wgsiem.adapters.kibana import KibanaSettings
from wgsiem.cli import app
from wgsiem.cli.convert import CAPTURE_SETTINGS
from wgsiem.cli.groups import ES, ES_OPTIONAL, KIBANA, Events, EventSource, ShipOptions, with_groups
from wgsiem.cli.record import POLL_SETTINGS
from wgsiem.config import ShipConfig
from wgsiem.settings import described

runner = CliRunner()


def probe(annotation: object) -> typer.Typer:
    """A one-command app whose command prints the settings object the group built."""
    probe_app = typer.Typer()

    def show(settings, flag: Annotated[bool, typer.Option("--flag")] = False) -> None:
        typer.echo(repr(settings))
        typer.echo(f"flag={flag}")

    show.__annotations__["settings"] = annotation  # a real object, where the module's annotations are text
    probe_app.command()(with_groups(show))
    return probe_app


def built(annotation: object, *args: str) -> str:
    result = runner.invoke(probe(annotation), list(args))
    assert result.exit_code == 0, result.output
    return result.output


def test_a_connection_is_one_object_from_its_options(tmp_path):
    ca = tmp_path / "ca.pem"
    ca.write_text("x")
    out = built(Annotated[EsSettings, ES], "--es", "https://es:9200", "--ca-file", str(ca), "--user", "ops", "--flag")
    assert repr(EsSettings("https://es:9200", ca_file=ca, user="ops")) in out and "flag=True" in out


def test_a_required_connection_wants_its_url():
    result = runner.invoke(probe(Annotated[EsSettings, ES]), [])
    assert result.exit_code == 2 and "Missing option '--es'" in result.output


def test_an_optional_connection_is_none_and_refuses_orphan_options(tmp_path):
    assert "None" in built(Annotated[EsSettings | None, ES_OPTIONAL])
    result = runner.invoke(app, ["pipelines", "test", "--user", "ops", "--insecure"])
    assert result.exit_code == 2
    assert "wgsiem: error: --user, --insecure without --es: there is no connection to apply them to" in result.output


def test_kibana_connection_carries_its_space():
    out = built(Annotated[KibanaSettings, KIBANA], "--kibana", "https://kb:5601", "--space", "soc")
    assert repr(KibanaSettings("https://kb:5601", space="soc")) in out


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["events.ndjson", "--es", "http://127.0.0.1:9"], "give EVENTS or --es, not both"),
        ([], "EVENTS is required (or --es URL to run the rules on a cluster)"),
    ],
)
def test_events_or_a_cluster_not_both_nor_neither(args, expected):
    result = runner.invoke(app, ["rules", "run", *args])
    assert result.exit_code == 2 and f"wgsiem: error: {expected}" in result.output


def test_events_group_gives_a_file_or_a_cluster():
    assert repr(EventSource(Path("e.ndjson"), None)) in built(Annotated[EventSource, Events(es_help="x")], "e.ndjson")
    out = built(Annotated[EventSource, Events(es_help="x")], "--es", "http://es:9200")
    assert repr(EventSource(None, EsSettings("http://es:9200"))) in out


def test_every_ship_setting_is_an_option_and_a_config_key():
    help_text = runner.invoke(app, ["ship", "--help"], env={"COLUMNS": "250"}).output
    for f, s in described(ShipConfig):
        flag = s.flags[0] if s.flags else "--" + f.name.replace("_", "-")
        assert flag in help_text, f.name
    assert len(described(ShipConfig)) == len(dataclasses.fields(ShipConfig))


def test_ship_takes_the_shared_connection_names_as_aliases_of_its_keys(tmp_path):
    ca = tmp_path / "ca.pem"
    ca.write_text("x")
    group = Annotated[ShipConfig, ShipOptions()]
    by_key = built(group, "--es-url", "https://es:9200", "--es-ca-file", str(ca), "--es-insecure")
    by_alias = built(group, "--es", "https://es:9200", "--ca-file", str(ca), "--insecure")
    assert by_key == by_alias
    assert f"es_url='https://es:9200', es_ca_file={ca!r}" in by_key and "es_insecure=True" in by_key


def test_options_override_the_config_file_and_a_flag_not_given_leaves_it(tmp_path):
    config = tmp_path / "ship.yaml"
    config.write_text("interval: 10\nes_insecure: true\ninterfaces: [wg0]\n")
    group = Annotated[ShipConfig, ShipOptions()]
    assert "interval=10.0" in built(group, "--config", str(config)) and "es_insecure=True" in built(group, "--config", str(config))
    out = built(group, "--config", str(config), "--interval", "5", "-i", "wg1", "-i", "wg2")
    assert "interval=5.0" in out and "interfaces=('wg1', 'wg2')" in out and "es_insecure=True" in out


def test_a_bad_setting_is_reported_with_its_name():
    result = runner.invoke(probe(Annotated[ShipConfig, ShipOptions()]), ["--interval", "0"])
    assert result.exit_code != 0 and "interval must be more than 0 seconds" in str(result.exception)


def test_convert_takes_no_wg_config_dirs_from_a_config_file(tmp_path):
    config = tmp_path / "ship.yaml"
    config.write_text(f"wg_config_dirs: [{tmp_path}]\nhost_name: vpn1\n")
    out = built(Annotated[ShipConfig, CAPTURE_SETTINGS], "--config", str(config))
    assert "wg_config_dirs=()" in out and "host_name='vpn1'" in out
    out = built(Annotated[ShipConfig, CAPTURE_SETTINGS], "--config", str(config), "--wg-config-dir", str(tmp_path))
    assert f"wg_config_dirs=({tmp_path!r},)" in out


def test_record_polls_with_ships_defaults():
    assert repr(ShipConfig()) in built(Annotated[ShipConfig, POLL_SETTINGS])
    help_text = runner.invoke(app, ["record", "--help"], env={"COLUMNS": "250"}).output
    for flag in ("--interval", "--interface", "--wg", "--state-dir"):
        assert flag in help_text
    assert "--config" not in help_text and "--es-url" not in help_text
