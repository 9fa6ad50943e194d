"""Elasticsearch query DSL -> a function deciding whether one document matches.

This is the shard side of a search, for the queries Kibana's KQL functions produce (bool,
term, match, match_phrase, wildcard, query_string, range, exists, multi_match, nested,
match_all), with each field type's semantics from Elasticsearch's field mappers: what a
document's value is indexed as, what a query value means, which queries a type refuses.

Everything that depends only on the query (parsing values, CIDR ranges, date math,
analysing query text, regular expressions) happens here, once; the returned closures only
read the document. Errors Elasticsearch raises while building the Lucene query are raised
here as KqlFieldError, since they fail the whole search whatever the documents are.

`strict` decides what happens to a query Elasticsearch runs but that cannot match
anything because of the query itself (an unknown field, `1.5` for a long field, a
value query on an object): an error in strict mode, otherwise a query that matches
nothing and a warning.
"""

from __future__ import annotations

import math
import re
from bisect import bisect_right
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from . import analysis, date_math, values
from . import query_string as qs
from .ast import js_string
from .documents import MISSING, Getter, compile_function, getter, leaf_values, lookup_code, objects, scalars
from .errors import KqlFieldError
from .field_types import CONTAINER_TYPES, FieldInfo, FieldTypes
from .wildcards import wildcard_regex

Matcher = Callable[[Mapping[str, Any]], bool]
Pred = Callable[[Any], bool]


def NEVER(doc: Mapping[str, Any]) -> bool:  # noqa: N802 - a constant matcher
    return False


def ALWAYS(doc: Mapping[str, Any]) -> bool:  # noqa: N802 - a constant matcher
    return True


class _NoMatch(Exception):  # noqa: N818 - a signal: the clause matches no document
    """A query Elasticsearch runs but that cannot match a document; the reason says why."""


# Types whose queries are about strings compared whole.
_KEYWORDISH = frozenset({"keyword", "wildcard", "constant_keyword", "flattened", "flattened_key"})
_TEXT = frozenset({"text", "match_only_text"})
# query_string/multi_match "*" expansion skips types with TextSearchInfo.NONE.
_NOT_EXPANDED = frozenset({"geo_point", "object", "nested"})

_TOKEN_CACHE: dict[str, tuple[str, ...]] = {}
_DATE_CACHE: dict[tuple[str, str, str | None], int | None] = {}
_CACHE_LIMIT = 100_000


def tokens_of(text: str) -> tuple[str, ...]:
    hit = _TOKEN_CACHE.get(text)
    if hit is None:
        if len(_TOKEN_CACHE) >= _CACHE_LIMIT:
            _TOKEN_CACHE.clear()
        hit = _TOKEN_CACHE[text] = tuple(analysis.tokenize(text))
    return hit


@dataclass(frozen=True, slots=True)
class _Field:
    name: str
    es_type: str  # an Elasticsearch type, or "flattened_key", "object", "unknown"
    info: FieldInfo | None
    get: Getter
    path: str | None = None  # where the values are, relative to the (nested) document


@dataclass(frozen=True, slots=True)
class _Fast:
    """A value predicate with a faster test, as code, for the usual case of one string
    value (`v`); `pred` takes every other value."""

    pred: Pred
    code: str
    env: dict[str, Any]


