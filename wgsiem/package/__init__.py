"""The `wireguard` Elastic integration package: build, validate, install.

The package (package-spec 3.x, the layout of elastic/integrations) carries the same content
as the commands that work without Fleet: the field definitions of `ecs_mappings/`, the
ingest pipelines and their tests, the rules; `integration/` adds its own manifests, inputs
and icon.

- Building: `build.py` assembles it (`assemble`, `write_zip`), with `field_files.py` (our
  field definitions as `fields/*.yml` entries), `rules.py` (rule assets), `readme.py`
  (docs/README.md) and `installed.py` (the names Fleet gives the pipelines and what it
  appends to them); `agent_policy.py` renders its streams as a standalone agent policy.
- Checking: `validate.py` (`validate_package`) holds a package folder or zip to the
  package-spec rules that matter, with JSON Schemas of our own in `schemas/` and the checks a
  schema cannot make in `layout.py`, `fields.py`, `pipelines.py`, `kibana.py` and
  `images.py`; every `Problem` names the file inside the package and the key.
- What Fleet makes of it: `fleet_templates.py` (Fleet's rules from `fields/*.yml` to
  component and index templates), `compare.py` (Fleet's mappings against `wgsiem templates
  install`'s, each remaining difference with its reason from `fleet_differences.yaml`) and
  `node_fit.py` (Fleet's templates fitted to a cluster that lacks modules).
  docs/fleet-templates.md names the Fleet source of each rule.
- Installing goes through Fleet's upload API (`wgsiem.adapters.fleet`).
"""
