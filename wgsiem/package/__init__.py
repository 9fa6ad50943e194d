"""The `wireguard` Elastic integration package: build, validate, install.

The package is the elastic/integrations layout (package-spec 3.x) of what this repository
holds as its own content: data streams with their field definitions, ingest pipelines,
agent stream templates and pipeline tests, detection rules as `kibana/security_rule`
assets, and later dashboards. `validate.py` (`validate_package`) checks a package folder or
zip against the package-spec rules that matter, with JSON Schemas of our own in `schemas/`
and the checks a schema cannot make in `layout.py`, `fields.py`, `pipelines.py`,
`kibana.py` and `images.py`; every `Problem` names the file inside the package and the key.
"""
