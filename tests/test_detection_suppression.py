"""Alert suppression (a rule's `alert_suppression`), pinned against Kibana. Paths under
x-pack/solutions/security/plugins/security_solution/server/lib/detection_engine/rule_types/:

* the writing, for every type: the rule registry's persistence wrapper
  (x-pack/platform/plugins/shared/rule_registry/server/utils/create_persistence_rule_type_wrapper.ts:
  alertWithSuppression, suppressAlertsInMemory, getUpdatedSuppressionBoundaries);
* new terms: new_terms/wrap_suppressed_new_terms_alerts.ts,
  new_terms/bulk_create_suppressed_alerts_in_memory.ts,
  utils/bulk_create_suppressed_alerts_in_memory.ts (executeBulkCreateAlerts),
  utils/suppression_utils.ts, utils/partition_missing_fields_events.ts; the scenarios of
  Kibana's own API tests (new_terms_alert_suppression.ts) are replayed here;
* query: query/alert_suppression/group_and_bulk_create.ts, build_group_by_field_aggregation.ts,
  wrap_suppressed_alerts.ts, bulk_create_unsuppressed_alerts.ts;
* threshold: threshold/bulk_create_suppressed_threshold_alerts.ts,
  wrap_suppressed_threshold_alerts.ts.
"""

from __future__ import annotations

from tests.support.detection import at, event, make_rule, stamp, tiny_compile
from wgsiem.detection import MAX_SIGNALS_WARNING, run_rules
from wgsiem.detection.suppression import SUPPRESSION_MAX_SIGNALS_WARNING, sorted_values

SUPPRESSION_KEYS = (
    "kibana.alert.instance.id",
    "kibana.alert.suppression.terms",
    "kibana.alert.suppression.start",
    "kibana.alert.suppression.end",
    "kibana.alert.suppression.docs_count",
)


def _suppression(group_by=("host.name",), duration=None, missing="suppress"):
    spec = {"group_by": list(group_by), "missing_fields_strategy": missing}
    if duration:
        spec["duration"] = {"value": duration[0], "unit": duration[1]}
    return spec


def _run(rule, events, start=at(5), end=at(5)):
    return run_rules([rule], events, start=start, end=end, compile=tiny_compile)


def _summary(alert):
    return (
        alert["@timestamp"],
        alert["kibana.alert.original_time"],
        alert["kibana.alert.suppression.start"],
        alert["kibana.alert.suppression.end"],
        alert["kibana.alert.suppression.docs_count"],
    )


# --- new terms: suppressed in memory ---------------------------------------------------------


def _new_terms(suppression=None, **kw):
    return make_rule(type="new_terms", new_terms=("source.ip",), alert_suppression=suppression or _suppression(), **kw)


def test_new_terms_of_one_group_in_one_execution_are_one_alert() -> None:
    # Three new ip addresses of host gw1. wrapSuppressedNewTermsAlerts gives each candidate
    # docs_count 0 and start = end = its event's time; suppressAlertsInMemory sorts by start,
    # keeps the first (10.0.0.5, though phase 3 hands 10.0.0.3 over first: it has two
    # documents) and counts the others into it.
    events = [
        event(at(-30), source__ip="10.0.0.1"),
        event(at(1), source__ip="10.0.0.3"),
        event(at(2), source__ip="10.0.0.3"),
        event(at(0, 30), source__ip="10.0.0.5"),
        event(at(3), source__ip="10.0.0.4"),
    ]
    rule = _new_terms()
    result = _run(rule, events)
    (alert,) = result.alerts
    assert alert["kibana.alert.new_terms"] == ["10.0.0.5"]
    assert _summary(alert) == (stamp(at(5)), stamp(at(0, 30)), stamp(at(0, 30)), stamp(at(3)), 2)
    # getSuppressionTerms reads the event's `fields`: arrays, sorted.
    assert alert["kibana.alert.suppression.terms"] == [{"field": "host.name", "value": ["gw1"]}]
    stats = result.stats[rule.rule_id]
    assert (stats.alerts, stats.suppressed, stats.warnings) == (1, 2, [])


def test_without_suppression_each_new_term_alerts_without_suppression_fields() -> None:
    events = [event(at(1), source__ip="10.0.0.3"), event(at(2), source__ip="10.0.0.4")]
    result = _run(make_rule(type="new_terms", new_terms=("source.ip",)), events)
    assert len(result.alerts) == 2
    assert not any(key in alert for alert in result.alerts for key in SUPPRESSION_KEYS)


