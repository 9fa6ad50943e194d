"""`wgsiem package build`: the `wireguard` integration package, assembled from the content.

Nothing in the package is written twice. The hand-written parts (manifests, stream
templates, the icon) are `integration/`; the rest comes from the folders the other
commands read: fields from `ecs_mappings/`, pipelines and their tests from
`ingest_pipelines/`, rules from `detection_rules/`, dashboards (and the data view they read)
from `dashboards/`, a sample event per data stream from recorded events (SAMPLES), the
version from wgsiem's own (integration/README.md has the table). `assemble()` is a pure function of those files; `write_zip()` makes the
same bytes from the same source (sorted entries, fixed times and modes), so a build can
be checked by building again.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from .. import __version__
from ..content import DETECTION_RULES, FIXTURES, INGEST_PIPELINES, INTEGRATION, LICENSE
from ..dashboards.model import load_dashboards
from ..dashboards.saved_objects import DATA_VIEW_ID, dashboard_object, data_view, object_id
from ..kql import FieldTypes
from ..mappings import load_fields
from ..mappings.templates import Dataset, load_spec
from ..rules.model import load_rules
from .field_files import data_stream_fields, manifest_index_template
from .installed import pipeline_name
from .pipelines import INGEST_PIPELINE_CALL, processors
from .readme import render_readme
from .rules import security_rule

NAME = "wireguard"
# The package's data streams: folder name -> dataset. The flow data stream has no input
# of its own: the status data stream reroutes the shipper's flows to it.
DATA_STREAMS = {"status": "wireguard.status", "log": "wireguard.log", "flow": "wireguard.flow"}
# Each data stream's sample event: the first event of an action that names its peer (and
# carries the fields given), in recorded events (NDJSON, or a pipeline test's
# {"events": [...]}): a roam of the lab story (with its GeoIP and the previous endpoint), a
# kernel line tied to its peer, and a flow of the gateway-flows capture (real conntrack
# records: the lab scenarios have none yet) from one peer to another, with its byte
# counts, duration and state.
LAB_STORY_EVENTS = FIXTURES / "scenarios" / "lab-story" / "events.ndjson"
FLOW_EVENTS = INGEST_PIPELINES / "_dev" / "test" / "pipeline" / "logs-wireguard" / "test-gateway-flows.json"
SAMPLES: dict[str, tuple[Path, str, tuple[str, ...]]] = {
    "status": (LAB_STORY_EVENTS, "endpoint-changed", ()),
    "log": (LAB_STORY_EVENTS, "handshake-initiation-received", ()),
    "flow": (FLOW_EVENTS, "flow-ended", ("wireguard.flow.destination_peer.name", "network.bytes")),
}
# The ECS version ecs_mappings/ecs.yml follows: what a source tree's `external: ecs` fields
# are resolved from (_dev/build/build.yml).
ECS_REFERENCE = "git@v9.0.0"
# A data stream's own ILM policy: Fleet installs elasticsearch/ilm/<name>.json as
# <type>-<package>.<data stream folder>-<name> (datastream_ilm/install.ts).
ILM_FILE = "retention"
# The hot phase of that policy: the rollover of Elasticsearch's built-in `logs` policy.
ROLLOVER = {"max_age": "30d", "max_primary_shard_size": "50gb"}
# A zip entry's time: fixed, so the same source gives the same bytes (1980 is the
# earliest a zip can hold).
ZIP_TIME = (1980, 1, 1, 0, 0, 0)

_PIPELINE_NAME = re.compile(r"^(\s*name:\s*)([A-Za-z0-9_.-]+)\s*$", re.M)
# A pipeline file's `version` and `_meta` (wgsiem's own marks): package-spec allows neither,
# Fleet writes its own _meta.
_OWN_KEYS = re.compile(r"^(version:.*\n|_meta:.*\n(?:[ \t]+.*\n)*)", re.M)
# How Elasticsearch names the pipeline a failed processor ran in.
_ERROR_PIPELINE = re.compile(r"(in pipeline )(logs-wireguard[a-z-]*)")


@dataclass(frozen=True)
class Package:
    name: str
    version: str
    files: Mapping[str, bytes]  # path inside the package -> content, sorted

    @property
    def root(self) -> str:
        """The folder the zip holds the package in, as Fleet expects: <name>-<version>."""
        return f"{self.name}-{self.version}"


def assemble(*, version: str = __version__, source: bool = False) -> Package:
    """The package as Fleet installs it; with `source`, as a source tree of the
    elastic/integrations repository holds it instead: ECS fields as `external: ecs` (with
    _dev/build/build.yml naming the ECS version), which elastic-package resolves when it
    builds. Fleet itself does not resolve them (it would map each as a keyword), so the
    zip carries every field whole."""
    files: dict[str, bytes] = {}
    for path in sorted(INTEGRATION.rglob("*")):
        relative = path.relative_to(INTEGRATION).as_posix()
        if path.is_file() and relative != "README.md" and "__pycache__" not in relative:
            files[relative] = path.read_bytes()
    files["manifest.yml"] = _versioned(files["manifest.yml"].decode(), version).encode()
    files["LICENSE.txt"] = LICENSE.read_bytes()
    if source:
        files["_dev/build/build.yml"] = _yaml({"dependencies": {"ecs": {"reference": ECS_REFERENCE}}})
    spec = load_spec()
    fields = load_fields()
    events = {folder: _sample_event(path, action, carrying) for folder, (path, action, carrying) in SAMPLES.items()}
    whole: dict[str, list[dict[str, Any]]] = {}
    for folder, dataset in DATA_STREAMS.items():
        base = f"data_stream/{folder}"
        chosen = next(d for d in spec.datasets if d.dataset == dataset)
        manifest = files[f"{base}/manifest.yml"].decode()
        ilm = f"logs-{NAME}.{folder}-{ILM_FILE}"  # the name Fleet installs the policy under
        files[f"{base}/manifest.yml"] = _with_elasticsearch(manifest, f"{base}/manifest.yml", ilm, manifest_index_template(spec)).encode()
        resolved = data_stream_fields(spec, fields, dataset, resolved=True)
        written = data_stream_fields(spec, fields, dataset, resolved=False) if source else resolved
        for name, entries in written.items():
            files[f"{base}/fields/{name}"] = _yaml(entries)
        whole[folder] = [e for es in resolved.values() for e in es]
        files[f"{base}/lifecycle.yml"] = _yaml({"data_retention": chosen.retention})
        files[f"{base}/elasticsearch/ilm/{ILM_FILE}.json"] = _json(ilm_policy(chosen))
        for name, text in _pipelines(files[f"{base}/elasticsearch/ingest_pipeline/default.yml"].decode()).items():
            files[f"{base}/elasticsearch/ingest_pipeline/{name}"] = text.encode()
        files[f"{base}/sample_event.json"] = _json(events[folder])
        files.update({f"{base}/_dev/test/pipeline/{name}": data for name, data in _pipeline_tests(folder, dataset, version)})
    rules = load_rules(DETECTION_RULES)
    types = FieldTypes.default()
    for rule in rules:
        files[f"kibana/security_rule/{rule.rule_id}.json"] = _json(security_rule(rule, version, fields, types))
    for dashboard in load_dashboards(types=types):
        files[f"kibana/dashboard/{object_id(dashboard)}.json"] = _json(dashboard_object(dashboard, types))
    files[f"kibana/index_pattern/{DATA_VIEW_ID}.json"] = _json(data_view())
    files["docs/README.md"] = render_readme(files, whole, rules, version).encode()
    return Package(NAME, version, dict(sorted(files.items())))


def ilm_policy(dataset: Dataset) -> dict[str, Any]:
    """The data stream's ILM policy, for clusters where Fleet gives data streams ILM (all
    but Serverless, which reads lifecycle.yml): Elasticsearch's `logs` rollover, and
    deletion once a backing index is as old as templates.yml's retention. The retention
    counts from rollover, as in any ILM delete phase, so a document may outlive it by up
    to the rollover age."""
    return {
        "policy": {
            "phases": {
                "hot": {"min_age": "0ms", "actions": {"rollover": dict(ROLLOVER)}},
                "delete": {"min_age": dataset.retention, "actions": {"delete": {}}},
            }
        }
    }


def write_zip(package: Package, out_dir: Path) -> Path:
    """<out_dir>/<name>-<version>.zip."""
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / f"{package.root}.zip"
    target.write_bytes(zip_bytes(package))
    return target


def zip_bytes(package: Package) -> bytes:
    """The package as a zip, byte for byte the same for the same package."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for name, data in package.files.items():
            info = zipfile.ZipInfo(f"{package.root}/{name}", date_time=ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o100644 << 16  # a regular file, rw-r--r--
            info.create_system = 3  # Unix, so the mode above is read as one
            archive.writestr(info, data)
    return buffer.getvalue()


def write_unpacked(package: Package, out_dir: Path, folder: str | None = None) -> Path:
    """The package as a folder, <out_dir>/<folder>/ (default <name>-<version>; replaced if there)."""
    root = out_dir / (folder or package.root)
    if root.exists():
        for path in sorted(root.rglob("*"), reverse=True):
            path.unlink() if path.is_file() else path.rmdir()
    for name, data in package.files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return root


# -- the parts --------------------------------------------------------------------------------


def _versioned(manifest: str, version: str) -> str:
    """The manifest source with its version: one line after `name:`, comments kept."""
    if re.search(r"^version:", manifest, re.M):
        raise ValueError("integration/manifest.yml must not set `version`: it is wgsiem's own")
    return re.sub(r"^(name: .*\n)", rf'\1version: "{version}"\n', manifest, count=1, flags=re.M)


def _with_elasticsearch(manifest: str, path: str, ilm_policy: str, index_template: Mapping[str, Any]) -> str:
    """The data stream manifest source with what the build writes from templates.yml:
    `ilm_policy`, and `index_template` under its `elasticsearch` (which the source may
    open for keys of its own). Text, not YAML, so the source's comments stay."""
    doc = yaml.safe_load(manifest)
    if "ilm_policy" in doc or "index_template" in (doc.get("elasticsearch") or {}):
        raise ValueError(f"integration/{path} must not set ilm_policy or elasticsearch.index_template: the build writes them from ecs_mappings/templates.yml")
    mark = "# Written by `wgsiem package build` from ecs_mappings/templates.yml.\n"
    block = _yaml({"index_template": dict(index_template)}).decode()
    nested = mark.replace("# ", "  # ") + "".join(f"  {line}\n" for line in block.splitlines())
    opened = re.search(r"^elasticsearch:[ \t]*\n", manifest, re.M)
    if opened:
        manifest = manifest[: opened.end()] + nested + manifest[opened.end() :]
    else:
        manifest = manifest.rstrip("\n") + "\nelasticsearch:\n" + nested
    return manifest.rstrip("\n") + "\n" + mark + _yaml({"ilm_policy": ilm_policy}).decode()


def _pipelines(default: str) -> dict[str, str]:
    """The ingest_pipelines/ files a data stream's default pipeline calls, directly or
    through each other, with every `pipeline` processor naming its target the way a
    package must (`{{ IngestPipeline "name" }}`: Fleet prefixes the installed names)."""
    out: dict[str, str] = {}
    todo = list(_called(default))
    while todo:
        name = todo.pop()
        if f"{name}.yml" in out:
            continue
        text = (INGEST_PIPELINES / f"{name}.yml").read_text()
        calls = set(_called(text))
        todo += calls

        def packaged(m: re.Match[str], calls: set[str] = calls) -> str:
            # Only a `name:` that names a pipeline this one calls is a pipeline processor's.
            return f"{m.group(1)}'{{{{ IngestPipeline \"{m.group(2)}\" }}}}'" if m.group(2) in calls else m.group(0)

        out[f"{name}.yml"] = _document_start(_PIPELINE_NAME.sub(packaged, _OWN_KEYS.sub("", text)))
    return dict(sorted(out.items()))


def _document_start(text: str) -> str:
    """package-spec wants a pipeline's YAML to begin with `---` (require-document-dashes)."""
    return text if text.startswith("---\n") else "---\n" + text


def _called(text: str) -> Iterator[str]:
    """The pipelines a pipeline's `pipeline` processors call (by name or by the template call)."""
    for _, kind, options in processors(yaml.safe_load(text)):
        name = options.get("name") if kind == "pipeline" and isinstance(options, dict) else None
        if isinstance(name, str):
            found = INGEST_PIPELINE_CALL.fullmatch(name)
            yield (found.group(1) or found.group(2)) if found else name


def _sample_event(path: Path, action: str, carrying: tuple[str, ...]) -> dict[str, Any]:
    """The first event of `action` in the file that names its peer and has the fields `carrying`."""
    for doc in _recorded(path):
        if doc["event"]["action"] == action and all(_has(doc, name) for name in ("wireguard.peer.name", *carrying)):
            return doc
    with_fields = f" with {', '.join(carrying)}" if carrying else ""
    raise ValueError(f"{path}: no named {action} event{with_fields} for a sample")


def _has(doc: Mapping[str, Any], name: str) -> bool:
    value: Any = doc
    for key in name.split("."):
        value = value.get(key) if isinstance(value, Mapping) else None
    return value is not None and value != ""


def _recorded(path: Path) -> Iterator[dict[str, Any]]:
    if path.suffix == ".json":  # a pipeline test
        yield from json.loads(path.read_text())["events"]
        return
    with path.open() as lines:
        for line in lines:
            yield json.loads(line)


def _pipeline_tests(folder: str, dataset: str, version: str) -> Iterator[tuple[str, bytes]]:
    """ingest_pipelines/'s tests of the pipeline this data stream runs first, each test's
    events restricted to those that stay in this data stream (a status test's wireguard.log
    and wireguard.flow events belong to the log and flow data streams, where
    routing_rules.yml sends them), and the
    pipelines an expected error names called as Fleet installs them."""
    for name, data in _pipeline_test_files(folder, dataset):
        if name.endswith("-expected.json"):
            data = _ERROR_PIPELINE.sub(lambda m: m.group(1) + pipeline_name(dataset, version, m.group(2)), data.decode()).encode()
        yield name, data


# The pipeline tests of ingest_pipelines/ each data stream's own come from: the shipper's
# documents (logs-wireguard) or the raw lines (logs-wireguard-raw).
_WGSIEM_TESTS = INGEST_PIPELINES / "_dev" / "test" / "pipeline" / "logs-wireguard"
_RAW_TESTS = INGEST_PIPELINES / "_dev" / "test" / "pipeline" / "logs-wireguard-raw"


def _pipeline_test_files(folder: str, dataset: str) -> Iterator[tuple[str, bytes]]:
    if folder == "flow":  # only the shipper's documents, rerouted from the status data stream
        yield from _common_config(_WGSIEM_TESTS)
        yield from _rerouted_events_of_status_tests(dataset, "test-")
        return
    source = _WGSIEM_TESTS if folder == "status" else _RAW_TESTS
    for path in sorted(source.iterdir()):
        if path.name.endswith("-expected.json") or not path.is_file():
            continue
        if path.suffix != ".json":  # test-common-config.yml, and .log tests (raw lines: one data stream)
            yield path.name, path.read_bytes()
            expected = path.with_name(path.name + "-expected.json")
            if expected.exists():
                yield expected.name, expected.read_bytes()
            continue
        events, outputs = _restricted(path, lambda d: d in (dataset, None))
        if events:
            yield path.name, _json({"events": events})
            yield f"{path.name}-expected.json", _json({"expected": outputs})
    if folder == "log":  # the status tests' wireguard.log events, as the log data stream gets them
        yield from _rerouted_events_of_status_tests(dataset, "test-wgsiem-")


def _common_config(source: Path) -> Iterator[tuple[str, bytes]]:
    config = source / "test-common-config.yml"
    yield config.name, config.read_bytes()


def _rerouted_events_of_status_tests(dataset: str, prefix: str) -> Iterator[tuple[str, bytes]]:
    """The events of the shipper's pipeline tests that the status data stream reroutes to
    `dataset`'s, as tests of their own named `prefix`<the test's name>."""
    for path in sorted(_WGSIEM_TESTS.glob("test-*.json")):
        if path.name.endswith("-expected.json"):
            continue
        events, outputs = _restricted(path, lambda d: d == dataset)
        if events:
            name = path.name.replace("test-", prefix, 1)
            yield name, _json({"events": events})
            yield f"{name}-expected.json", _json({"expected": outputs})


def _restricted(path: Path, keep: Callable[[str | None], bool]) -> tuple[list[Any], list[Any]]:
    """A JSON pipeline test's events and their expected documents, only those whose
    data_stream.dataset `keep` accepts."""
    events = json.loads(path.read_text())["events"]
    outputs = json.loads(path.with_name(path.name + "-expected.json").read_text())["expected"]
    kept = [i for i, event in enumerate(events) if keep(_dataset_of(event))]
    return [events[i] for i in kept], [outputs[i] for i in kept]


def _dataset_of(event: Mapping[str, Any]) -> str | None:
    dataset = event.get("data_stream", {}).get("dataset")
    return dataset if isinstance(dataset, str) else None


def _yaml(data: Any) -> bytes:  # noqa: ANN401 - any YAML document
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=1000).encode()


def _json(data: Any) -> bytes:  # noqa: ANN401 - any JSON document
    return (json.dumps(data, indent=2, ensure_ascii=False) + "\n").encode()
