"""`wgsiem package validate [PATH]`: the package-spec 3.x rules that matter for the
`wireguard` integration package, checked offline on a package folder or zip.

`validate_package(path)` returns every `Problem` found, each naming the file inside the
package and the key (a dotted, indexed path into its YAML or JSON), in file order; none
means the package is valid. What is checked, and the package-spec file each rule follows
(spec/integration/... of package-spec 3.x; the schemas are in schemas/):

- layout (layout.py): required files and folders, nothing a closed folder does not allow,
  the zip holding one folder named <name>-<version> (spec.yml and each folder's spec.yml);
- manifest.yml (manifest.schema.json: manifest.spec.yml), with its icons and screenshots
  existing with the declared type and size (images.py), and LICENSE.txt when
  `source.license` is set;
- changelog.yml (changelog.schema.json: changelog.spec.yml): an entry for the manifest's
  version, none newer, no version twice;
- each data stream: manifest (data-stream-manifest.schema.json: data_stream/manifest.spec.yml),
  lifecycle.yml (lifecycle.schema.json: data_stream/lifecycle.spec.yml), the stream
  templates its streams name under agent/stream/ (data_stream/agent/spec.yml), their inputs
  declared by a policy template covering the data stream (manifest.spec.yml), field
  definitions (fields.py, fields.schema.json: data_stream/fields/fields.spec.yml), ingest
  pipelines (pipelines.py, ingest-pipeline.schema.json: elasticsearch/pipeline.spec.yml),
  and every field of its sample events and pipeline tests' expected documents defined
  (data_stream/_dev/test/pipeline/expected.spec.yml);
- `external: ecs` fields need _dev/build/build.yml naming the ECS reference
  (_dev/build/build.spec.yml and package-spec's ValidateExternalFieldsWithDevFolder);
- Kibana assets (kibana.py, security-rule.schema.json: kibana/spec.yml and
  ValidateKibanaObjectIDs): rules named and shaped as the prebuilt rules package has them,
  the fields their queries use defined in the data streams they read; dashboards named
  <package>-<id>.json with that id;
- dashboards and data views (kibana_dashboards.py, kibana-dashboard.schema.json and
  kibana-index-pattern.schema.json: Kibana's saved-object definitions, the JSON text inside
  them parsed and checked too): ids unique, every reference resolving inside the package (or
  to a data view Fleet creates), titles and descriptions present, every field a panel uses
  defined by a data stream.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from wgsiem.mappings import Field, load_fields

from .field_files import is_ecs
from .fields import FieldSet, document_problems
from .fields import load_fields as load_stream_fields
from .files import Document, PackageFolder, open_package, text_of
from .images import image_info
from .kibana import Stream, kibana_problems
from .kibana_dashboards import dashboard_problems
from .layout import PACKAGE_NAME, layout_problems
from .pipelines import DataStreamId, pipeline_problems
from .problems import Problem, key_path, sort_problems
from .schema_checks import schema_problems

DEFAULT_TEMPLATE = "stream.yml.hbs"
DATA_STREAM_TYPES = ("logs", "metrics", "synthetics", "traces", "profiles")
_SEMVER = re.compile(r"^(\d+)\.(\d+)\.(\d+)(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$")


@cache
def ecs_fields() -> Mapping[str, Field]:
    """The ECS fields wgsiem knows: those of ecs_mappings/ecs.yml, with ECS's types."""
    return {name: f for name, f in load_fields().items() if is_ecs(f)}


def validate_package(path: Path, ecs: Mapping[str, Field] | None = None) -> list[Problem]:
    """Every problem of the package folder or zip at `path` (none: it is valid). `ecs` is
    what `external: ecs` may name (default: ecs_mappings/ecs.yml)."""
    with open_package(Path(path)) as (package, problems):
        if package is None:
            return problems
        return sort_problems(problems + _package_problems(package, ecs if ecs is not None else ecs_fields()))


@dataclass(frozen=True)
class DataStream:
    folder: str
    manifest: Document | None
    type: str
    dataset: str
    fields: FieldSet


