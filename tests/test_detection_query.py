"""Custom query rules: query/query.ts → utils/search_after_bulk_create_factory.ts, with
alert ids from factories/wrap_hits.ts and de-duplication in the rule registry's
create_persistence_rule_type_wrapper.ts (filterDuplicateAlerts)."""

from __future__ import annotations

import hashlib

from tests.support.detection import at, event, make_rule, stamp, tiny_compile
from wgsiem.detection import MAX_SIGNALS_WARNING, run_rules
from wgsiem.detection.alerts import rule_uuid


def _originals(result):
    return [a["kibana.alert.original_time"] for a in result.alerts]


def test_an_event_in_two_overlapping_windows_alerts_once() -> None:
    # 10:04.5 is in [09:59, 10:05] and [10:04, 10:10]; the second alert has the same id
    # (wrap_hits.ts generateId of index, _id, rule) and filterDuplicateAlerts drops it.
    result = run_rules([make_rule()], [event(at(4, 30))], start=at(5), end=at(10), compile=tiny_compile)
    assert [(a["@timestamp"], a["kibana.alert.original_time"]) for a in result.alerts] == [(stamp(at(5)), stamp(at(4, 30)))]
    assert result.stats[make_rule().rule_id].executions == 2


def test_max_signals_keeps_the_earliest_and_warns() -> None:
    # search_after_bulk_create_factory.ts sorts `@timestamp` asc (build_events_query.ts's
    # default) and bulkCreate truncates to max_signals - created; a new alert past the
    # cap sets alertsWereTruncated, the max-signals warning.
    events = [event(at(1)), event(at(2)), event(at(3)), event(at(3, 30))]
    result = run_rules([make_rule(max_signals=2)], events, start=at(5), end=at(10), compile=tiny_compile)
    assert _originals(result) == [stamp(at(1)), stamp(at(2))]
    stats = result.stats[make_rule().rule_id]
    assert stats.max_signals_executions == 1
    assert stats.warnings == [f"{stamp(at(5))}: {MAX_SIGNALS_WARNING}"]
    # 10:03 and 10:03.5 are not in the next range [10:04, 10:10]: they never alert.
    assert stats.alerts == 2


def test_events_left_out_by_max_signals_alert_when_a_later_range_still_covers_them() -> None:
    events = [event(at(1)), event(at(2)), event(at(3)), event(at(3, 30))]
    rule = make_rule(max_signals=2, lookback="9m")
    result = run_rules([rule], events, start=at(5), end=at(10), compile=tiny_compile)
    # [10:01, 10:10] at 10:10: the first two are duplicates, the other two are new.
    assert [(a["@timestamp"], a["kibana.alert.original_time"]) for a in result.alerts] == [
        (stamp(at(5)), stamp(at(1))),
        (stamp(at(5)), stamp(at(2))),
        (stamp(at(10)), stamp(at(3))),
        (stamp(at(10)), stamp(at(3, 30))),
    ]
    assert result.stats[rule.rule_id].max_signals_executions == 1


def test_exactly_max_signals_new_events_is_no_warning() -> None:
    # The warning needs a new alert beyond the cap, not the cap itself.
    events = [event(at(1)), event(at(2))]
    result = run_rules([make_rule(max_signals=2)], events, start=at(5), end=at(5), compile=tiny_compile)
    assert len(result.alerts) == 2
    assert result.stats[make_rule().rule_id].max_signals_executions == 0


def test_duplicates_do_not_use_up_max_signals() -> None:
    # filterDuplicateAlerts runs before the truncation to maxAlerts.
    events = [event(at(4, 10)), event(at(4, 20)), event(at(6)), event(at(7))]
    result = run_rules([make_rule(max_signals=2)], events, start=at(5), end=at(10), compile=tiny_compile)
    assert _originals(result) == [stamp(at(4, 10)), stamp(at(4, 20)), stamp(at(6)), stamp(at(7))]
    assert result.stats[make_rule().rule_id].max_signals_executions == 0


def test_max_signals_above_the_alerting_limit_is_lowered() -> None:
    # getRuleRangeTuples: max_signals > xpack.alerting.rules.run.alerts.max (1000).
    events = [event(at(0, s / 10)) for s in range(1001)]
    result = run_rules([make_rule(max_signals=5000)], events, start=at(2), end=at(2), compile=tiny_compile)
    stats = result.stats[make_rule().rule_id]
    assert len(result.alerts) == 1000
    assert stats.max_signals_executions == 1
    assert "greater than the Kibana alerting limit (1000)" in stats.warnings[0]


