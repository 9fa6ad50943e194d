"""The package's Kibana assets: detection rules (kibana/security_rule/), and the id rule of
every Kibana object (dashboards and data views are kibana_dashboards.py's).

Rule assets take the form Kibana's prebuilt rules package uses (elastic/integrations,
packages/security_detection_engine/kibana/security_rule/, e.g.
`00140285-b827-4aee-aa09-8113f58a08f3_324.json`):

    {"attributes": {<the rule, with "rule_id" and "version">},
     "id": "<rule_id>" or "<rule_id>_<version>",
     "type": "security-rule"}

named `<id>.json`. The attributes are checked as Kibana's import would
(wgsiem.rules.kibana_schema), and the fields the rule reads (its KQL query, its
threshold and new terms fields) must be defined in the data streams its `index` patterns
cover. Every Kibana object file's `id` is its file name (package-spec's
ValidateKibanaObjectIDs); a dashboard's also begins with `<package>-` (layout.py).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from wgsiem.kql import ES_TYPES, And, FieldTypes, KqlFieldError, KqlSyntaxError, Nested, Not, Or, compile_query, parse
from wgsiem.kql.ast import Node
from wgsiem.rules.kibana_schema import rule_problems

from .fields import FieldSet
from .files import Document, PackageFolder
from .problems import Problem, join_key
from .schema_checks import schema_problems

KQL_RULE_TYPES = frozenset({"query", "threshold", "new_terms", "saved_query"})


@dataclass(frozen=True)
class Stream:
    """A data stream as a rule's index patterns see it: its index names and its fields."""

    type: str
    dataset: str
    fields: FieldSet

    def covered_by(self, pattern: str) -> bool:
        """Whether the pattern matches the data stream's indices (`<type>-<dataset>-<namespace>`)."""
        if pattern.startswith("-"):
            return False
        prefix = f"{self.type}-{self.dataset}-"
        regex = re.compile(".*".join(map(re.escape, pattern.split("*"))))
        return regex.fullmatch(prefix + "default") is not None or pattern.startswith(prefix)


def kibana_problems(package: PackageFolder, streams: Sequence[Stream]) -> list[Problem]:
    problems = []
    for rel in package.files("kibana/security_rule", (".json",)):
        problems += rule_asset_problems(package, rel, streams)
    for folder in _other_object_folders(package):
        for rel in package.files(folder, (".json",)):
            doc, load_problems = package.load(rel)
            problems += load_problems if doc is None else id_problems(doc)
    return problems


def _other_object_folders(package: PackageFolder) -> list[str]:
    kibana = package.path("kibana")
    if not kibana.is_dir():
        return []
    return sorted(f"kibana/{p.name}" for p in kibana.iterdir() if p.is_dir() and p.name not in ("security_rule", "dashboard", "index_pattern"))


def id_problems(doc: Document) -> list[Problem]:
    """package-spec's ValidateKibanaObjectIDs: the object's id is its file name."""
    stem = doc.file.rsplit("/", 1)[1].removesuffix(".json")
    data = doc.data if isinstance(doc.data, dict) else {}
    object_id = data.get("id")
    if not isinstance(object_id, str):
        return [Problem(doc.file, "id", "missing: a Kibana object names its id (the file name without .json)")]
    if object_id != stem:
        return [Problem(doc.file, "id", f"is {object_id!r}, but the file is named {stem}.json: a Kibana object's id is its file name")]
    return []


# -- detection rules -----------------------------------------------------------------------


def rule_asset_problems(package: PackageFolder, rel: str, streams: Sequence[Stream]) -> list[Problem]:
    doc, problems = package.load(rel)
    if doc is None:
        return problems
    problems = schema_problems("security-rule", doc)
    if problems or not isinstance(doc.data, dict):
        return problems
    attributes = doc.data["attributes"]
    problems += _rule_name_problems(doc, attributes)
    for text in rule_problems(attributes):
        key, _, message = text.partition(": ")
        problems.append(Problem(rel, "attributes" if key == "(rule)" else join_key("attributes", key), message))
    return problems + _rule_field_problems(doc, attributes, streams)