def test_groups_are_the_group_by_values_and_a_missing_field_is_a_null_group() -> None:
    events = [
        event(at(1), source__ip="10.0.0.3", host={"name": "a"}),
        event(at(2), source__ip="10.0.0.4", host={"name": "b"}),
        event(at(3), source__ip="10.0.0.5", host={"name": "a"}),
        event(at(3), source__ip="10.0.0.6", host={"name": None}),
        event(at(4), source__ip="10.0.0.7", host={"name": None}),
    ]
    result = _run(_new_terms(), events)
    groups = {str(a["kibana.alert.suppression.terms"][0]["value"]): a["kibana.alert.suppression.docs_count"] for a in result.alerts}
    assert groups == {"['a']": 1, "['b']": 0, "None": 1}
    instance_ids = {a["kibana.alert.instance.id"] for a in result.alerts}
    assert len(instance_ids) == 3


def test_do_not_suppress_gives_an_event_lacking_a_group_by_field_a_plain_alert() -> None:
    # partitionMissingFieldsEvents: with doNotSuppress such events go through wrapNewTermsAlerts.
    events = [
        event(at(1), source__ip="10.0.0.3", host={"name": None}),
        event(at(2), source__ip="10.0.0.4", host={"name": None}),
        event(at(3), source__ip="10.0.0.5"),
        event(at(4), source__ip="10.0.0.6"),
    ]
    result = _run(_new_terms(_suppression(missing="doNotSuppress")), events)
    plain = [a for a in result.alerts if "kibana.alert.instance.id" not in a]
    suppressed = [a for a in result.alerts if "kibana.alert.instance.id" in a]
    assert sorted(a["kibana.alert.new_terms"][0] for a in plain) == ["10.0.0.3", "10.0.0.4"]
    assert [(a["kibana.alert.new_terms"], a["kibana.alert.suppression.docs_count"]) for a in suppressed] == [(["10.0.0.5"], 1)]


def test_a_multi_valued_group_by_field_is_its_sorted_values_repeats_kept() -> None:
    # The `fields` option returns every value of `_source` (repeats too); lodash sortBy sorts
    # them. ["b", "a", "b"] and ["a", "b"] are two groups.
    events = [
        event(at(1), source__ip="10.0.0.3", user__name=["b", "a", "b"]),
        event(at(2), source__ip="10.0.0.4", user__name=["a", "b"]),
        event(at(3), source__ip="10.0.0.5", user__name=["b", "b", "a"]),
    ]
    result = _run(_new_terms(_suppression(group_by=("user.name",))), events)
    terms = sorted((a["kibana.alert.suppression.terms"][0]["value"], a["kibana.alert.suppression.docs_count"]) for a in result.alerts)
    assert terms == [(["a", "b"], 0), (["a", "b", "b"], 1)]
    assert sorted_values(["b", "B", "a", "\uff41", "\U0001f600"]) == ["B", "a", "b", "\U0001f600", "\uff41"]  # UTF-16 code units


def test_new_terms_with_a_duration_covering_three_executions_are_one_alert() -> None:
    # Kibana's 'should suppress alerts in the time window that covers 3 rule executions':
    # interval 30m, from now-35m, duration 2h; two new terms before the first run, one before
    # each later run. The alert keeps @timestamp and kibana.alert.start of the first run;
    # last_detected, suppression end and docs_count follow the later ones.
    events = [
        event(at(-600), source__ip="127.0.0.1"),
        event(at(-15), source__ip="127.0.0.3"),
        event(at(-15), source__ip="127.0.0.4"),
        event(at(15), source__ip="127.0.0.5"),
        event(at(45), source__ip="127.0.0.7"),
    ]
    rule = _new_terms(_suppression(duration=(2, "h")), interval="30m", lookback="35m", history="1d")
    result = _run(rule, events, start=at(0), end=at(60))
    (alert,) = result.alerts
    assert _summary(alert) == (stamp(at(0)), stamp(at(-15)), stamp(at(-15)), stamp(at(45)), 3)
    assert (alert["kibana.alert.start"], alert["kibana.alert.last_detected"]) == (stamp(at(0)), stamp(at(60)))
    assert result.stats[rule.rule_id].suppressed == 3