def test_only_events_of_the_rule_index_patterns_are_searched() -> None:
    events = [
        event(at(1), dataset="wireguard.log"),
        event(at(2), dataset="wireguard.status"),
        event(at(3), dataset="system.auth"),
        {**event(at(4)), "_index": "archive-wireguard"},
    ]
    result = run_rules([make_rule()], events, start=at(5), end=at(5), compile=tiny_compile)
    assert _originals(result) == [stamp(at(1)), stamp(at(2))]
    assert result.alerts[0]["kibana.alert.ancestors"][0]["index"] == "logs-wireguard.log-default"
    # An exclusion removes what the patterns before it selected.
    rule = make_rule(index=["logs-wireguard.*", "-logs-wireguard.status-*"])
    assert _originals(run_rules([rule], events, start=at(5), end=at(5), compile=tiny_compile)) == [stamp(at(1))]


def test_index_comes_from_event_dataset_without_data_stream() -> None:
    doc = event(at(1), dataset="wireguard.log")
    del doc["data_stream"]
    result = run_rules([make_rule(index=["logs-wireguard.log-default"])], [doc], start=at(5), end=at(5), compile=tiny_compile)
    assert len(result.alerts) == 1


def test_a_rule_without_index_searches_kibanas_default_patterns() -> None:
    events = [event(at(1)), {**event(at(2)), "_index": "wgsiem-archive"}]
    result = run_rules([make_rule(index=[])], events, start=at(5), end=at(5), compile=tiny_compile)
    assert _originals(result) == [stamp(at(1))]  # logs-* is a default pattern; wgsiem-* is not


def test_query_alert_id_is_generate_id_of_index_id_and_rule() -> None:
    doc = event(at(1))
    result = run_rules([make_rule()], [doc], start=at(5), end=at(5), compile=tiny_compile)
    (alert,) = result.alerts
    expected = hashlib.sha256(f"logs-wireguard.log-default{doc['event']['id']}undefineddefault:{rule_uuid(make_rule())}".encode()).hexdigest()
    assert alert["kibana.alert.uuid"] == expected
    assert alert["kibana.alert.ancestors"] == [{"id": doc["event"]["id"], "type": "event", "index": "logs-wireguard.log-default", "depth": 0}]


def test_a_hit_keeps_its_own_index_and_id() -> None:
    hit = {"_index": ".ds-logs-wireguard.log-default-2026.11.22-000001", "_id": "abc", "_source": event(at(1))}
    (alert,) = run_rules([make_rule()], [hit], start=at(5), end=at(5), compile=tiny_compile).alerts
    assert alert["kibana.alert.ancestors"][0]["id"] == "abc"
    assert "_source" not in alert and "_id" not in alert


def test_a_query_that_does_not_compile_is_reported_and_others_still_run() -> None:
    def picky(text, now):
        if "broken" in text:
            raise ValueError("syntax error at 1:1")
        return tiny_compile(text, now)

    rules = [make_rule("broken", rule_id="bad"), make_rule(rule_id="good")]
    result = run_rules(rules, [event(at(1))], start=at(5), end=at(5), compile=picky)
    assert result.stats["bad"].error == "ValueError: syntax error at 1:1"
    assert result.stats["bad"].executions == 0
    assert result.stats["good"].alerts == 1


def test_field_types_beyond_ecs_mappings_come_from_the_caller() -> None:
    from wgsiem.kql import FieldTypes

    rule = make_rule('lab.site: "ams"', rule_id="site")
    events = [event(at(1), lab__site="ams"), event(at(2), lab__site="fra")]
    unknown = run_rules([rule], events, start=at(5), end=at(5))
    assert "lab.site" in unknown.stats["site"].error and unknown.alerts == []
    known = run_rules([rule], events, start=at(5), end=at(5), field_types=FieldTypes.default().with_types({"lab.site": "keyword"}))
    assert known.stats["site"].error is None and len(known.alerts) == 1


def test_with_the_real_kql_compiler() -> None:
    rule = make_rule('event.action: "handshake" and not source.ip: 10.0.0.0/8')
    events = [event(at(1), source__ip="10.1.2.3"), event(at(2), source__ip="198.51.100.7"), event(at(3), "keepalive", source__ip="198.51.100.7")]
    result = run_rules([rule], events, start=at(5), end=at(5))
    assert _originals(result) == [stamp(at(2))]