def _package_problems(package: PackageFolder, ecs: Mapping[str, Field]) -> list[Problem]:
    manifest_doc, problems = _load_checked(package, "manifest.yml", "manifest")
    manifest = _mapping(manifest_doc)
    name = manifest.get("name")
    name = name if isinstance(name, str) and re.fullmatch(PACKAGE_NAME, name) else PACKAGE_NAME
    problems += layout_problems(package, name)
    problems += _zip_problems(package, manifest)
    problems += _changelog_problems(package, manifest)
    problems += _license_problems(package, manifest)
    if manifest_doc is not None:
        problems += _image_problems(package, manifest_doc)
    streams: list[DataStream] = []
    for folder in _data_stream_folders(package):
        stream, stream_problems = _data_stream(package, folder, manifest, ecs)
        streams.append(stream)
        problems += stream_problems
    if manifest_doc is not None and manifest:  # a manifest that is no mapping is reported once, above
        problems += _policy_template_problems(package, manifest_doc, streams)
    problems += _ecs_reference_problems(package, streams)
    kibana_streams = [Stream(s.type, s.dataset, s.fields) for s in streams]
    problems += kibana_problems(package, kibana_streams)
    problems += dashboard_problems(package, kibana_streams)
    return problems


def _load_checked(package: PackageFolder, rel: str, schema: str) -> tuple[Document | None, list[Problem]]:
    """The file parsed and checked against its schema; (None, []) when it is missing (the
    layout check says so)."""
    if not package.path(rel).is_file():
        return None, []
    doc, problems = package.load(rel)
    if doc is None:
        return None, problems
    return doc, problems + schema_problems(schema, doc)


def _mapping(doc: Document | None) -> dict[str, Any]:
    return doc.data if doc is not None and isinstance(doc.data, dict) else {}


def _zip_problems(package: PackageFolder, manifest: dict[str, Any]) -> list[Problem]:
    name, version = manifest.get("name"), manifest.get("version")
    if package.zip_root is None or not isinstance(name, str) or not isinstance(version, str):
        return []
    if package.zip_root != f"{name}-{version}":
        return [Problem(package.source.name, f"{package.zip_root}/", f"the zip's folder is named {package.zip_root}/; a package zip holds {name}-{version}/")]
    return []


def _license_problems(package: PackageFolder, manifest: dict[str, Any]) -> list[Problem]:
    source = manifest.get("source")
    licence = source.get("license") if isinstance(source, dict) else None
    if licence and not package.path("LICENSE.txt").is_file():
        return [Problem("LICENSE.txt", None, f"missing: manifest.yml gives source.license {licence}, so the package carries the licence's text")]
    return []


# -- changelog -----------------------------------------------------------------------------


def semver_key(version: str) -> tuple[Any, ...] | None:
    """A sort key ordering versions as semantic versioning does (a prerelease before its
    release, numeric identifiers by value); None for a string that is no version."""
    match = _SEMVER.match(version)
    if match is None:
        return None
    major, minor, patch, pre = match.groups()
    if pre is None:
        return (int(major), int(minor), int(patch), 1, ())
    ids = tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in pre.split("."))
    return (int(major), int(minor), int(patch), 0, ids)


def _changelog_problems(package: PackageFolder, manifest: dict[str, Any]) -> list[Problem]:
    doc, problems = _load_checked(package, "changelog.yml", "changelog")
    if doc is None or not isinstance(doc.data, list):
        return problems
    entries = [(i, text_of(e.get("version"))) for i, e in enumerate(doc.data) if isinstance(e, dict) and isinstance(e.get("version"), str)]
    seen: dict[str, int] = {}
    for i, version in entries:
        if version in seen:
            problems.append(doc.problem([i, "version"], f"[{i}].version", f"version {version} has an entry already ([{seen[version]}])"))
        seen.setdefault(version, i)
    version = text_of(manifest.get("version"))
    current = semver_key(version)
    if current is None:
        return problems
    if version not in seen:
        newest = f" (the newest is {entries[0][1]})" if entries else ""
        problems.append(Problem("changelog.yml", None, f"no entry for version {version}, the manifest's version{newest}"))
    for i, other in entries:
        key = semver_key(other)
        if key is not None and key > current:
            problems.append(doc.problem([i, "version"], f"[{i}].version", f"version {other} is newer than the manifest's version {version}"))
    return problems


# -- images --------------------------------------------------------------------------------


def _image_problems(package: PackageFolder, doc: Document) -> list[Problem]:
    manifest = _mapping(doc)
    places: list[tuple[tuple[str | int, ...], Any]] = [((kind,), manifest.get(kind)) for kind in ("icons", "screenshots")]
    for i, template in enumerate(manifest.get("policy_templates") or []):
        if isinstance(template, dict):
            places += [(("policy_templates", i, kind), template.get(kind)) for kind in ("icons", "screenshots")]
    problems = []
    for path, images in places:
        for j, image in enumerate(images if isinstance(images, list) else []):
            if isinstance(image, dict) and isinstance(image.get("src"), str):
                problems += _image_problem(package, doc, (*path, j), image)
    return problems


