"""Field definitions and the Elasticsearch index templates built from them.

The fields are data: `ecs_mappings/*.yml` (ECS fields in `ecs.yml`, WireGuard's own in
`wireguard.yml`, what Filebeat adds in `filebeat.yml` and `journald.yml`), each file
checked against `ecs_mappings/fields.schema.json`. `ecs_mappings/templates.yml` says
which templates exist, their names, patterns and priority, and which field files each
one maps.

- `fields.py`: `load_fields()` (name -> `Field`), `field_types()` (name -> Elasticsearch
  type), `value_fits(type, value)` and `check_document(doc)`: is every field of a
  document defined, and does its value fit the type.
- `templates.py`: `component_templates()` and `index_templates()`, the bodies of
  `PUT _component_template/<name>` and `PUT _index_template/<name>`.
- `fields_doc.py`: docs/fields.md (`python -m wgsiem.docgen` writes it with docs/events.md).
"""

from .fields import (
    ECS_MAPPINGS_DIR,
    Field,
    FieldError,
    check_document,
    field_types,
    leaves,
    load_fields,
    value_error,
    value_fits,
)
from .templates import DEFAULT_PIPELINE, MINIMAL_DISTRIBUTION_TYPES, component_templates, index_templates

__all__ = [
    "DEFAULT_PIPELINE",
    "ECS_MAPPINGS_DIR",
    "MINIMAL_DISTRIBUTION_TYPES",
    "Field",
    "FieldError",
    "check_document",
    "component_templates",
    "field_types",
    "index_templates",
    "leaves",
    "load_fields",
    "value_error",
    "value_fits",
]