def test_a_duration_shorter_than_the_interval_suppresses_nothing_across_runs() -> None:
    # Kibana's 'should NOT suppress alerts when suppression period is less than rule interval'.
    events = [event(at(-600), source__ip="127.0.0.1"), event(at(-15), source__ip="127.0.0.3"), event(at(15), source__ip="127.0.0.5")]
    rule = _new_terms(_suppression(duration=(20, "m")), interval="30m", lookback="35m", history="1d")
    result = _run(rule, events, start=at(0), end=at(30))
    assert [_summary(a) for a in result.alerts] == [
        (stamp(at(0)), stamp(at(-15)), stamp(at(-15)), stamp(at(-15)), 0),
        (stamp(at(30)), stamp(at(15)), stamp(at(15)), stamp(at(15)), 0),
    ]


def test_without_a_duration_each_execution_has_its_own_alert() -> None:
    # isSuppressionPerRuleExecution: an alert of an earlier run is never updated.
    events = [event(at(1), source__ip="10.0.0.3"), event(at(2), source__ip="10.0.0.4"), event(at(8), source__ip="10.0.0.5")]
    result = _run(_new_terms(), events, end=at(10))
    assert [_summary(a) for a in result.alerts] == [
        (stamp(at(5)), stamp(at(1)), stamp(at(1)), stamp(at(2)), 1),
        (stamp(at(10)), stamp(at(8)), stamp(at(8)), stamp(at(8)), 0),
    ]


def test_an_event_of_the_overlap_is_counted_once() -> None:
    # 10:04:30 and 10:04:40 are in the ranges of the 10:05 and the 10:10 runs, and their terms
    # are new in both (first seen after 10:04). At 10:10 the first is the alert (its id is
    # written: filterDuplicateAlerts), the second was suppressed into it at 10:05 and the
    # alert already ends at 10:04:40 (alertWithSuppression's nonSuppressedAlerts).
    events = [event(at(4, 30), source__ip="10.0.0.3"), event(at(4, 40), source__ip="10.0.0.4"), event(at(8), source__ip="10.0.0.5")]
    rule = _new_terms(_suppression(duration=(1, "h")))
    result = _run(rule, events, end=at(10))
    (alert,) = result.alerts
    assert _summary(alert) == (stamp(at(5)), stamp(at(4, 30)), stamp(at(4, 30)), stamp(at(8)), 2)
    assert alert["kibana.alert.last_detected"] == stamp(at(10))
    assert result.stats[rule.rule_id].suppressed == 2


def test_suppression_ends_an_execution_at_five_times_max_signals() -> None:
    # executeBulkCreateAlerts: chunks of 5 x max_signals; created + suppressed >= 5 x
    # max_signals stops the execution with the suppression warning. Twelve new terms of
    # one group, max_signals 2: the first chunk of ten is one alert and nine suppressed.
    events = [event(at(1), source__ip=f"10.0.0.{i}") for i in range(1, 13)]
    rule = _new_terms(max_signals=2)
    result = _run(rule, events)
    (alert,) = result.alerts
    assert alert["kibana.alert.suppression.docs_count"] == 9
    stats = result.stats[rule.rule_id]
    assert (stats.max_signals_executions, stats.warnings) == (1, [f"{stamp(at(5))}: {SUPPRESSION_MAX_SIGNALS_WARNING}"])


def test_suppression_creates_at_most_max_signals_alerts() -> None:
    events = [event(at(1), source__ip=f"10.0.0.{i}", host={"name": f"h{i}"}) for i in range(1, 4)]
    rule = _new_terms(max_signals=2)
    result = _run(rule, events)
    assert len(result.alerts) == 2
    assert result.stats[rule.rule_id].warnings == [f"{stamp(at(5))}: {SUPPRESSION_MAX_SIGNALS_WARNING}"]


# --- query: grouped by a composite aggregation -----------------------------------------------


def _query(suppression=None, **kw):
    return make_rule(alert_suppression=suppression or _suppression(), **kw)


