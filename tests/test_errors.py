"""One error root: every error wgsiem reports is a WgsiemError with a place, each class name
says one thing, and the command line reports them in one place."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest
from typer.testing import CliRunner

from wgsiem.cli import app
from wgsiem.config import ConfigError
from wgsiem.errors import Location, WgsiemError

PACKAGE = Path(__file__).resolve().parents[1] / "wgsiem"

# Exceptions that are signals between two functions, never shown to anyone.
SIGNALS = {"DropDocument", "NoMatch", "_NoMatch", "_Unsupported", "_PortTaken", "Damaged", "DissectMismatch", "JavaNumberFormat", "_BadField"}


def exception_classes() -> list[tuple[str, str, int]]:
    """(module, class, line) of every class defined in wgsiem whose bases name an exception."""
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        module = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts).removesuffix(".__init__")
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ClassDef) and (node.name.endswith("Error") or node.name in SIGNALS):
                found.append((module, node.name, node.lineno))
    return found


def test_every_error_is_a_wgsiem_error():
    for module, name, line in exception_classes():
        if name in SIGNALS:
            continue
        cls = getattr(importlib.import_module(module), name)
        assert issubclass(cls, WgsiemError), f"{module}:{line}: {name} is not a WgsiemError"


def test_no_two_error_classes_share_a_name():
    seen: dict[str, str] = {}
    for module, name, _ in exception_classes():
        assert name not in seen, f"{name} is defined in {seen[name]} and in {module}"
        seen[name] = module


@pytest.mark.parametrize(
    ("location", "text"),
    [
        (Location("ship.yaml", 3, key="interval"), "ship.yaml:3: interval: expected float"),
        (Location("ship.yaml", key="interval"), "ship.yaml: interval: expected float"),
        (Location("rule.toml", 12, 5), "rule.toml:12:5: expected float"),
        (Location(key="interval"), "interval: expected float"),
        (None, "expected float"),
    ],
)
def test_an_error_names_its_place_the_way_editors_link_it(location, text):
    assert str(WgsiemError("expected float", location)) == text


def test_a_config_file_error_names_the_file_line_and_key(tmp_path):
    config = tmp_path / "ship.yaml"
    config.write_text("# the shipper\ninterval: 30\nnamespace: prod\nrotate_keep: lots\n")
    result = CliRunner().invoke(app, ["convert", str(tmp_path), "--config", str(config)])
    assert result.exit_code == 2
    assert f"wgsiem: error: {config}:4: rotate_keep: expected int, got 'lots'" in result.output
    assert "Traceback" not in result.output


def test_the_command_line_reports_a_wgsiem_error_once_and_lets_a_bug_show(monkeypatch, tmp_path):
    import wgsiem.cli.convert as convert

    def refuse(*args, **kwargs):
        raise ConfigError("no good", Location("x.yaml", 2, key="k"))

    monkeypatch.setattr(convert, "make_names", refuse)
    (tmp_path / "1700000000.dump").write_text("")
    result = CliRunner().invoke(app, ["convert", str(tmp_path)])
    assert (result.exit_code, result.output.count("wgsiem: error:")) == (2, 1)
    assert "wgsiem: error: x.yaml:2: k: no good" in result.output

    def bug(*args, **kwargs):
        raise ValueError("a programming error")

    monkeypatch.setattr(convert, "make_names", bug)
    result = CliRunner().invoke(app, ["convert", str(tmp_path)])
    assert isinstance(result.exception, ValueError)  # not dressed up as a user's mistake
    assert "wgsiem: error" not in result.output
