"""The processors the offline engine supports, by Elasticsearch type name.

Each module holds a family: `fields` moves values around, `strings` transforms them,
`parsers` extracts structure from text, `flow` steers execution, `geoip` enriches.
"""

from __future__ import annotations

from wgsiem.ingest.processors import fields, flow, geoip, parsers, strings

REGISTRY = {
    cls.type: cls
    for module in (fields, strings, parsers, flow, geoip)
    for cls in vars(module).values()
    if isinstance(cls, type) and getattr(cls, "type", "") and cls.__module__ == module.__name__
}