def test_a_query_rule_alerts_once_per_group_with_the_groups_count() -> None:
    events = [
        event(at(1), host={"name": "a"}, source__ip="10.0.0.1"),
        event(at(2), host={"name": "a"}),
        event(at(3), host={"name": "b"}),
        event(at(4), host={"name": "a"}),
    ]
    rule = _query()
    result = _run(rule, events)
    a, b = result.alerts
    # wrap_suppressed_alerts.ts: built from the group's oldest document (topHits), terms the
    # composite key (a value, not an array), docs_count = doc_count - 1, min / max time.
    assert a["kibana.alert.suppression.terms"] == [{"field": "host.name", "value": "a"}]
    assert a["source"] == {"ip": "10.0.0.1"}
    assert _summary(a) == (stamp(at(5)), stamp(at(1)), stamp(at(1)), stamp(at(4)), 2)
    assert _summary(b) == (stamp(at(5)), stamp(at(3)), stamp(at(3)), stamp(at(3)), 0)
    assert result.stats[rule.rule_id].suppressed == 2  # getNumberOfSuppressedAlerts


def test_the_group_history_keeps_a_query_rules_overlap_from_counting_twice() -> None:
    # buildBucketHistoryFilter: at 10:10 the documents of group a up to 10:04:30 are out, so
    # the second run counts only 10:08. Without a duration it is an alert of its own; with
    # one, the first alert is updated.
    events = [event(at(4, 30), host={"name": "a"}), event(at(8), host={"name": "a"})]
    alone = _run(_query(), events, end=at(10))
    assert [_summary(a) for a in alone.alerts] == [
        (stamp(at(5)), stamp(at(4, 30)), stamp(at(4, 30)), stamp(at(4, 30)), 0),
        (stamp(at(10)), stamp(at(8)), stamp(at(8)), stamp(at(8)), 0),
    ]
    within = _run(_query(_suppression(duration=(1, "h"))), events, end=at(10))
    (alert,) = within.alerts
    assert _summary(alert) == (stamp(at(5)), stamp(at(4, 30)), stamp(at(4, 30)), stamp(at(8)), 1)
    assert alert["kibana.alert.last_detected"] == stamp(at(10))


def test_missing_group_by_fields_in_a_query_rule() -> None:
    events = [event(at(1), host={"name": None}), event(at(2), host={"name": None}), event(at(3), host={"name": "a"})]
    # `suppress`: missing_bucket, nulls last.
    grouped = _run(_query(), events).alerts
    assert [(a["kibana.alert.suppression.terms"][0]["value"], a["kibana.alert.suppression.docs_count"]) for a in grouped] == [(None, 1), ("a", 0)]
    # `doNotSuppress`: those events are alerts of their own (bulk_create_unsuppressed_alerts.ts).
    split = _run(_query(_suppression(missing="doNotSuppress")), events).alerts
    assert [("kibana.alert.instance.id" in a, a["kibana.alert.original_time"]) for a in split] == [
        (False, stamp(at(1))),
        (False, stamp(at(2))),
        (True, stamp(at(3))),
    ]


def test_a_query_rule_writes_max_signals_plus_one_groups_and_warns() -> None:
    # buildGroupByFieldAggregation asks for max_signals + 1 buckets and all are written.
    events = [event(at(1), host={"name": f"h{i}"}) for i in range(4)]
    rule = _query(max_signals=2)
    result = _run(rule, events)
    assert [a["host"]["name"] for a in result.alerts] == ["h0", "h1", "h2"]
    assert result.stats[rule.rule_id].warnings == [f"{stamp(at(5))}: {MAX_SIGNALS_WARNING}"]


# --- threshold: a duration only -------------------------------------------------------------


def test_a_threshold_bucket_qualifying_again_updates_its_alert_within_the_duration() -> None:
    events = [event(at(m), source__ip="10.0.0.1") for m in (1, 2, 6, 7)]
    plain = make_rule(type="threshold", threshold=(("source.ip",), 2, None))
    assert len(_run(plain, events, end=at(10)).alerts) == 2
    rule = make_rule(type="threshold", threshold=(("source.ip",), 2, None), alert_suppression={"duration": {"value": 1, "unit": "h"}})
    result = _run(rule, events, end=at(10))
    (alert,) = result.alerts
    # wrapSuppressedThresholdALerts: start / end the bucket's min / max, docs_count counts buckets.
    assert _summary(alert) == (stamp(at(5)), stamp(at(2)), stamp(at(1)), stamp(at(7)), 1)
    assert alert["kibana.alert.suppression.terms"] == [{"field": "source.ip", "value": "10.0.0.1"}]
    assert alert["kibana.alert.threshold_result"]["count"] == 2
    assert result.stats[rule.rule_id].suppressed == 1
