"""The `wireguard` Elastic integration package: build, validate, install.

The package is the elastic/integrations layout (package-spec 3.x) of what this repository
holds as its own content: data streams with their field definitions, ingest pipelines,
agent stream templates and pipeline tests, detection rules as `kibana/security_rule`
assets, and later dashboards.

- `build.py` assembles it from `integration/` and the content folders (`assemble`,
  `write_zip`), with `field_files.py` (fields/*.yml from ecs_mappings/), `rules.py` (rule
  assets), `readme.py` (docs/README.md) and `installed.py` (what Fleet names and appends when
  it installs the pipelines); `agent_policy.py` renders its streams as a standalone policy.
- `validate.py` (`validate_package`) checks a package folder or zip against the
  package-spec rules that matter, with JSON Schemas of our own in `schemas/` and the checks
  a schema cannot make in `layout.py`, `fields.py`, `pipelines.py`, `kibana.py` and
  `images.py`; every `Problem` names the file inside the package and the key.
- Installing goes through Fleet's upload API (`wgsiem.adapters.fleet`).
"""
