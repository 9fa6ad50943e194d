"""What Fleet makes of the package's pipelines when it installs it: their names, and the
bodies with each `{{ IngestPipeline "name" }}` reference resolved to an installed name.

Fleet installs a data stream's `default.yml` as `<type>-<dataset>-<version>` (the name the
data stream's template sets as `index.default_pipeline`) and every other pipeline file as
`<type>-<dataset>-<version>-<file stem>`, so two versions of the package can live side by
side during an upgrade. (Kibana: x-pack/.../fleet/server/services/epm/elasticsearch/
ingest_pipeline/install.ts and helpers.ts, `getPipelineNameForDatastream` and the
`IngestPipeline` template substitution, `fleet_rewrite` here.)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import yaml

from .pipelines import fleet_rewrite

_FOLDER = "elasticsearch/ingest_pipeline/"


def pipeline_name(dataset: str, version: str, stem: str = "default", *, data_type: str = "logs") -> str:
    base = f"{data_type}-{dataset}-{version}"
    return base if stem == "default" else f"{base}-{stem}"


def installed_pipelines(files: Mapping[str, bytes], folder: str, version: str) -> dict[str, dict[str, Any]]:
    """Installed name -> body, for the pipelines of data stream `folder` of a package's files."""
    manifest = yaml.safe_load(files[f"data_stream/{folder}/manifest.yml"])
    dataset, data_type = manifest["dataset"], manifest["type"]
    prefix = f"data_stream/{folder}/{_FOLDER}"
    paths = [p for p in files if p.startswith(prefix) and p.endswith((".yml", ".yaml", ".json"))]
    stems = [p[len(prefix) :].split(".", 1)[0] for p in paths]
    out = {}
    for path, stem in zip(paths, stems, strict=True):
        text = fleet_rewrite(files[path].decode(), stems, lambda n: pipeline_name(dataset, version, n, data_type=data_type))
        body = yaml.safe_load(text)
        if stem == "default":
            body.setdefault("processors", []).extend(_appended(files, folder, manifest))
        out[pipeline_name(dataset, version, stem, data_type=data_type)] = body
    return dict(sorted(out.items()))


def _appended(files: Mapping[str, bytes], folder: str, manifest: Mapping[str, Any]) -> list[dict[str, Any]]:
    """What Fleet adds at the end of a data stream's default pipeline."""
    data_type, dataset = manifest["type"], manifest["dataset"]
    package = yaml.safe_load(files["manifest.yml"])["name"]
    custom = [
        ("global@custom", "[Fleet] Global pipeline for all data streams"),
        (f"{data_type}@custom", f"[Fleet] Pipeline for all data streams of type `{data_type}`"),
        (f"{data_type}-{package}.integration@custom", f"[Fleet] Pipeline for all data streams of type `{data_type}` defined by the `{package}` integration"),
        (f"{data_type}-{dataset}@custom", f"[Fleet] Pipeline for the `{dataset}` dataset"),
    ]
    out: list[dict[str, Any]] = [
        {"pipeline": {"name": name, "ignore_missing_pipeline": True, "description": description}} for name, description in custom
    ]
    rules = yaml.safe_load(files.get(f"data_stream/{folder}/routing_rules.yml", b"[]")) or []
    for source in rules:
        if source["source_dataset"] != dataset:
            continue
        for rule in source["rules"]:
            reroute = {"tag": dataset, "dataset": rule["target_dataset"], "namespace": rule.get("namespace"), "if": rule["if"]}
            out.append({"reroute": {k: v for k, v in reroute.items() if v is not None}})
    return out
