"""Docs that are generated stay in step with their sources; the README keeps its promises."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from wgsiem.ecs.catalogue import status_actions
from wgsiem.ecs.health import SHIPPER_ACTIONS
from wgsiem.status.events import STATUS_ACTIONS
from wgsiem.wgconfig.events import CONFIG_ACTIONS

REPO = Path(__file__).resolve().parents[1]


def test_event_and_field_references_are_up_to_date():
    proc = subprocess.run([sys.executable, "-m", "wgsiem.docgen", "--check"], capture_output=True, text=True, cwd=REPO)
    assert proc.returncode == 0, proc.stderr


def test_field_reference_lists_every_field_with_its_type():
    from wgsiem.docgen import targets
    from wgsiem.mappings import load_fields

    text = targets()[REPO / "docs" / "fields.md"]
    for name, field in load_fields().items():
        assert f"| `{name}` | `{field.type}`" in text, name


def test_catalogue_and_diff_engine_name_the_same_actions():
    assert tuple(status_actions()) == STATUS_ACTIONS + CONFIG_ACTIONS + SHIPPER_ACTIONS


def test_readme_gives_the_two_commands_and_ci_uses_the_test_one():
    readme = (REPO / "README.md").read_text()
    assert "bash scripts/run" in readme and "bash scripts/test" in readme
    assert "bash scripts/test" in (REPO / ".ci" / "run").read_text()


def test_operate_doc_covers_every_ship_option():
    help_text = subprocess.run([sys.executable, "-m", "wgsiem", "ship", "--help"], capture_output=True, text=True,
                               cwd=REPO, env={"COLUMNS": "200", "PATH": "/usr/bin:/bin"}).stdout  # fmt: skip
    options = set(re.findall(r"(--[a-z][a-z-]+)", help_text)) - {"--help"}
    doc = (REPO / "docs" / "operate.md").read_text()
    missing = sorted(o for o in options if o not in doc)
    assert not missing, f"docs/operate.md does not mention {missing}"
