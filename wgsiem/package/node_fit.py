"""Fleet's templates for a cluster that lacks some modules, fitted as `templates install`
fits its own (`wgsiem.mappings.templates.fit_to_modules`).

A cluster of the default distribution with Kibana takes Fleet's templates as they are. The
integ-test distribution the `es` tests run on has neither the modules some field types
and settings need nor the component templates Fleet's index template is composed of
(Elasticsearch's stack templates and Fleet's own come from x-pack modules and from Kibana).
`fit_fleet_templates` gives what such a node can take and says what it changed:

- field types the node lacks get `templates install`'s stand-ins (in properties,
  multi-fields and dynamic templates);
- `index.default_pipeline` is left out where the node cannot run pipelines, and
  `index.lifecycle` where it has no ILM;
- each `composed_of` template the node does not have is given a stand-in under
  `prefix + name` when its content is known and matters (`STAND_INS`), else left out, with
  the reason (`LEFT_OUT`); the `@custom` templates stay, optional as Fleet makes them.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ..mappings.templates import fit_to_modules, substituted
from .fleet_templates import (
    FLEET_AGENT_ID_VERIFY_COMPONENT_TEMPLATE_NAME,
    FLEET_EVENT_INGESTED_COMPONENT_TEMPLATE_NAME,
    FLEET_GLOBALS_COMPONENT_TEMPLATE,
    FLEET_GLOBALS_COMPONENT_TEMPLATE_NAME,
    STACK_COMPONENT_TEMPLATE_ECS_MAPPINGS,
    STACK_COMPONENT_TEMPLATE_LOGS_MAPPINGS,
    STACK_COMPONENT_TEMPLATE_LOGS_SETTINGS,
    USER_SETTINGS_TEMPLATE_SUFFIX,
    split_templates,
)

ILM_MODULE = "x-pack-ilm"

# Elasticsearch's `logs@settings` (x-pack/plugin/core/template-resources/src/main/resources/
# logs@settings.json), which Fleet's logs index templates are composed of first.
LOGS_SETTINGS_COMPONENT_TEMPLATE: Mapping[str, Any] = {
    "template": {
        "settings": {
            "index": {
                "lifecycle": {"name": "logs@lifecycle"},
                "codec": "best_compression",
                "mapping": {"ignore_malformed": True, "total_fields": {"ignore_dynamic_beyond_limit": True}},
                "default_pipeline": "logs@default-pipeline",
            }
        },
        "data_stream_options": {"failure_store": {"enabled": True}},
    },
    "_meta": {"description": "default settings for the logs index template installed by x-pack", "managed": True},
}

# A composed_of template the node lacks whose content we know and that changes what a
# document becomes: created under the prefixed name (then fitted like the rest).
STAND_INS: Mapping[str, Mapping[str, Any]] = {
    FLEET_GLOBALS_COMPONENT_TEMPLATE_NAME: FLEET_GLOBALS_COMPONENT_TEMPLATE,
    STACK_COMPONENT_TEMPLATE_LOGS_SETTINGS: LOGS_SETTINGS_COMPONENT_TEMPLATE,
}
# One the node lacks that is left out, and why that changes nothing the tests look at.
LEFT_OUT: Mapping[str, str] = {
    STACK_COMPONENT_TEMPLATE_LOGS_MAPPINGS: (
        "every property it maps (@timestamp, data_stream.*) is mapped again by the @package template composed after it, "
        "and its date_detection: false comes from .fleet_globals-1 as well"
    ),
    STACK_COMPONENT_TEMPLATE_ECS_MAPPINGS: (
        "its dynamic templates only map fields no template defines; every field of a wgsiem document is defined "
        "in the @package template, and a defined field never goes through a dynamic template"
    ),
    FLEET_AGENT_ID_VERIFY_COMPONENT_TEMPLATE_NAME: (
        "its final pipeline .fleet_final_pipeline-1 (event.ingested, event.agent_id_status) needs ingest-common and "
        "lang-painless; the templates are those of a Kibana with xpack.fleet.agentIdVerificationEnabled: false"
    ),
    FLEET_EVENT_INGESTED_COMPONENT_TEMPLATE_NAME: "like .fleet_agent_id_verification-1, it sets a final pipeline the node cannot run",
}


@dataclass(frozen=True, slots=True)
class FittedTemplates:
    component_templates: dict[str, dict[str, Any]]  # name -> body, PUT first (stand-ins, then @package)
    index_templates: dict[str, dict[str, Any]]
    notes: tuple[str, ...]  # one line per change, for the person running it


def fit_fleet_templates(
    templates: Mapping[str, Mapping[str, Any]],
    modules: Iterable[str],
    available: Iterable[str],
    *,
    prefix: str = "",
) -> FittedTemplates:
    """`templates` (a `fleet_templates` result, or several merged) fitted to a cluster whose
    every node has `modules` and that holds the component templates `available`."""
    have = set(modules)
    present = set(available)
    fit = fit_to_modules(have)
    notes = list(fit.notes)
    components, indices = split_templates(templates)
    stand_ins: dict[str, dict[str, Any]] = {}
    fitted_indices = {}
    for name, body in indices.items():
        body = copy.deepcopy(body)
        composed = []
        for part in body["composed_of"]:
            if part.endswith(USER_SETTINGS_TEMPLATE_SUFFIX) or part in components or part in present:
                composed.append(part)
            elif part in STAND_INS:
                composed.append(prefix + part)
                if prefix + part not in stand_ins:
                    stand_ins[prefix + part] = copy.deepcopy(dict(STAND_INS[part]))
                    notes.append(f"the cluster has no component template {part}: a stand-in {prefix + part} with its content")
            else:
                note = f"the cluster has no component template {part}: left out of {name} ({LEFT_OUT.get(part, 'not known here')})"
                if note not in notes:
                    notes.append(note)
        body["composed_of"] = composed
        fitted_indices[name] = body
    fitted = {}
    for name, body in {**stand_ins, **components}.items():
        fitted[name] = _fit_component(name, body, fit.substitutes, pipelines=fit.default_pipeline is not None, ilm=ILM_MODULE in have, notes=notes)
    return FittedTemplates(fitted, fitted_indices, tuple(notes))


def _fit_component(  # noqa: PLR0913 - the body and what the node lacks
    name: str,
    body: Mapping[str, Any],
    substitutes: Mapping[str, str],
    *,
    pipelines: bool,
    ilm: bool,
    notes: list[str],
) -> dict[str, Any]:
    out = copy.deepcopy(dict(body))
    template = out.get("template") or {}
    index = (template.get("settings") or {}).get("index") or {}
    if not pipelines and index.pop("default_pipeline", None) is not None:
        notes.append(f"{name}: no index.default_pipeline (the cluster cannot run ingest pipelines)")
    if not ilm and index.pop("lifecycle", None) is not None:
        notes.append(f"{name}: no index.lifecycle (the cluster has no {ILM_MODULE} module)")
    mappings = template.get("mappings")
    if mappings and substitutes:
        if "properties" in mappings:
            mappings["properties"] = _substitute_properties(mappings["properties"], substitutes)
        for entry in mappings.get("dynamic_templates", []):
            for spec in entry.values():
                if "type" in spec.get("mapping", {}):
                    spec["mapping"] = substituted(spec["mapping"], substitutes)
    return out


def _substitute_properties(properties: Mapping[str, Any], substitutes: Mapping[str, str]) -> dict[str, Any]:
    out = {}
    for name, spec in properties.items():
        spec = dict(spec)
        if "properties" in spec:
            spec["properties"] = _substitute_properties(spec["properties"], substitutes)
        elif spec.get("type") not in (None, "object", "nested"):
            spec = substituted(spec, substitutes)
        out[name] = spec
    return out