def _rule_name_problems(doc: Document, attributes: dict[str, Any]) -> list[Problem]:
    """A rule asset is `<rule_id>.json` (id `<rule_id>`, the form the prebuilt rules package
    had and the one this package uses) or `<rule_id>_<version>.json` (id likewise, the form it
    has since it ships several versions of a rule); either way the id is the file name."""
    rule_id, version = attributes["rule_id"], attributes["version"]
    allowed = (rule_id, f"{rule_id}_{version}")
    stem = doc.file.rsplit("/", 1)[1].removesuffix(".json")
    problems = []
    if stem not in allowed:
        problems.append(Problem(doc.file, None, (
            f"the file is named {stem}.json; a rule asset is named <rule_id>.json (or <rule_id>_<version>.json) as in Kibana's "
            f"prebuilt rules package, here {rule_id}.json"
        )))  # fmt: skip
    if doc.data["id"] not in allowed:
        problems.append(Problem(doc.file, "id", f"is {doc.data['id']!r}; a rule asset's id is <rule_id> or <rule_id>_<version>, here {rule_id!r}"))
    elif stem in allowed and doc.data["id"] != stem:
        problems.append(Problem(doc.file, "id", f"is {doc.data['id']!r}, but the file is named {stem}.json: a Kibana object's id is its file name"))
    return problems


def _rule_field_problems(doc: Document, attributes: dict[str, Any], streams: Sequence[Stream]) -> list[Problem]:
    """The fields the rule reads, against the fields of the data streams it reads."""
    index = attributes.get("index")
    if not isinstance(index, list) or not index:
        return [Problem(doc.file, "attributes.index", "missing: a rule of the package names the index patterns it reads (its data streams)")]
    covered = [s for s in streams if any(isinstance(p, str) and s.covered_by(p) for p in index)]
    if not covered:
        names = ", ".join(f"{s.type}-{s.dataset}-*" for s in streams) or "none"
        return [Problem(doc.file, "attributes.index", f"{index} covers none of the package's data streams ({names})")]
    fields = covered[0].fields
    for s in covered[1:]:
        fields = fields | s.fields
    return _query_problems(doc.file, attributes, fields) + _grouping_problems(doc.file, attributes, fields)


def _query_problems(file: str, attributes: dict[str, Any], fields: FieldSet) -> list[Problem]:
    query = attributes.get("query")
    if attributes.get("type") not in KQL_RULE_TYPES or attributes.get("language", "kuery") != "kuery" or not isinstance(query, str):
        return []
    try:
        node = parse(query)
    except KqlSyntaxError as error:
        return [Problem(file, "attributes.query", f"not valid KQL: {error}")]
    problems = []
    for name in sorted(set(query_field_names(node))):
        if "*" in name and not fields.matching(name):
            problems.append(Problem(file, "attributes.query", f"the query's field pattern {name} matches no field defined in {fields.where}"))
        elif "*" not in name and fields.lookup(name, multi=True) is None:
            problems.append(Problem(file, "attributes.query", f"the query uses field {name}, which is not defined in {fields.where}"))
    if problems:
        return problems
    types = FieldTypes({n: t for n, t in fields.types().items() if t in ES_TYPES})
    try:
        compile_query(query, types)
    except KqlFieldError as error:
        return [Problem(file, "attributes.query", f"{error}")]
    return []


def query_field_names(node: Node, prefix: str = "") -> Iterator[str]:
    """The field names a KQL tree is about (a nested query's relative to its path)."""
    if isinstance(node, (And, Or)):
        for child in node.children:
            yield from query_field_names(child, prefix)
    elif isinstance(node, Not):
        yield from query_field_names(node.child, prefix)
    elif isinstance(node, Nested):
        path = f"{prefix}{node.path.text()}"
        yield path
        yield from query_field_names(node.query, f"{path}.")
    elif node.field is not None and node.field.value is not None:
        yield f"{prefix}{node.field.text()}"


def _grouping_problems(file: str, attributes: dict[str, Any], fields: FieldSet) -> list[Problem]:
    """Threshold and new terms rules group by fields, which must be defined too."""
    named: list[tuple[str, Any]] = []
    threshold = attributes.get("threshold")
    if isinstance(threshold, dict):
        group = threshold.get("field")
        named += [(f"attributes.threshold.field[{i}]", f) for i, f in enumerate(group)] if isinstance(group, list) else [("attributes.threshold.field", group)]
        for i, item in enumerate(threshold.get("cardinality") or []):
            if isinstance(item, dict):
                named.append((f"attributes.threshold.cardinality[{i}].field", item.get("field")))
    for i, name in enumerate(attributes.get("new_terms_fields") or []):
        named.append((f"attributes.new_terms_fields[{i}]", name))
    return [
        Problem(file, key, f"field {name} is not defined in {fields.where}")
        for key, name in named
        if isinstance(name, str) and name and fields.lookup(name, multi=True) is None
    ]
