"""Elasticsearch component and index templates, assembled from ecs_mappings/.

`ecs_mappings/templates.yml` declares everything (names, patterns, priority, version,
settings, mapping options, and which field files each template maps); this module only
assembles request bodies:

    for name, body in component_templates().items():   # first: index templates use them
        es.cluster.put_component_template(name=name, **body)
    for name, body in index_templates().items():
        es.indices.put_index_template(name=name, **body)

Every body carries `version` (templates.yml's) and `_meta.managed_by` = "wgsiem", so an
installer can skip a template already at this version and leave others' alone.

Types by distribution: `match_only_text` and `scaled_float` come from the mapper-extras
module, `constant_keyword`, `wildcard` and `unsigned_long` from x-pack plugins; the
default distribution has all of them (free under the Basic license). A node without them
(the integ-test-zip distribution ships no such module or plugin) takes templates made
with `substitutes=MINIMAL_DISTRIBUTION_TYPES`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from .. import __version__
from .fields import DEFAULT_IGNORE_ABOVE, ECS_MAPPINGS_DIR, TEMPLATES_FILE, Field, FieldError, field_files, load_fields

# The ingest pipeline every wgsiem data stream runs by default (index.default_pipeline).
DEFAULT_PIPELINE = "logs-wireguard"
MANAGED_BY = "wgsiem"
TEMPLATES_SCHEMA = "templates.schema.json"

# Stand-ins for a node that lacks mapper-extras and the x-pack mapper plugins. Values
# keep their meaning but lose something: keyword for constant_keyword (stored per
# document) and wildcard (no fast infix search), text for match_only_text (more disk),
# double for unsigned_long (exact only up to 2**53 bytes, 9 PB: enough for tests).
MINIMAL_DISTRIBUTION_TYPES: Mapping[str, str] = {
    "constant_keyword": "keyword",
    "wildcard": "keyword",
    "unsigned_long": "double",
    "match_only_text": "text",
    "scaled_float": "double",
}
# Which module or plugin of the default distribution brings each optional field type,
# and what the default pipeline needs: its processors (ingest-common, ingest-geoip) and
# the painless `if` conditions (lang-painless).
TYPE_MODULES: Mapping[str, str] = {
    "constant_keyword": "constant-keyword",
    "wildcard": "wildcard",
    "unsigned_long": "unsigned-long",
    "match_only_text": "mapper-extras",
    "scaled_float": "mapper-extras",
}
PIPELINE_MODULES = ("ingest-common", "ingest-geoip", "lang-painless")
# Mapping parameters only some types take: dropped when a substitute type does not.
_TYPE_ONLY = {"ignore_above": {"keyword", "wildcard"}, "scaling_factor": {"scaled_float"}, "value": {"constant_keyword"}}


@dataclass(frozen=True, slots=True)
class Dataset:
    dataset: str
    description: str
    index_template: str
    index_patterns: tuple[str, ...]
    package: str  # component template with the dataset's settings and own fields
    custom: str  # optional component template for the user's changes
    retention: str  # data stream lifecycle data_retention, e.g. 365d
    files: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Spec:
    """templates.yml, validated."""

    version: int
    priority: int
    mapping_options: Mapping[str, Any]
    settings: Mapping[str, Any]
    shared: str
    shared_description: str
    shared_files: tuple[str, ...]
    datasets: tuple[Dataset, ...]


def load_spec(directory: Path = ECS_MAPPINGS_DIR) -> Spec:
    """templates.yml of `directory`, checked against templates.schema.json and the field files."""
    directory = Path(directory)
    source = directory / TEMPLATES_FILE
    raw = yaml.safe_load(source.read_text())
    schema = json.loads((directory / TEMPLATES_SCHEMA).read_text())
    errors = sorted(jsonschema.validators.validator_for(schema)(schema).iter_errors(raw), key=lambda e: list(map(str, e.absolute_path)))
    if errors:
        raise FieldError("\n".join(f"{TEMPLATES_FILE}: {'.'.join(map(str, e.absolute_path)) or '(top)'}: {e.message}" for e in errors))
    spec = Spec(
        version=raw["version"],
        priority=raw["priority"],
        mapping_options=raw["mapping_options"],
        settings=raw["settings"],
        shared=raw["shared"]["name"],
        shared_description=raw["shared"]["description"],
        shared_files=tuple(raw["shared"]["files"]),
        datasets=tuple(
            Dataset(**{**d, "index_patterns": tuple(d["index_patterns"]), "files": tuple(d["files"])}) for d in raw["datasets"]
        ),
    )
    known = {p.name for p in field_files(directory)}
    used = list(spec.shared_files) + [f for d in spec.datasets for f in d.files]
    problems = [f"{TEMPLATES_FILE}: field file {f} does not exist" for f in used if f not in known]
    problems += [f"{TEMPLATES_FILE}: field file {f} is used by no template" for f in sorted(known - set(used))]
    for d in spec.datasets:
        twice = set(d.files) & set(spec.shared_files)
        if twice:
            problems.append(f"{TEMPLATES_FILE}: dataset {d.dataset}: {sorted(twice)} already in {spec.shared}")
    names = [spec.shared] + [n for d in spec.datasets for n in (d.package, d.custom)]
    if len(set(names)) != len(names):
        problems.append(f"{TEMPLATES_FILE}: component template names repeat: {names}")
    if problems:
        raise FieldError("\n".join(problems))
    return spec


def mappings(fields: Iterable[Field], substitutes: Mapping[str, str] | None = None) -> dict[str, Any]:
    """`{"properties": ...}` for the fields, nested by their dotted names, sorted."""
    root: dict[str, Any] = {}
    for f in sorted(fields, key=lambda f: f.name):
        node = root
        *parents, leaf = f.name.split(".")
        for part in parents:
            node = node.setdefault(part, {}).setdefault("properties", {})
        node[leaf] = substituted(f.mapping(), substitutes or {})
    return {"properties": root}


def substituted(mapping: dict[str, Any], substitutes: Mapping[str, str]) -> dict[str, Any]:
    """One field's mapping with its type (and its multi-fields' types) replaced by the
    stand-in `substitutes` names, dropping parameters the stand-in does not take."""
    es_type = substitutes.get(mapping["type"], mapping["type"])
    if es_type == mapping["type"] and "fields" not in mapping:
        return mapping
    out = {k: v for k, v in mapping.items() if k not in _TYPE_ONLY or es_type in _TYPE_ONLY[k]}
    out["type"] = es_type
    if es_type == "keyword" and mapping["type"] != "keyword":
        out.setdefault("ignore_above", DEFAULT_IGNORE_ABOVE)  # a keyword term must stay under Lucene's limit
    if "fields" in mapping:
        out["fields"] = {name: substituted(sub, substitutes) for name, sub in mapping["fields"].items()}
    return out


def _meta(description: str) -> dict[str, Any]:
    return {"managed_by": MANAGED_BY, "managed": True, "package": {"name": "wgsiem", "version": __version__}, "description": description}


@dataclass(frozen=True, slots=True)
class NodeFit:
    """How the templates adapt to a cluster that lacks some modules."""

    substitutes: Mapping[str, str]  # field type -> the stand-in used instead
    default_pipeline: str | None  # None: the cluster cannot run the pipeline
    notes: tuple[str, ...]  # one line per adaptation, for the user


def fit_to_modules(modules: Iterable[str]) -> NodeFit:
    """The templates' adaptations to a cluster whose every node has `modules` (module and
    plugin names, as `GET _nodes/plugins` lists them). The default distribution needs none."""
    have = set(modules)
    substitutes = {t: MINIMAL_DISTRIBUTION_TYPES[t] for t, module in TYPE_MODULES.items() if module not in have}
    notes = [f"the cluster has no {TYPE_MODULES[t]} module: {t} fields are mapped as {s}" for t, s in substitutes.items()]
    missing = [m for m in PIPELINE_MODULES if m not in have]
    pipeline: str | None = DEFAULT_PIPELINE
    if missing:
        pipeline = None
        notes.append(
            f"the cluster has no {', '.join(missing)}: no index.default_pipeline, so documents are indexed as "
            "sent (no event.ingested, related.ip or pipeline GeoIP; raw Filebeat lines stay unparsed)"
        )
    return NodeFit(substitutes, pipeline, tuple(notes))


def component_templates(
    directory: Path = ECS_MAPPINGS_DIR,
    *,
    substitutes: Mapping[str, str] | None = None,
    default_pipeline: str | None = DEFAULT_PIPELINE,
) -> dict[str, dict[str, Any]]:
    """name -> body of `PUT _component_template/<name>`: the shared mappings, then each
    dataset's @package (its settings, with index.default_pipeline unless None, and its
    own fields). The @custom templates are the user's: never made here."""
    spec = _spec(Path(directory))
    by_file: dict[str, list[Field]] = {}
    for f in _fields(Path(directory)).values():
        by_file.setdefault(f.file, []).append(f)

    def fields_of(files: Iterable[str]) -> list[Field]:
        return [f for name in files for f in by_file.get(name, [])]

    shared_mappings = {**json.loads(json.dumps(spec.mapping_options)), **mappings(fields_of(spec.shared_files), substitutes)}
    out = {
        spec.shared: {
            "template": {"mappings": shared_mappings},
            "version": spec.version,
            "_meta": _meta(spec.shared_description),
        }
    }
    for d in spec.datasets:
        settings = dict(spec.settings)
        if default_pipeline is not None:
            settings["index.default_pipeline"] = default_pipeline
        # The lifecycle here, not in the index template, so @custom (composed after) can change it.
        template: dict[str, Any] = {"settings": settings, "lifecycle": {"data_retention": d.retention}}
        own = fields_of(d.files)
        if own:
            template["mappings"] = mappings(own, substitutes)
        out[d.package] = {
            "template": template,
            "version": spec.version,
            "_meta": _meta(f"{d.dataset}: settings and fields of its own. {d.description}"),
        }
    return out


def index_templates(directory: Path = ECS_MAPPINGS_DIR) -> dict[str, dict[str, Any]]:
    """name -> body of `PUT _index_template/<name>`: one data stream template per dataset."""
    spec = _spec(Path(directory))
    return {
        d.index_template: {
            "index_patterns": list(d.index_patterns),
            "data_stream": {},
            "priority": spec.priority,
            "composed_of": [spec.shared, d.package, d.custom],
            "ignore_missing_component_templates": [d.custom],
            "version": spec.version,
            "_meta": _meta(f"{d.dataset}: {d.description}"),
        }
        for d in spec.datasets
    }


def template_fields(directory: Path = ECS_MAPPINGS_DIR) -> dict[str, list[str]]:
    """Index template name -> the names of every field its component templates map."""
    spec = _spec(Path(directory))
    fields = _fields(Path(directory))
    return {
        d.index_template: sorted(n for n, f in fields.items() if f.file in spec.shared_files or f.file in d.files)
        for d in spec.datasets
    }


@cache
def _spec(directory: Path) -> Spec:
    return load_spec(directory)


@cache
def _fields(directory: Path) -> dict[str, Field]:
    return load_fields(directory)