def _image_problem(package: PackageFolder, doc: Document, path: tuple[str | int, ...], image: dict[str, Any]) -> list[Problem]:
    rel = image["src"].lstrip("/")
    file = package.path(rel)
    if not file.is_file() or package.root.resolve() not in file.resolve().parents:
        return [doc.problem((*path, "src"), key_path((*path, "src")), f"no file {rel} in the package")]
    info = image_info(file.read_bytes())
    if info is None:
        return [doc.problem((*path, "src"), key_path((*path, "src")), f"{rel} is not an image (PNG, JPEG, GIF, WebP or SVG)")]
    problems = []
    declared = image.get("type")
    if isinstance(declared, str) and declared.replace("image/jpg", "image/jpeg") != info.mime:
        problems.append(doc.problem((*path, "type"), key_path((*path, "type")), f"is {declared}, but {rel} is {info.mime}"))
    size = image.get("size")
    if isinstance(size, str) and info.size is not None and size != info.size:
        problems.append(doc.problem((*path, "size"), key_path((*path, "size")), f"is {size}, but {rel} is {info.size} pixels"))
    return problems


# -- data streams --------------------------------------------------------------------------


def _data_stream_folders(package: PackageFolder) -> list[str]:
    root = package.path("data_stream")
    return sorted(p.name for p in root.iterdir() if p.is_dir()) if root.is_dir() else []


def _data_stream(package: PackageFolder, folder: str, manifest: dict[str, Any], ecs: Mapping[str, Field]) -> tuple[DataStream, list[Problem]]:
    here = f"data_stream/{folder}"
    doc, problems = _load_checked(package, f"{here}/manifest.yml", "data-stream-manifest")
    data = _mapping(doc)
    # A type or dataset the schema refuses is reported once, there; the names built from
    # them fall back to the defaults so the checks after it do not repeat it.
    kind = data["type"] if data.get("type") in DATA_STREAM_TYPES else "logs"
    dataset = text_of(data.get("dataset"))
    if not re.fullmatch(r"[a-z0-9_]+(\.[a-z0-9_]+)*", dataset):
        dataset = f"{text_of(manifest.get('name'), PACKAGE_NAME)}.{folder}"
    fields, field_problems = load_stream_fields(package, folder, ecs)
    stream = DataStream(folder, doc, kind, dataset, fields)
    problems += field_problems
    problems += _load_checked(package, f"{here}/lifecycle.yml", "lifecycle")[1]
    if doc is not None:
        problems += _template_problems(package, folder, doc)
    version = text_of(manifest.get("version"), "0.0.0")
    problems += pipeline_problems(package, DataStreamId(folder, kind, dataset, version))
    problems += _sample_event_problems(package, stream)
    problems += _expected_problems(package, stream)
    return stream, problems


def _template_problems(package: PackageFolder, folder: str, doc: Document) -> list[Problem]:
    """Every template a stream names exists under agent/stream/ (stream.yml.hbs when it names none)."""
    problems = []
    for i, stream in enumerate(_mapping(doc).get("streams") or []):
        if not isinstance(stream, dict):
            continue
        paths = stream.get("template_paths") if isinstance(stream.get("template_paths"), list) else None
        named = [("template_paths", j, p) for j, p in enumerate(paths)] if paths else [("template_path", None, stream.get("template_path", DEFAULT_TEMPLATE))]
        for key, j, template in named:
            if not isinstance(template, str):
                continue
            path: tuple[str | int, ...] = ("streams", i, key) if j is None else ("streams", i, key, j)
            rel = f"data_stream/{folder}/agent/stream/{template}"
            if not package.path(rel).is_file():
                given = "" if key in stream else " (the default, as the stream names none)"
                problems.append(doc.problem(path, key_path(path), f"the stream's template {template}{given} is not in data_stream/{folder}/agent/stream/"))
    return problems


def _sample_event_problems(package: PackageFolder, stream: DataStream) -> list[Problem]:
    problems = []
    for rel in package.files(f"data_stream/{stream.folder}", (".json",)):
        if not re.fullmatch(r"sample_event(_[a-z0-9]+)?\.json", rel.rsplit("/", 1)[1]):
            continue
        doc, load_problems = package.load(rel)
        if doc is None:
            problems += load_problems
            continue
        problems += document_problems(doc.data, stream.fields, rel)
        problems += _naming_problems(doc.data, stream, rel)
    return problems


