"""Every check `wgsiem rules validate` makes, on the rule files and on what they refer to.

Beyond the file schema (model.py): unique ids and names, KQL that parses and fits the field
types, every field defined in ecs_mappings/ and aggregatable where the rule groups by it,
ATT&CK ids that exist, test cases that fire and near-miss, a scenario that expects each
rule's alert, and exception lists that fit the rules and fields they name.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from wgsiem.content import DETECTION_RULES, FIXTURES

from .attack import threat_problems
from .cases import CASES, CaseFileError, load_cases
from .exceptions import ExceptionFileError, Tuning, entry_fields, load_tuning
from .model import Rule, RuleFileError, load_rules

SCENARIOS = FIXTURES / "scenarios"
# Types a terms or cardinality aggregation can run on (text has no doc values).
AGGREGATABLE = frozenset({
    "keyword", "constant_keyword", "wildcard", "ip", "boolean", "date", "date_nanos",
    "long", "integer", "short", "byte", "unsigned_long", "double", "float", "half_float", "scaled_float",
})  # fmt: skip


@dataclass
class Report:
    rules: list[Rule] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    tuning: Tuning = field(default_factory=Tuning)  # the folder's exception and value lists, as loaded


def validate(
    directory: Path = DETECTION_RULES,
    field_types: Any = None,
    cases_dir: Path | None = None,
    scenarios_dir: Path | None = SCENARIOS,
) -> Report:
    """Check the rules of `directory`. `field_types` is a wgsiem.kql.FieldTypes (default:
    ecs_mappings/);
    `cases_dir` defaults to `<directory>/_dev/test`; `scenarios_dir=None` skips coverage."""
    from wgsiem.kql import FieldTypes, KqlFieldError, KqlSyntaxError, compile_query

    report = Report()
    try:
        report.rules = load_rules(directory)
    except RuleFileError as err:
        report.problems += str(err).splitlines()
        return report
    if not report.rules:
        report.problems.append(f"{directory}: no *.toml rule files")
        return report
    types = field_types if field_types is not None else FieldTypes.default()
    problems = report.problems
    problems += _duplicates(report.rules, "rule_id")
    problems += _duplicates(report.rules, "name")
    for rule in report.rules:
        where = f"{rule.path}: rule.query"
        try:
            query = compile_query(rule.query, types)
        except KqlSyntaxError as err:
            problems.append(f"{where}: {err}\n{err.render()}")
            continue
        except KqlFieldError as err:
            problems.append(f"{where}: {err}")
            continue
        problems += [f"{rule.path}: {p}" for p in threat_problems(rule.body["threat"])]
        problems += _grouping(rule, types)
        for name in query.fields:
            if name not in types:
                problems.append(f"{where}: field {name!r} is not defined in ecs_mappings/")
    problems += _case_problems(report.rules, cases_dir or directory / "_dev" / "test")
    try:
        report.tuning = load_tuning(directory)
        problems += tuning_problems(report.tuning, (r.rule_id for r in report.rules), types, directory)
    except ExceptionFileError as err:
        problems += str(err).splitlines()
    if scenarios_dir is not None:
        problems += _coverage(report.rules, scenarios_dir)
    return report


def tuning_problems(tuning: Tuning, rule_ids: Iterable[str], types: Any, where: Path, *, defined: bool = True) -> list[str]:
    """What the lists need beyond their own files: rules (of `where`) that exist, and value
    lists on fields of their kind (ip and ip_range lists on ip fields, keyword lists on
    keyword fields). With `defined`, every field must be in ecs_mappings/ (what goes into
    Kibana); without, a field no mapping knows is the data's to type (`rules run`)."""
    problems = []
    known = set(rule_ids)
    for lst in tuning.lists:
        problems += [f"{lst.path}: metadata.rule_ids: no rule {rid} in {where}" for rid in lst.rule_ids if rid not in known]
        for item in lst.items:
            for entry in item.entries:
                for name in entry_fields(entry):
                    es_type = types.get(name)
                    if es_type is None:
                        if defined:
                            problems.append(f"{lst.path}: item {item.item_id}: field {name!r} is not defined in ecs_mappings/")
                    elif entry.type == "list" and es_type != _LIST_FIELD_TYPES[entry.list_type or ""]:
                        problems.append(f"{lst.path}: item {item.item_id}: a {entry.list_type} list on {name}, whose type is {es_type}")
                if entry.type == "nested" and types.get(entry.field) not in (None, "nested"):
                    problems.append(f"{lst.path}: item {item.item_id}: {entry.field} is not a nested field")
    return problems


_LIST_FIELD_TYPES = {"ip": "ip", "ip_range": "ip", "keyword": "keyword"}


def _duplicates(rules: list[Rule], key: str) -> list[str]:
    counts = Counter(getattr(r, key) for r in rules)
    return [
        f"{key} {value!r} is used by {', '.join(str(r.path.name) for r in rules if getattr(r, key) == value)}"
        for value, n in counts.items() if n > 1
    ]  # fmt: skip


def _grouping(rule: Rule, types: Mapping[str, str]) -> Iterable[str]:
    """Group-by, cardinality, new-terms and alert suppression fields must exist and be
    aggregatable (Kibana groups a query rule's suppression with a composite aggregation)."""
    suppression = rule.alert_suppression
    own = set(rule.new_terms_fields) | set(rule.threshold.fields if rule.threshold else ())
    for name in rule.fields:
        grouped = suppression is not None and name in suppression.group_by and name not in own
        es_type = types.get(name)
        if es_type is None:
            yield f"{rule.path}: field {name!r} ({'alert_suppression.group_by' if grouped else rule.type}) is not defined in ecs_mappings/"
        elif es_type not in AGGREGATABLE:
            where = " (alert_suppression.group_by)" if grouped else ""
            yield f"{rule.path}: field {name!r}{where} is {es_type}, which {rule.type} rules cannot aggregate"


def _case_problems(rules: list[Rule], cases_dir: Path) -> Iterable[str]:
    for rule in rules:
        path = cases_dir / f"{rule.path.stem}.yaml"
        if not path.exists():
            yield f"{rule.path}: no test cases ({path} is missing)"
            continue
        try:
            cases = load_cases(path)
        except CaseFileError as err:
            yield str(err)
            continue
        if not any(c.alerts > 0 for c in cases):
            yield f"{path}: no case where the rule alerts"
        if not any(c.alerts == 0 for c in cases):
            yield f"{path}: no near miss (a case with `alerts: 0`)"


def _coverage(rules: list[Rule], scenarios_dir: Path) -> Iterable[str]:
    expected = scenario_expectations(scenarios_dir)
    for rule in rules:
        if rule.name not in expected and rule.rule_id not in expected:
            yield f"{rule.path}: no scenario under {scenarios_dir} expects an alert of {rule.name!r}"


def scenario_expectations(scenarios_dir: Path) -> set[str]:
    """The rule names and ids the scenarios' `expect: alerts:` name."""
    out: set[str] = set()
    for path in sorted(scenarios_dir.glob("*/scenario.yaml")):
        raw: Any = yaml.safe_load(path.read_text()) or {}
        for alert in (raw.get("expect") or {}).get("alerts") or []:
            if isinstance(alert, dict) and alert.get("rule"):
                out.add(str(alert["rule"]))
    return out


__all__ = ["CASES", "Report", "scenario_expectations", "validate"]
