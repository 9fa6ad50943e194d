"""A data stream's fields in the package-spec form, from ecs_mappings/.

Each data stream maps what its index template maps (`ecs_mappings/templates.yml`: the
shared files and the dataset's own). The package keeps them in three files as the
elastic/integrations packages do: `base-fields.yml` (the data stream and `@timestamp`
fields every package declares), `ecs.yml` (ECS's own fields) and `fields.yml` (the rest:
`wireguard.*` and what Filebeat and journald add).
"""

from __future__ import annotations

from typing import Any

from ..mappings.fields import Field, load_fields
from ..mappings.templates import load_spec

BASE = ("@timestamp", "data_stream.type", "data_stream.dataset", "data_stream.namespace", "event.module", "event.dataset")
# Options a field definition takes, as the package spec names them (most are the
# Elasticsearch mapping parameter of the same name).
_OPTIONS = ("ignore_above", "index", "doc_values", "scaling_factor", "value")


def package_fields(dataset: str) -> dict[str, list[dict[str, Any]]]:
    """File name -> its entries, for the data stream of `dataset`."""
    spec = load_spec()
    (wanted,) = [d for d in spec.datasets if d.dataset == dataset]
    files = set(spec.shared_files) | set(wanted.files)
    fields = [f for f in load_fields().values() if f.file in files]
    out: dict[str, list[dict[str, Any]]] = {"base-fields.yml": [], "ecs.yml": [], "fields.yml": []}
    for f in sorted(fields, key=lambda f: f.name):
        target = "base-fields.yml" if f.name in BASE else "ecs.yml" if f.file == "ecs.yml" else "fields.yml"
        out[target].append(_entry(f))
    return out


def _entry(f: Field) -> dict[str, Any]:
    entry: dict[str, Any] = {"name": f.name, "type": f.type, "description": f.description}
    for key in _OPTIONS:
        if key in f.options:
            entry[key] = f.options[key]
    if "fields" in f.options:
        entry["multi_fields"] = [{"name": name, "type": spec["type"], **{k: v for k, v in spec.items() if k != "type"}}
                                 for name, spec in f.options["fields"].items()]  # fmt: skip
    if f.example is not None:
        entry["example"] = f.example
    return entry