def _naming_problems(event: Any, stream: DataStream, rel: str) -> list[Problem]:
    """A sample event's data_stream.* say which data stream it is from."""
    names = event.get("data_stream") if isinstance(event, dict) else None
    if not isinstance(names, dict):
        return []
    problems = []
    for key, expected in (("type", stream.type), ("dataset", stream.dataset)):
        if key in names and names[key] != expected:
            problems.append(Problem(rel, f"data_stream.{key}", f"is {names[key]!r}; the data stream's {key} is {expected!r}"))
    return problems


def _expected_problems(package: PackageFolder, stream: DataStream) -> list[Problem]:
    """The fields of the pipeline tests' expected documents are defined, and their values fit
    the fields' types, but in a document the pipeline failed on (`error.message`): that
    one keeps the value it could not use, as the data stream does (ignore_malformed)."""
    problems = []
    for rel in package.files(f"data_stream/{stream.folder}/_dev/test/pipeline", ("-expected.json",)):
        doc, load_problems = package.load(rel)
        if doc is None:
            problems += load_problems
            continue
        expected = doc.data.get("expected") if isinstance(doc.data, dict) else None
        if not isinstance(expected, list):
            problems.append(Problem(rel, "expected", 'missing: the expected documents, {"expected": [document or null, ...]}'))
            continue
        for i, document in enumerate(expected):
            if document is not None:
                problems += document_problems(document, stream.fields, rel, f"expected[{i}]", values=not _failed(document))
    return problems


def _failed(document: Any) -> bool:
    error = document.get("error") if isinstance(document, dict) else None
    return isinstance(error, dict) and error.get("message") is not None


# -- policy templates and inputs -----------------------------------------------------------


def _policy_template_problems(package: PackageFolder, doc: Document, streams: list[DataStream]) -> list[Problem]:
    templates = [t for t in _mapping(doc).get("policy_templates") or [] if isinstance(t, dict)]
    folders = {s.folder for s in streams}
    problems = []
    for i, template in enumerate(templates):
        for j, name in enumerate(template.get("data_streams") or []):
            if name not in folders:
                at: tuple[str | int, ...] = ("policy_templates", i, "data_streams", j)
                problems.append(doc.problem(at, key_path(at), f"no data stream {name} in data_stream/"))
        for j, item in enumerate(template.get("inputs") or []):
            template_path = item.get("template_path") if isinstance(item, dict) else None
            if isinstance(template_path, str) and not package.path(f"agent/input/{template_path}").is_file():
                where: tuple[str | int, ...] = ("policy_templates", i, "inputs", j, "template_path")
                problems.append(doc.problem(where, key_path(where), f"the input's template {template_path} is not in agent/input/"))
    for stream in streams:
        problems += _input_problems(stream, templates)
    return problems


def _input_problems(stream: DataStream, templates: list[dict[str, Any]]) -> list[Problem]:
    """Each stream's input type is declared by a policy template that offers the data stream."""
    if stream.manifest is None:
        return []
    offering = [t for t in templates if not t.get("data_streams") or stream.folder in t.get("data_streams", [])]
    declared = {i.get("type") for t in offering for i in t.get("inputs") or [] if isinstance(i, dict)}
    problems = []
    for i, item in enumerate(_mapping(stream.manifest).get("streams") or []):
        kind = item.get("input") if isinstance(item, dict) else None
        if isinstance(kind, str) and kind not in declared:
            listed = ", ".join(sorted(str(d) for d in declared)) or "none"
            problems.append(stream.manifest.problem(("streams", i, "input"), f"streams[{i}].input", (
                f"input type {kind} is not declared by a policy template offering data stream {stream.folder} "
                f"(manifest.yml policy_templates[].inputs[].type: {listed})"
            )))  # fmt: skip
    return problems


# -- external fields -----------------------------------------------------------------------


def _ecs_reference_problems(package: PackageFolder, streams: list[DataStream]) -> list[Problem]:
    """`external: ecs` fields are resolved from the ECS reference _dev/build/build.yml names."""
    external = next((d for s in streams for d in s.fields.defs if d.external == "ecs"), None)
    if external is None:
        return []
    doc, problems = _load_checked(package, "_dev/build/build.yml", "build")
    dependencies = _mapping(doc).get("dependencies")
    reference = dependencies.get("ecs", {}).get("reference") if isinstance(dependencies, dict) and isinstance(dependencies.get("ecs"), dict) else None
    if isinstance(reference, str):
        return problems
    return problems + [Problem("_dev/build/build.yml", "dependencies.ecs.reference", (
        f"missing: the package has external: ecs fields (the first: {external.name}, {external.file} at {external.key}), "
        "and package-spec needs _dev/build/build.yml to name the ECS version they come from (e.g. git@v9.0.0); "
        "a built package carries their definitions instead"
    ))]  # fmt: skip
