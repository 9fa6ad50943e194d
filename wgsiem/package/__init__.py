"""The `wireguard` Elastic integration package: build, validate, install.

The package (package-spec 3.x, the layout of elastic/integrations) carries the same content
as the commands that work without Fleet: the field definitions of `ecs_mappings/`, the
ingest pipelines and the rules. So that both ways give a cluster the same mappings, this
package also holds what Fleet does with a package's fields when it installs it:
`fleet_templates.py` (Fleet's rules from `fields/*.yml` to component and index templates),
`fields.py` (our field definitions as package-spec `fields/*.yml` entries), `compare.py`
(Fleet's mappings against `wgsiem templates install`'s, each remaining difference with its
reason from `fleet_differences.yaml`) and `node_fit.py` (Fleet's templates fitted to a
cluster that lacks modules, as `templates install` fits its own). docs/fleet-templates.md
says which Fleet source each rule follows.
"""
