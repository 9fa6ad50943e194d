"""The lint and type settings catch what they are there for.

scripts/test runs `ruff check .` and `mypy` over the repository and fails on a finding;
these tests plant a finding in a copy of a core module and check each tool, with the
repository's own settings, reports it, so a settings change that silences them fails here.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def tool(name: str) -> str:
    found = shutil.which(name, path=str(BIN)) or shutil.which(name)
    assert found, f"{name} is not installed (pip install -e '.[test]' brings it)"
    return found


def copy_core(tmp_path: Path, module: str, append: str) -> Path:
    """A copy of the repository's settings and one core module, with `append` added to it."""
    shutil.copy(REPO / "pyproject.toml", tmp_path / "pyproject.toml")
    target = tmp_path / module
    target.parent.mkdir(parents=True)
    target.write_text((REPO / module).read_text() + append)
    return target


def test_the_repository_is_clean_as_scripts_test_checks_it():
    ruff = subprocess.run([tool("ruff"), "check", "--no-cache", "."], cwd=REPO, capture_output=True, text=True)
    assert ruff.returncode == 0, ruff.stdout + ruff.stderr


def test_ruff_reports_a_planted_violation(tmp_path):
    planted = "\n\ndef unused(a, b):\n    import os\n    return a == None\n"
    target = copy_core(tmp_path, "wgsiem/wgdump/psk.py", planted)
    proc = subprocess.run([tool("ruff"), "check", "--no-cache", "--output-format", "concise", str(target)],
                          cwd=tmp_path, capture_output=True, text=True)  # fmt: skip
    assert proc.returncode == 1
    for code in ("F401", "E711", "ANN001", "ANN201"):
        assert code in proc.stdout, proc.stdout


def test_ruff_reports_a_function_grown_too_complex(tmp_path):
    branches = "".join(f"    if x == {i}:\n        return {i}\n" for i in range(30))
    target = copy_core(tmp_path, "wgsiem/wgdump/psk.py", f"\n\ndef tangled(x: int) -> int:\n{branches}    return -1\n")
    proc = subprocess.run([tool("ruff"), "check", "--no-cache", "--output-format", "concise", str(target)],
                          cwd=tmp_path, capture_output=True, text=True)  # fmt: skip
    assert "C901" in proc.stdout and "PLR0911" in proc.stdout, proc.stdout


def test_mypy_reports_a_type_error_in_the_core(tmp_path):
    for package in ("wgsiem",):
        shutil.copytree(REPO / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO / "pyproject.toml", tmp_path / "pyproject.toml")
    psk = tmp_path / "wgsiem" / "wgdump" / "psk.py"
    psk.write_text(psk.read_text() + '\n\ndef length(text: str) -> int:\n    return text.upper()\n')
    proc = subprocess.run([tool("mypy"), "--no-incremental"], cwd=tmp_path, capture_output=True, text=True)
    assert proc.returncode == 1
    assert 'psk.py' in proc.stdout and 'Incompatible return value type (got "str", expected "int")' in proc.stdout, proc.stdout
