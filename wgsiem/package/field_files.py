"""Our field definitions (`ecs_mappings/`, `wgsiem.mappings.Field`) as the entries of a
package's `data_stream/<name>/fields/*.yml`, in the package-spec 3.x field format.

Which fields are ECS: exactly those of `ecs_mappings/ecs.yml`. That file holds the ECS
fields wgsiem documents use, with ECS's types, and nothing else (`filebeat.yml`,
`journald.yml` and `wireguard.yml` hold what ECS does not define); `is_ecs` is that rule.

Two forms, because Fleet does not resolve `external: ecs`:

- the source form (`resolved=False`) is what a package's source tree holds: an ECS field
  is `{name, external: ecs, description, example}`, and elastic-package, when it builds
  the package, replaces it with ECS's definition from the ECS version in
  `_dev/build/build.yml` (`internal/fields/dependency_manager.go`: type, description,
  pattern, index, doc_values, multi_fields, with what the entry itself sets overriding
  anything but the type; `external` removed);
- the resolved form (`resolved=True`) is what the built package holds and Fleet reads:
  every field with its full definition. For an ECS field it is what elastic-package's
  resolution gives when `ecs.yml` agrees with ECS, as it promises to (ECS 9.0.0's types,
  multi-fields, index and doc_values).

An entry from a `Field`: `name`, `type`, `description`; `ignore_above` only where it is not
the 1024 Fleet gives every keyword anyway (Fleet cannot express "no limit": it drops the
limit only for a keyword that is not indexed or has no doc values, as `event.original`);
`index`, `doc_values`, `scaling_factor`, `value`, `multi_fields`, `example` as they are;
`array: true` as `normalize: [array]` (elastic-package's check that the field always holds
a list; ECS sets it for its own array fields). An `object` field (`journald.custom`)
becomes `object_type: keyword` with `ignore_above: 1024`: package-spec 3 wants an object's
member type, and a string under it is what our root `strings_as_keyword` template maps,
so the package says explicitly what our templates do.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ..mappings.fields import DEFAULT_IGNORE_ABOVE, Field
from ..mappings.templates import Spec

ECS_FILE = "ecs.yml"


def is_ecs(field: Field) -> bool:
    """An ECS field: one defined in ecs_mappings/ecs.yml."""
    return field.file == ECS_FILE


def package_field(field: Field, *, resolved: bool) -> dict[str, Any]:
    """One `fields/*.yml` entry for the field (see the module docstring for both forms)."""
    entry: dict[str, Any] = {"name": field.name}
    if is_ecs(field) and not resolved:
        entry["external"] = "ecs"
        entry["description"] = field.description
        # What elastic-package does not take from ECS but a mapping depends on: kept as
        # overrides (none of today's ECS fields needs one).
        entry.update(_options(field, keys=("ignore_above", "scaling_factor", "value")))
    else:
        entry["type"] = field.type
        entry["description"] = field.description
        entry.update(_options(field, keys=("ignore_above", "index", "doc_values", "scaling_factor", "value")))
        if field.multi_fields:
            entry["multi_fields"] = [{"name": name, **dict(spec)} for name, spec in field.options["fields"].items()]
        if field.type == "object":
            entry["object_type"] = "keyword"
            entry["ignore_above"] = DEFAULT_IGNORE_ABOVE
        if field.array and not is_ecs(field):
            entry["normalize"] = ["array"]
    if field.example is not None:
        entry["example"] = field.example
    return entry


def _options(field: Field, keys: Iterable[str]) -> dict[str, Any]:
    out = {}
    for key in keys:
        if key not in field.options:
            continue
        value = field.options[key]
        if key == "ignore_above" and value == DEFAULT_IGNORE_ABOVE:
            continue  # Fleet's default for every keyword
        out[key] = value
    return out


def package_fields(fields: Iterable[Field], *, resolved: bool) -> list[dict[str, Any]]:
    """The entries of a `fields/*.yml`, in the order given."""
    return [package_field(f, resolved=resolved) for f in fields]


def data_stream_fields(spec: Spec, fields: Mapping[str, Field], dataset: str, *, resolved: bool) -> dict[str, list[dict[str, Any]]]:
    """`fields/<file>` → entries for the data stream of `dataset` (`wireguard.status`): the
    field files `templates.yml` gives that dataset (the shared ones, then its own), under
    their own names. The package builder writes them; Fleet concatenates them in order."""
    chosen = next((d for d in spec.datasets if d.dataset == dataset), None)
    if chosen is None:
        raise KeyError(f"templates.yml has no dataset {dataset!r}")
    out: dict[str, list[dict[str, Any]]] = {}
    for file in (*spec.shared_files, *chosen.files):
        entries = package_fields((f for f in fields.values() if f.file == file), resolved=resolved)
        if entries:
            out[file] = entries
    return out


def manifest_index_template(spec: Spec) -> dict[str, Any]:
    """The data stream manifest's `elasticsearch.index_template` that gives Fleet's
    `@package` template the mapping options of ours (`templates.yml` `mapping_options`:
    `dynamic`, `date_detection`, the `strings_as_keyword` dynamic template), all of which
    package-spec allows there. The settings of ours are not: package-spec lets a manifest
    set only a few index settings (codec, sort, the field count limits), so
    `index.mapping.ignore_malformed` and `...ignore_dynamic_beyond_limit` come from
    Elasticsearch's `logs@settings` in Fleet's index template."""
    return {"mappings": {k: _plain(v) for k, v in spec.mapping_options.items()}}


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value
