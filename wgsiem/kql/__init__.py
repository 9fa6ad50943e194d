"""Kibana Query Language, as Kibana parses it and as Elasticsearch answers it.

- `grammar.py`: the parser (Kibana's grammar.peggy with peggy's error reporting);
  `ast.py`: the tree it builds.
- `translate.py`: tree -> Elasticsearch query DSL, as the detection engine builds it.
- `search.py`: DSL -> a per-document matcher with Elasticsearch's per-type semantics,
  helped by `values.py` (numbers, IPs, booleans, keywords), `date_math.py` (date formats and
  date math), `analysis.py` (the standard analyzer), `query_string.py`, `wildcards.py`
  and `documents.py` (reading `_source`).
- `field_types.py`: field name -> type, from ecs_mappings/ and schema files;
  `dynamic.py`: the fields neither defines, typed from documents as Elasticsearch's
  dynamic mapping types them.
- `query.py`: `compile_query` and `Query`.

See docs/kql.md.
"""

from .ast import And, Is, Literal, Nested, Node, Not, Or, Range, Wildcard, to_kql
from .errors import KqlFieldError, KqlSchemaError, KqlSyntaxError
from .field_types import ES_TYPES, FieldInfo, FieldTypes, load_schema
from .grammar import parse
from .query import Query, compile_query, keyword_values

__all__ = [
    "ES_TYPES",
    "And",
    "FieldInfo",
    "FieldTypes",
    "Is",
    "KqlFieldError",
    "KqlSchemaError",
    "KqlSyntaxError",
    "Literal",
    "Nested",
    "Node",
    "Not",
    "Or",
    "Query",
    "Range",
    "Wildcard",
    "compile_query",
    "keyword_values",
    "load_schema",
    "parse",
    "to_kql",
]