class Searcher:
    """Compiles DSL for one set of field types, one `now`, one strictness."""

    def __init__(self, types: FieldTypes, *, now_ms: int, strict: bool = True) -> None:
        self.types = types
        self.now_ms = now_ms
        self.strict = strict
        self.warnings: list[str] = []
        self.fields: set[str] = set()

    # -- entry -------------------------------------------------------------------------------

    def compile(self, dsl: Mapping[str, Any], nested: str | None = None) -> Matcher:
        if len(dsl) != 1:
            raise ValueError(f"a query must have one key, not {sorted(dsl)}")
        (kind, body), = dsl.items()
        handler = getattr(self, f"_q_{kind}", None)
        if handler is None:
            raise ValueError(f"unsupported query type [{kind}]")
        return handler(body, nested)

    # -- compound ----------------------------------------------------------------------------

    def _q_match_all(self, body: Any, nested: str | None) -> Matcher:
        return ALWAYS

    def _q_bool(self, body: Mapping[str, Any], nested: str | None) -> Matcher:
        def listed(key: str) -> list[Any]:
            value = body.get(key, [])
            return list(value) if isinstance(value, list) else [value]

        required = [self.compile(q, nested) for q in listed("filter") + listed("must")]
        should_dsl = listed("should")
        excluded = [self.compile(q, nested) for q in listed("must_not")]
        # Elasticsearch caps minimum_should_match at the number of should clauses
        # (Queries.calculateMinShouldMatch), so with none it asks nothing; and a bool with
        # no clause at all is a match_all (BoolQueryBuilder.doToQuery).
        minimum = min(int(body.get("minimum_should_match", 0 if required else 1 if should_dsl else 0)), len(should_dsl))
        parts: list[Matcher] = list(required)
        if minimum > 1:
            raise ValueError("minimum_should_match other than 1 is not supported")
        if minimum == 1:
            parts.append(self._any_of(should_dsl, nested))
        if excluded:
            parts.append(_none_of(excluded))
        return _all_of(parts)

    def _any_of(self, queries: list[Any], nested: str | None) -> Matcher:
        # A run of `term`s on one keyword field (`f: (a or b or c)`) becomes a set lookup.
        compiled: list[Matcher] = []
        sets: dict[str, set[str]] = {}
        for q in queries:
            term = self._exact_keyword_term(q, nested)
            if term is not None:
                sets.setdefault(term[0], set()).add(term[1])
                continue
            compiled.append(self.compile(q, nested))
        for name, wanted in sets.items():
            self.fields.add(name)
            compiled.append(_keyword_in(self._resolve(name, nested), frozenset(wanted)))
        compiled = [m for m in compiled if m is not NEVER]
        if any(m is ALWAYS for m in compiled):
            return ALWAYS
        if not compiled:
            return NEVER
        if len(compiled) == 1:
            return compiled[0]
        return _any(compiled)

    def _exact_keyword_term(self, q: Any, nested: str | None) -> tuple[str, str] | None:
        """(field, value) when q is an exact-value query on a plain keyword field."""
        while isinstance(q, Mapping) and set(q) == {"bool"} and set(q["bool"]) <= {"should", "minimum_should_match"}:
            should = q["bool"].get("should", [])
            if len(should) != 1 or q["bool"].get("minimum_should_match", 1) != 1:
                return None
            q = should[0]
        if not isinstance(q, Mapping) or len(q) != 1:
            return None
        (kind, body), = q.items()
        if kind not in ("term", "match", "match_phrase") or not isinstance(body, Mapping) or len(body) != 1:
            return None
        (name, value), = body.items()
        if kind == "term":
            if not isinstance(value, Mapping) or set(value) != {"value"}:
                return None
            value = value["value"]
        if not isinstance(value, str):
            return None
        info = self.types.info(name)
        if info is None or info.type != "keyword" or not info.searchable or self.types.nested_path(name) != nested:
            return None
        if info.ignore_above is not None and values.utf16_length(value) > info.ignore_above:
            return None
        return name, value

    def _q_nested(self, body: Mapping[str, Any], nested: str | None) -> Matcher:
        path = body.get("path")
        if not isinstance(path, str) or self.types.get(path) != "nested":
            what = self.types.get(path) if isinstance(path, str) else None
            if what is None and isinstance(path, str) and self.types.is_parent(path):
                what = "object"
            if what is None:
                raise KqlFieldError(f"[nested] failed to find nested object under path [{path}]", field=str(path))
            raise KqlFieldError(
                f"{path} ({what}): [nested] nested object under path [{path}] is not of nested type", field=path, es_type=what
            )
        inner = self.compile(body["query"], nested=path)
        get = getter(_relative(path, nested))
        if inner is NEVER:
            return NEVER

        def match(doc: Mapping[str, Any]) -> bool:
            v = get(doc)
            if v is MISSING:
                return False
            return any(inner(obj) for obj in objects(v))

        return match

    # -- leaf queries ------------------------------------------------------------------------

    def _single(self, body: Any, what: str) -> tuple[str, Any]:
        if not isinstance(body, Mapping) or len(body) != 1:
            raise ValueError(f"[{what}] query must name one field")
        (name, value), = body.items()
        return str(name), value

    def _q_term(self, body: Any, nested: str | None) -> Matcher:
        name, spec = self._single(body, "term")
        value = spec.get("value") if isinstance(spec, Mapping) else spec
        if value is None:
            raise KqlFieldError(f"{name}: [term] query value cannot be null", field=name)
        field = self._resolve(name, nested)
        return self._leaf(field, lambda: self._exact(field, value, token_term=True), value)

    def _q_terms(self, body: Any, nested: str | None) -> Matcher:
        # Exception lists send value lists this way (buildListClause); each value is a term
        # query of its own (TermsQueryBuilder → MappedFieldType.termsQuery), so a CIDR
        # value on an ip field matches the addresses inside it, and no value matches nothing.
        name, wanted = self._single({k: v for k, v in body.items() if k != "boost"}, "terms")
        if not isinstance(wanted, list):
            raise ValueError(f"[terms] query on {name} needs an array of values")
        if not wanted:
            self.fields.add(name)
            return NEVER
        field = self._resolve(name, nested)
        if field.es_type == "ip" and len(wanted) > 1 and all(isinstance(v, str) for v in wanted):
            # A value list of thousands of blocks: one sorted lookup, not a term query each.
            return self._leaf(field, lambda: _ip_intervals(wanted), wanted)
        return self._any_of([{"term": {name: {"value": v}}} for v in wanted], nested)

    def _q_match(self, body: Any, nested: str | None) -> Matcher:
        return self._match(body, nested, phrase=False)

    def _q_match_phrase(self, body: Any, nested: str | None) -> Matcher:
        return self._match(body, nested, phrase=True)

    def _match(self, body: Any, nested: str | None, phrase: bool) -> Matcher:
        kind = "match_phrase" if phrase else "match"
        name, value = self._single(body, kind)
        if isinstance(value, Mapping):
            value = value.get("query")
        if value is None:
            raise KqlFieldError(f"{name}: [{kind}] query needs a value, not null", field=name)
        if "*" in name:
            # match and match_phrase look the name up as written: a pattern is no field.
            return self._no_match(f"{name}: [{kind}] does not expand field name patterns; it matches no document", name)
        field = self._resolve(name, nested)
        return self._leaf(field, lambda: self._analyzed(field, value, phrase), value)

    def _q_wildcard(self, body: Any, nested: str | None) -> Matcher:
        name, spec = self._single(body, "wildcard")
        pattern = spec.get("value") if isinstance(spec, Mapping) else spec
        field = self._resolve(name, nested)
        return self._leaf(field, lambda: self._pattern(field, js_string(pattern), normalize=False), pattern)

    def _q_range(self, body: Any, nested: str | None) -> Matcher:
        name, spec = self._single(body, "range")
        bounds = {k: v for k, v in spec.items() if k in ("gt", "gte", "lt", "lte")}
        if "*" in name:
            return self._no_match(f"{name}: [range] does not expand field name patterns; it matches no document", name)
        field = self._resolve(name, nested)
        return self._leaf(field, lambda: self._range(field, bounds), bounds)

    def _q_exists(self, body: Mapping[str, Any], nested: str | None) -> Matcher:
        name = str(body["field"])
        fields = self._expand(name, nested, searchable_only=False) if "*" in name else [self._resolve(name, nested)]
        matchers = []
        for field in fields:
            if field.es_type == "unknown":
                matchers.append(self._no_match(_unknown(name) + "; [exists] matches no document", name))
            else:
                matchers.append(self._exists(field, nested))
        return _any(matchers)

    def _q_multi_match(self, body: Mapping[str, Any], nested: str | None) -> Matcher:
        value = body.get("query")
        if value is None:
            raise KqlFieldError("[multi_match] requires a query value, not null")
        phrase = body.get("type") == "phrase"
        lenient = body.get("lenient", True)
        matchers = []
        for field in self._expand("*", nested, searchable_only=True):
            try:
                matchers.append(self._leaf(field, lambda f=field: self._analyzed(f, value, phrase), value, quiet=lenient))
            except KqlFieldError:
                if not lenient:
                    raise
        return _any(matchers)

    def _q_query_string(self, body: Mapping[str, Any], nested: str | None) -> Matcher:
        query = body["query"]
        names = body.get("fields")
        try:
            clauses = qs.parse(query)
        except qs.UnsupportedQueryStringError as err:
            raise KqlFieldError(str(err), field=",".join(names or ["*"]), value=query) from err
        lenient = names is None  # a query on every field is lenient by default
        if names is None:
            fields = self._expand("*", nested, searchable_only=True)
        else:
            fields = []
            for name in names:
                if "*" in name:
                    fields.extend(self._expand(name, nested, searchable_only=True))
                else:
                    fields.append(self._resolve(name, nested))  # an unknown one is reported per clause
        matchers = []
        for clause in clauses:
            if clause.kind == "exists" and names is None:
                return ALWAYS  # `*` on the default field `*` matches every document
            for field in fields:
                try:
                    matchers.append(self._qs_clause(field, clause, nested, quiet=lenient))
                except KqlFieldError:
                    if not lenient:
                        raise
        return _any(matchers)

    def _qs_clause(self, field: _Field, clause: qs.Clause, nested: str | None, quiet: bool) -> Matcher:
        if clause.kind == "exists":
            return self._exists(field, nested)
        if clause.kind == "prefix":
            return self._leaf(field, lambda: self._prefix(field, clause.text), clause.text + "*", quiet=quiet)
        if clause.kind == "wildcard":
            return self._leaf(field, lambda: self._pattern(field, clause.text, normalize=True), clause.text, quiet=quiet)
        text = clause.text
        if len(text) > 1 and text[0] in "<>":
            op = ("gt" if text[0] == ">" else "lt") + ("e" if text[1] == "=" and len(text) > 2 else "")
            bound = text[2:] if op.endswith("e") else text[1:]
            if field.es_type in _TEXT:
                bound = analysis.normalize(bound)
            return self._leaf(field, lambda: self._range(field, {op: bound}), text, quiet=quiet)
        return self._leaf(field, lambda: self._analyzed(field, text, False), text, quiet=quiet)

    # -- fields ------------------------------------------------------------------------------

    def _resolve(self, name: str, nested: str | None) -> _Field:
        types = self.types
        info = types.info(name)
        if info is not None:
            es_type = info.type
            source = info.source
        elif (root := types.flattened_root(name)) is not None:
            es_type, source = "flattened_key", name
            info = types.info(root)
        elif types.is_parent(name):
            es_type, source = "object", name
        else:
            return _Field(name, "unknown", None, _missing_getter)
        if es_type == "nested":
            home = name
        else:
            home = types.nested_path(name)
        if es_type != "nested" and home != nested:
            where = f"inside the nested field {home!r}" if home else "not inside a nested field"
            group = f"the nested group {nested!r}" if nested else "no nested group"
            return _Field(name, f"misplaced:{where}, but queried in {group}", info, _missing_getter)
        if es_type == "flattened_key":
            root_name = types.flattened_root(name)
            assert root_name is not None
            get = _flattened_key_getter(getter(_relative(root_name, nested)), name[len(root_name) + 1 :])
        elif es_type == "flattened":
            get = _leaves_getter(getter(_relative(source, nested)))
        else:
            path = _relative(source, nested)
            return _Field(name, es_type, info, getter(path), path)
        return _Field(name, es_type, info, get)

    def _expand(self, pattern: str, nested: str | None, searchable_only: bool) -> list[_Field]:
        """Fields a name pattern stands for (getMatchingFieldNames: fields, not objects). For
        query_string and multi_match (QueryParserHelper.resolveMappingField) only indexed
        fields of types that take text queries. Fields of other nested documents than the
        current one are left out: their values are not in it."""
        rx = re.compile(".*".join(re.escape(p) for p in pattern.split("*")), re.DOTALL)
        found = []
        for name in self.types.names():
            info = self.types.info(name)
            assert info is not None
            if info.type in CONTAINER_TYPES or not rx.fullmatch(name):
                continue
            if searchable_only and (info.type in _NOT_EXPANDED or not info.indexed):
                continue
            if self.types.nested_path(name) != nested:
                continue
            found.append(self._resolve(name, nested))
        return found

    def _leaf(self, field: _Field, build: Callable[[], Matcher | Pred], value: Any, quiet: bool = False) -> Matcher:
        """Build a field query; turn "matches nothing" into an error (strict) or a warning."""
        if field.es_type == "unknown":
            return self._no_match(_unknown(field.name), field.name, quiet)
        if field.es_type.startswith("misplaced:"):
            return self._no_match(f"{field.name} is {field.es_type[10:]}; Elasticsearch matches no document", field.name, quiet)
        if field.es_type == "object":
            return self._no_match(
                f"{field.name} is an object, not a field with values; a query for the value {_show(value)} matches no document",
                field.name,
                quiet,
            )
        if field.es_type == "nested":
            return self._no_match(
                f"{field.name} is a nested field: query its fields inside {field.name}:{{ ... }}; as written it matches no document",
                field.name,
                quiet,
            )
        if field.info is not None and not field.info.searchable:
            raise KqlFieldError(
                f"{field.name} ({field.es_type}): Cannot search on field [{field.name}] since it is not indexed nor has doc values.",
                field=field.name,
                es_type=field.es_type,
                value=value,
            )
        self.fields.add(field.name)
        try:
            result = build()
        except _NoMatch as reason:
            return self._no_match(f"{field.name} ({field.es_type}): {reason}; Elasticsearch matches no document", field.name, quiet)
        except (ValueError, date_math.DateMathError) as err:
            if isinstance(err, KqlFieldError):
                raise
            raise KqlFieldError(
                f"{field.name} ({field.es_type}): value {_show(value)}: {err}", field=field.name, es_type=field.es_type, value=value
            ) from err
        if result is NEVER or result is ALWAYS or getattr(result, "_is_matcher", False):
            return result
        return _fused(field, result)

    def _no_match(self, message: str, name: str, quiet: bool = False) -> Matcher:
        if quiet:
            return NEVER
        if self.strict:
            raise KqlFieldError(message, field=name)
        self.warnings.append(message)
        return NEVER

    # -- per type ----------------------------------------------------------------------------

    def _family(self, field: _Field) -> str:
        t = field.es_type
        if t in _KEYWORDISH:
            return "keyword"
        if t in _TEXT:
            return "text"
        if t in values.NUMERIC_TYPES:
            return "number"
        return t  # ip, date, date_nanos, boolean, geo_point

    def _strings(self, field: _Field) -> Callable[[Any], str | None]:
        """The indexed string of a scalar for a keyword-like field."""
        info = field.info
        t = field.es_type
        if t == "constant_keyword" and info is not None and info.constant is not None:
            constant = info.constant
            return lambda x: constant
        limit = info.ignore_above if (info is not None and t == "keyword") else None
        if limit is None:
            return values.keyword_of

        def indexed(x: Any) -> str | None:
            s = x if x.__class__ is str else values.keyword_of(x)
            if s is None or (len(s) > limit // 2 and values.utf16_length(s) > limit):
                return None
            return s

        return indexed

    def _exact(self, field: _Field, value: Any, token_term: bool = False) -> Matcher | Pred:
        """What a term query (and a match on a non-text field) finds."""
        family = self._family(field)
        if family == "keyword":
            q = js_string(value)
            if field.es_type == "constant_keyword" and field.info is not None and field.info.constant is not None:
                return ALWAYS if q == field.info.constant else NEVER
            if field.es_type == "keyword":
                limit = field.info.ignore_above if field.info is not None else None
                if limit is not None and values.utf16_length(q) > limit:
                    raise _NoMatch(f"the value is longer than ignore_above ({limit}), so no document indexes it")
                return _keyword_in(field, frozenset((q,)))
            indexed = self._strings(field)
            return lambda x: indexed(x) == q
        if family == "text":
            if token_term:
                q = js_string(value)
                return lambda x: q in _tokens(x)
            return self._analyzed(field, value, False)
        if family == "number":
            return self._number_term(field, js_string(value))
        if family == "ip":
            return self._ip_term(js_string(value))
        if family in ("date", "date_nanos"):
            return self._range(field, {"gte": value, "lte": value})
        if family == "boolean":
            wanted = values.query_boolean(value)
            return lambda x: values.doc_boolean(x) is wanted
        if family == "geo_point":
            raise ValueError(f"Geometry fields do not support exact searching, use dedicated geometry queries instead: [{field.name}]")
        raise ValueError(f"Field [{field.name}] of type [{field.es_type}] does not support term queries")

    def _analyzed(self, field: _Field, value: Any, phrase: bool) -> Matcher | Pred:
        """match / match_phrase: analysed on text fields, exact on every other type."""
        if self._family(field) != "text":
            return self._exact(field, value)
        wanted = analysis.tokenize(js_string(value))
        if not wanted:
            raise _NoMatch(f"{_show(value)} has no tokens after analysis")
        if not phrase or len(wanted) == 1:
            wanted_set = frozenset(wanted)
            return lambda x: not wanted_set.isdisjoint(_tokens(x))
        phrase_tokens = tuple(wanted)
        size = len(phrase_tokens)
        first = phrase_tokens[0]

        def has_phrase(x: Any) -> bool:
            toks = _tokens(x)
            for i, t in enumerate(toks):
                if t == first and toks[i : i + size] == phrase_tokens:
                    return True
            return False

        return has_phrase

    def _prefix(self, field: _Field, text: str) -> Pred:
        family = self._family(field)
        if family == "keyword":
            if field.es_type == "flattened_key":
                raise ValueError("[prefix] queries are not currently supported on keyed [flattened] fields")
            indexed = self._strings(field)
            return lambda x: (s := indexed(x)) is not None and s.startswith(text)
        if family == "text":
            p = analysis.normalize(text)
            return lambda x: any(t.startswith(p) for t in _tokens(x))
        raise ValueError(
            f"Can only use prefix queries on keyword, text and wildcard fields - not on [{field.name}] which is of type [{field.es_type}]"
        )

    def _pattern(self, field: _Field, pattern: str, normalize: bool) -> Pred:
        family = self._family(field)
        if family == "keyword":
            if field.es_type == "flattened_key":
                raise ValueError("[wildcard] queries are not currently supported on keyed [flattened] fields")
            rx = wildcard_regex(pattern).fullmatch
            indexed = self._strings(field)
            return lambda x: (s := indexed(x)) is not None and rx(s) is not None
        if family == "text":
            rx = wildcard_regex(analysis.normalize(pattern) if normalize else pattern).fullmatch
            return lambda x: any(rx(t) for t in _tokens(x))
        raise ValueError(
            f"Can only use wildcard queries on keyword, text and wildcard fields - not on [{field.name}] which is of type [{field.es_type}]"
        )

    def _exists(self, field: _Field, nested: str | None) -> Matcher:
        t = field.es_type
        if t == "unknown":
            return self._no_match(_unknown(field.name) + "; [exists] matches no document", field.name)
        if t.startswith("misplaced:") or t == "nested":
            return NEVER  # its values live in nested documents, which a plain query does not see
        if t == "object":
            declared = self.types.info(field.name)
            children = [self._resolve(c, nested) for c in self.types.children(field.name)]
            matchers = [self._exists(c, nested) for c in children]
            if declared is not None:  # an object mapped as such: its dynamic sub-fields count too
                get = field.get
                matchers.append(lambda doc: any(True for _ in leaf_values(get(doc))))
            return _any(matchers)
        info = field.info
        if info is not None and not info.searchable:
            return NEVER
        self.fields.add(field.name)
        if t == "constant_keyword" and info is not None and info.constant is not None:
            return ALWAYS
        if t == "geo_point":
            get = field.get
            return lambda doc: (v := get(doc)) is not MISSING and v is not None and v != []
        if t == "flattened":
            get = field.get
            return lambda doc: any(True for _ in leaf_values(get(doc)))
        family = self._family(field)
        if family == "keyword":
            indexed = self._strings(field)
            return _any_value(field.get, lambda x: indexed(x) is not None)
        if family == "text":
            return _any_value(field.get, lambda x: values.keyword_of(x) is not None)
        convert = self._converter(field)
        return _any_value(field.get, lambda x: convert(x) is not None)

    def _converter(self, field: _Field) -> Callable[[Any], Any]:
        """A scalar's indexed value for a non-string field, None when not indexable."""
        t = field.es_type
        if t in values.INTEGER_TYPES:
            return lambda x: values.doc_integer(x, t)
        if t == "unsigned_long":
            return values.doc_unsigned
        if t in values.FLOAT_TYPES:
            factor = field.info.scaling_factor if field.info is not None else None
            return lambda x: values.doc_floating(x, t, factor)
        if t == "ip":
            return values.doc_ip
        if t in ("date", "date_nanos"):
            date_format = field.info.format if field.info is not None else None
            return lambda x: _doc_date(x, t, date_format)
        if t == "boolean":
            return values.doc_boolean
        return lambda x: x

    # -- numbers, ips, dates, ranges -----------------------------------------------------------

    def _number_term(self, field: _Field, text: str) -> Pred:
        t = field.es_type
        convert = self._converter(field)
        try:
            if t in values.INTEGER_TYPES:
                q: Any = values.integer_term(t, text)
            elif t == "unsigned_long":
                q = values.unsigned_term(text)
            elif t == "scaled_float":
                factor = self._scaling_factor(field)
                d = values.java_double(text)
                if not math.isfinite(d):
                    raise values.NoMatch(f"Value [{text}] is out of range")
                q = float(math.floor(d * factor + 0.5))
            else:
                d = values.java_double(text)
                q = values.to_float32(d) if t == "float" else values.to_half(d) if t == "half_float" else d
                if not math.isfinite(q):
                    raise values.NoMatch(f"Value [{text}] is out of range")
        except values.NoMatch as reason:
            raise _NoMatch(str(reason)) from None
        return lambda x: convert(x) == q

    def _scaling_factor(self, field: _Field) -> float:
        factor = field.info.scaling_factor if field.info is not None else None
        if factor is None:
            raise ValueError("this scaled_float field's scaling_factor is not known (give the field in ecs_mappings/)")
        return factor

    def _ip_term(self, text: str) -> _Fast:
        if "/" in text:
            low, high = values.parse_cidr(text)
        else:
            low = high = values.parse_ip(text)
        doc_ip = values.doc_ip

        def within(x: Any) -> bool:
            n = doc_ip(x)
            return n is not None and low <= n <= high

        code = "n = _ipc(v, -1)\nif n == -1:\n    n = _doc_ip(v)\nreturn n is not None and _lo <= n <= _hi"
        return _Fast(within, code, {"_ipc": values.IP_CACHE.get, "_doc_ip": doc_ip, "_lo": low, "_hi": high})

    def _range(self, field: _Field, bounds: Mapping[str, Any]) -> Matcher | Pred:
        family = self._family(field)
        t = field.es_type
        if family == "geo_point":
            raise ValueError(f"Field [{field.name}] of type [geo_point] does not support range queries")
        lo: Any = None
        hi: Any = None
        lo_inclusive = hi_inclusive = True
        for op, raw in bounds.items():
            if raw is None:
                continue  # a null bound is no bound
            lower = op in ("gt", "gte")
            inclusive = op in ("gte", "lte")
            bound = self._bound(field, raw, lower, inclusive)
            if bound is _EMPTY:
                return NEVER
            if lower:
                lo, lo_inclusive = bound
            else:
                hi, hi_inclusive = bound
        if family == "keyword":
            if t == "constant_keyword" and field.info is not None and field.info.constant is not None:
                c = field.info.constant
                return ALWAYS if _within(c, lo, lo_inclusive, hi, hi_inclusive) else NEVER
            indexed = self._strings(field)
            return lambda x: (s := indexed(x)) is not None and _within(s, lo, lo_inclusive, hi, hi_inclusive)
        if family == "text":
            return lambda x: any(_within(tok, lo, lo_inclusive, hi, hi_inclusive) for tok in _tokens(x))
        convert = self._converter(field)
        if lo is not None and hi is not None and (lo > hi or (lo == hi and not (lo_inclusive and hi_inclusive))):
            return NEVER

        def inside(x: Any) -> bool:
            v = convert(x)
            return v is not None and _within(v, lo, lo_inclusive, hi, hi_inclusive)

        return inside

    def _bound(self, field: _Field, raw: Any, lower: bool, inclusive: bool) -> Any:
        """One range bound in the field's indexed space, as (value, inclusive), or _EMPTY."""
        t = field.es_type
        text = js_string(raw)
        if self._family(field) in ("keyword", "text"):
            return text, inclusive
        if t in values.INTEGER_TYPES:
            v = values.integer_bound(t, text, lower, inclusive)
            return _EMPTY if v is None else (v, True)
        if t == "unsigned_long":
            v = values.unsigned_bound(text, lower, inclusive)
            return _EMPTY if v is None else (v, True)
        if t == "scaled_float":
            factor = self._scaling_factor(field)
            d = values.java_double(text)
            if lower:
                d = d if inclusive else math.nextafter(d, math.inf)
                return float(math.ceil(d * factor)), True
            d = d if inclusive else math.nextafter(d, -math.inf)
            return float(math.floor(d * factor)), True
        if t in values.FLOAT_TYPES:
            d = values.java_double(text)
            if t in ("float", "half_float"):  # parseToFloat: the bound is a float for both
                d = values.to_float32(d)
            return d, inclusive
        if t == "ip":
            n = values.parse_ip(text)
            return n, inclusive
        if t in ("date", "date_nanos"):
            # DateFieldType.rangeQuery: a lower bound rounds up when exclusive, an upper
            # bound when inclusive; then the exclusive ones step one unit inwards.
            round_up = not inclusive if lower else inclusive
            date_format = field.info.format if field.info is not None else None
            instant = date_math.parse_date_math(text, t, now_ms=self.now_ms, round_up=round_up, date_format=date_format)
            if not inclusive:
                instant += 1 if lower else -1
            return instant, True
        if t == "boolean":
            b = 1 if values.query_boolean(raw) else 0
            if not inclusive:
                b += 1 if lower else -1
            return b, True
        raise ValueError(f"Field [{field.name}] of type [{t}] does not support range queries")


_EMPTY: Any = object()


def _ip_intervals(texts: list[str]) -> Pred:
    """Whether an address is one of these addresses or inside one of these CIDR blocks, by
    bisecting the merged intervals they cover."""
    spans = sorted(values.parse_cidr(t) if "/" in t else (values.parse_ip(t),) * 2 for t in texts)
    starts: list[int] = []
    ends: list[int] = []
    for low, high in spans:
        if ends and low <= ends[-1] + 1:
            ends[-1] = max(ends[-1], high)
        else:
            starts.append(low)
            ends.append(high)
    doc_ip = values.doc_ip

    def within(x: Any) -> bool:
        n = doc_ip(x)
        if n is None:
            return False
        i = bisect_right(starts, n) - 1
        return i >= 0 and n <= ends[i]

    return within


def _within(v: Any, lo: Any, lo_inclusive: bool, hi: Any, hi_inclusive: bool) -> bool:
    if v.__class__ is bool:
        v = int(v)
    if lo is not None and (v < lo if lo_inclusive else v <= lo):
        return False
    if hi is not None and (v > hi if hi_inclusive else v >= hi):
        return False
    return True


def _doc_date(x: Any, es_type: str, date_format: str | None = None) -> int | None:
    if x.__class__ is not str:
        return date_math.doc_date(x, es_type, date_format)
    key = (x, es_type, date_format)
    hit = _DATE_CACHE.get(key, -1)
    if hit == -1:
        if len(_DATE_CACHE) >= _CACHE_LIMIT:
            _DATE_CACHE.clear()
        hit = _DATE_CACHE[key] = date_math.doc_date(x, es_type, date_format)
    return hit


def _tokens(x: Any) -> tuple[str, ...]:
    if x.__class__ is str:
        return tokens_of(x)
    s = values.keyword_of(x)
    return tokens_of(s) if s is not None else ()


def _relative(path: str, nested: str | None) -> str:
    return path[len(nested) + 1 :] if nested else path


def _missing_getter(doc: Mapping[str, Any]) -> Any:
    return MISSING


def _flattened_key_getter(root: Getter, key: str) -> Getter:
    inner = getter(key)

    def get(doc: Mapping[str, Any]) -> Any:
        v = root(doc)
        if v is MISSING:
            return MISSING
        found = [x for obj in objects(v) if (x := inner(obj)) is not MISSING]
        return found if found else MISSING

    return get


def _leaves_getter(root: Getter) -> Getter:
    def get(doc: Mapping[str, Any]) -> Any:
        found = list(leaf_values(root(doc)))
        return found if found else MISSING

    return get


def _as_matcher(fn: Matcher) -> Matcher:
    fn._is_matcher = True  # type: ignore[attr-defined]
    return fn


def _any_value(get: Getter, pred: Pred) -> Matcher:
    """Does any value of the field satisfy pred (a field with an array matches by any item)."""

    def match(doc: Mapping[str, Any]) -> bool:
        v = get(doc)
        if v is MISSING:
            return False
        if v.__class__ is list:
            for x in scalars(v):
                if pred(x):
                    return True
            return False
        if v is None or isinstance(v, Mapping):
            return False
        return pred(v)

    return _as_matcher(match)


def _keyword_in(field: _Field, wanted: frozenset[str]) -> Matcher:
    """A keyword field holding one of `wanted` (each no longer than ignore_above)."""
    keyword_of = values.keyword_of
    if len(wanted) == 1:
        (q,) = wanted
        fast = _Fast(lambda x: keyword_of(x) == q, "return v == _q", {"_q": q})
    else:
        fast = _Fast(lambda x: keyword_of(x) in wanted, "return v in _qs", {"_qs": wanted})
    return _fused(field, fast)


def _fused(field: _Field, test: Pred | _Fast) -> Matcher:
    """One function reading the field and testing its value(s): the lookup inlined, the
    single-string case inlined when there is code for it."""
    if field.path is None:
        pred = test.pred if isinstance(test, _Fast) else test
        return _any_value(field.get, pred)
    lines, env = lookup_code(field.path, "v", "doc")
    body = ["def match(doc):", *lines]
    if isinstance(test, _Fast):
        env.update(test.env)
        env["_pred"] = test.pred
        body += ["    if v.__class__ is str:", *("        " + line for line in test.code.splitlines())]
    else:
        env["_pred"] = test
    env["_scalars"] = scalars
    body += [
        "    if v is _M:",
        "        return False",
        "    if v.__class__ is list:",
        "        for x in _scalars(v):",
        "            if _pred(x):",
        "                return True",
        "        return False",
        "    return _pred(v)",
    ]
    return _as_matcher(compile_function("\n".join(body) + "\n", env, "match"))


def _all_of(parts: list[Matcher]) -> Matcher:
    parts = [p for p in parts if p is not ALWAYS]
    if any(p is NEVER for p in parts):
        return NEVER
    if not parts:
        return ALWAYS
    if len(parts) == 1:
        return parts[0]
    if len(parts) == 2:
        a, b = parts
        return lambda doc: a(doc) and b(doc)
    if len(parts) == 3:
        a, b, c = parts
        return lambda doc: a(doc) and b(doc) and c(doc)
    chain = tuple(parts)

    def every(doc: Mapping[str, Any]) -> bool:
        for p in chain:
            if not p(doc):
                return False
        return True

    return every


def _none_of(parts: list[Matcher]) -> Matcher:
    parts = [p for p in parts if p is not NEVER]
    if any(p is ALWAYS for p in parts):
        return NEVER
    if not parts:
        return ALWAYS
    if len(parts) == 1:
        (a,) = parts
        return lambda doc: not a(doc)
    return lambda doc: not _first_true(parts, doc)


def _any(parts: Iterable[Matcher]) -> Matcher:
    parts = [p for p in parts if p is not NEVER]
    if any(p is ALWAYS for p in parts):
        return ALWAYS
    if not parts:
        return NEVER
    if len(parts) == 1:
        return parts[0]
    if len(parts) == 2:
        a, b = parts
        return lambda doc: a(doc) or b(doc)
    chain = tuple(parts)
    return lambda doc: _first_true(chain, doc)


def _first_true(parts: Iterable[Matcher], doc: Mapping[str, Any]) -> bool:
    for p in parts:
        if p(doc):
            return True
    return False


def _unknown(name: str) -> str:
    return f"unknown field {name!r}: not in ecs_mappings/ nor in the schema"


def _show(value: Any) -> str:
    if isinstance(value, Mapping):  # range bounds
        return " ".join(f"{op} {_show(v)}" for op, v in value.items())
    return f'"{value}"' if isinstance(value, str) else js_string(value)
