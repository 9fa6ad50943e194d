"""Reading a package: a folder, or a zip unpacked to a temporary folder first, and its
YAML and JSON files with the line of each key where the format gives one.

A zip is checked before it is unpacked: it must be a zip, hold one folder at its root,
and have no entry that would land outside it (an absolute path, `..`, a link).
"""

from __future__ import annotations

import json
import stat
import tempfile
import zipfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

import yaml

from .problems import Problem

SIZE_LIMIT = 250 * 1024 * 1024  # package-spec spec/integration/spec.yml totalSizeLimit


@dataclass(frozen=True)
class Document:
    """A parsed file: its path inside the package, its data, and for YAML the node tree
    (so a problem can name the line of a key)."""

    file: str
    data: Any
    node: yaml.Node | None = None

    def line(self, path: Sequence[str | int]) -> int | None:
        """The line of the deepest key of `path` the file has (1-based), for YAML."""
        node = self.node
        if node is None:
            return None
        line = node.start_mark.line + 1
        for part in path:
            node = _child(node, part)
            if node is None:
                break
            line = node.start_mark.line + 1
        return line

    def problem(self, path: Sequence[str | int], key: str | None, message: str) -> Problem:
        return Problem(self.file, key, message, self.line(path))


def _child(node: yaml.Node, part: str | int) -> yaml.Node | None:
    if isinstance(node, yaml.MappingNode) and isinstance(part, str):
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode) and key.value == part:
                found: yaml.Node = value
                return found
    if isinstance(node, yaml.SequenceNode) and isinstance(part, int) and 0 <= part < len(node.value):
        child: yaml.Node = node.value[part]
        return child
    return None


def text_of(value: Any, default: str = "") -> str:  # noqa: ANN401 - any parsed value
    """A parsed value that should be a string, or `default` (its schema reports it)."""
    return value if isinstance(value, str) else default


@dataclass(frozen=True)
class PackageFolder:
    """A package folder; `source` is what was given (the folder or the zip), `zip_root` the
    name of the zip's root folder."""

    root: Path
    source: Path
    zip_root: str | None = None

    def path(self, rel: str) -> Path:
        return self.root / rel

    def rel(self, path: Path) -> str:
        return path.relative_to(self.root).as_posix()

    def files(self, folder: str, suffixes: tuple[str, ...] = ()) -> list[str]:
        """The files directly in `folder` (names ending with one of `suffixes`), sorted."""
        where = self.path(folder)
        if not where.is_dir():
            return []
        return sorted(self.rel(p) for p in where.iterdir() if p.is_file() and (not suffixes or p.name.endswith(suffixes)))

    def load(self, rel: str) -> tuple[Document | None, list[Problem]]:
        """The file parsed as YAML (.yml, .yaml) or JSON (anything else); a file that does
        not parse is a problem naming its line."""
        try:
            text = self.path(rel).read_text(encoding="utf-8")
        except UnicodeDecodeError as error:
            return None, [Problem(rel, None, f"not UTF-8 text ({error.reason} at byte {error.start})")]
        if rel.endswith((".yml", ".yaml")):
            return load_yaml(rel, text)
        return load_json(rel, text)


def load_yaml(file: str, text: str) -> tuple[Document | None, list[Problem]]:
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(error, "problem", None) or str(error)
        return None, [Problem(file, None, f"not valid YAML: {problem}", line)]
    finally:
        loader.dispose()
    return Document(file, data, node), []


def load_json(file: str, text: str) -> tuple[Document | None, list[Problem]]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        return None, [Problem(file, None, f"not valid JSON: {error.msg} (line {error.lineno}, column {error.colno})", error.lineno)]
    return Document(file, data), []


# -- zips ----------------------------------------------------------------------------------


@contextmanager
def open_package(path: Path) -> Iterator[tuple[PackageFolder | None, list[Problem]]]:
    """The package at `path` (a folder or a .zip), or None with the problems that stop
    reading it. A zip is unpacked into a temporary folder removed on exit."""
    path = Path(path)
    if path.is_dir():
        yield PackageFolder(path, path), []
        return
    if not path.exists():
        yield None, [Problem(path.name, None, f"{path}: no such folder or zip")]
        return
    if not zipfile.is_zipfile(path):
        yield None, [Problem(path.name, None, "not a zip archive (a package is a folder or a .zip of one)")]
        return
    with tempfile.TemporaryDirectory(prefix="wgsiem-package-") as tmp:
        yield _unzip(path, Path(tmp))


def _unzip(path: Path, into: Path) -> tuple[PackageFolder | None, list[Problem]]:
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
            problems = _entry_problems(path.name, infos)
            size = sum(info.file_size for info in infos)
            if size > SIZE_LIMIT:
                problems.append(Problem(path.name, None, f"unpacked, the zip is {size} bytes; package-spec's limit for a package is {SIZE_LIMIT} (250 MB)"))
            roots = {PurePosixPath(info.filename).parts[0] for info in infos if info.filename.strip("/")}
            if not roots:
                problems.append(Problem(path.name, None, "the zip is empty"))
            elif len(roots) > 1:
                listed = ", ".join(sorted(roots)[:5])
                why = f"the zip holds {len(roots)} entries at its root ({listed}); a package zip holds one folder, <name>-<version>/"
                problems.append(Problem(path.name, None, why))
            if problems:
                return None, problems
            bad = archive.testzip()
            if bad is not None:
                return None, [Problem(path.name, bad, "a damaged entry (its CRC does not match)")]
            archive.extractall(into)
    except (zipfile.BadZipFile, OSError, EOFError) as error:
        return None, [Problem(path.name, None, f"the zip cannot be read: {error}")]
    (root,) = roots
    if not (into / root).is_dir():
        return None, [Problem(path.name, root, "the zip's root entry is a file; a package zip holds one folder, <name>-<version>/")]
    return PackageFolder(into / root, path, zip_root=root), []


def _entry_problems(zip_name: str, infos: list[zipfile.ZipInfo]) -> list[Problem]:
    problems = []
    for info in infos:
        name = info.filename
        parts = PurePosixPath(name).parts
        if name.startswith("/") or "\\" in name or ".." in parts or (parts and parts[0].endswith(":")):
            problems.append(Problem(zip_name, name, "an entry outside the package folder (absolute, with \\ or ..); it is not unpacked"))
        elif stat.S_ISLNK(info.external_attr >> 16):
            problems.append(Problem(zip_name, name, "a symbolic link; a package holds files only"))
    return problems
