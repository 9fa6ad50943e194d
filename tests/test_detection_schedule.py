"""The replay's schedule, ranges and event intake (rule_types/utils/utils.ts
getRuleRangeTuples, utils/build_events_query.ts buildTimeRangeFilter)."""

from __future__ import annotations

from datetime import timedelta

from tests.support.detection import at, event, make_rule, stamp, tiny_compile
from wgsiem.detection import EventSet, load_events, run_rules
from wgsiem.detection.schedule import executions
from wgsiem.detection.timestamps import datetime_ms, iso, parse_ms


def _times(rule, start, end):
    return [iso(e.started_at) for e in executions(rule, datetime_ms(start), datetime_ms(end))]


def test_executions_run_until_the_first_that_reaches_end() -> None:
    rule = make_rule()
    assert _times(rule, at(0), at(12)) == [stamp(at(m)) for m in (0, 5, 10, 15)]
    # An execution exactly at `end` is the last one.
    assert _times(rule, at(0), at(10)) == [stamp(at(m)) for m in (0, 5, 10)]


def test_each_execution_searches_now_minus_lookback_to_now() -> None:
    (first, second) = list(executions(make_rule(lookback="6m"), datetime_ms(at(0)), datetime_ms(at(5))))
    assert (iso(first.start), iso(first.end)) == (stamp(at(-6)), stamp(at(0)))
    assert (iso(second.start), iso(second.end)) == (stamp(at(-1)), stamp(at(5)))


def test_range_includes_both_ends() -> None:
    # build_events_query.ts: range { gte: from, lte: to }.
    events = [event(at(-6)), event(at(0)), event(at(-6, ms=-1)), event(at(0, ms=1))]
    result = run_rules([make_rule()], events, start=at(0), end=at(0), compile=tiny_compile)
    assert [a["kibana.alert.original_time"] for a in result.alerts] == [stamp(at(-6)), stamp(at(0))]


def test_events_before_start_feed_the_lookback_but_nothing_executes_before_start() -> None:
    events = [event(at(-20)), event(at(-3)), event(at(2))]
    result = run_rules([make_rule()], events, start=at(0), compile=tiny_compile)
    assert [(a["@timestamp"], a["kibana.alert.original_time"]) for a in result.alerts] == [
        (stamp(at(0)), stamp(at(-3))),
        (stamp(at(5)), stamp(at(2))),
    ]
    stats = result.stats[make_rule().rule_id]
    assert stats.executions == 2
    assert stats.matched_events == 3  # the query matched it; no execution's range held it


def test_start_and_end_default_to_the_first_and_last_event() -> None:
    result = run_rules([make_rule()], [event(at(7)), event(at(1))], compile=tiny_compile)
    assert (result.start, result.end) == (stamp(at(1)), stamp(at(7)))
    assert result.stats[make_rule().rule_id].executions == 3  # 10:01, 10:06, 10:11


def test_timestamps_are_milliseconds_like_an_es_date_field() -> None:
    # @timestamp is mapped `date`: sub-millisecond digits are truncated, offsets applied.
    assert parse_ms("2026-11-22T10:00:00.123999Z") == datetime_ms(at(0, ms=123))
    assert parse_ms("2026-11-22T11:00:00.5+01:00") == datetime_ms(at(0, ms=500))
    assert parse_ms("2026-11-22T10:00:00") == datetime_ms(at(0))
    assert parse_ms(datetime_ms(at(1))) == datetime_ms(at(1))
    # The microseconds do not carry it past the range end.
    result = run_rules([make_rule()], [event("2026-11-22T10:00:00.000999Z")], start=at(0), end=at(0), compile=tiny_compile)
    assert [a["kibana.alert.original_time"] for a in result.alerts] == ["2026-11-22T10:00:00.000Z"]


def test_events_without_a_usable_timestamp_are_reported() -> None:
    good = event(at(0))
    missing = event(at(0))
    del missing["@timestamp"]
    events = [good, missing, event("yesterday"), event("2026-11-22 10:00:00")]
    result = run_rules([make_rule()], events, compile=tiny_compile)
    assert (result.events, result.skipped_events) == (1, 3)
    assert result.skip_reasons[0] == "event 2: no @timestamp"
    assert result.skip_reasons[1].startswith("event 3: @timestamp 'yesterday'")
    assert len(result.alerts) == 1


def test_load_events_reports_bad_lines_by_number() -> None:
    lines = ['{"@timestamp": "2026-11-22T10:00:00Z"}', "", "{not json", "[1, 2]", '{"a": 1}']
    loaded = load_events(lines)
    assert len(loaded) == 2
    assert loaded.bad_lines == 2
    assert loaded.errors[0].startswith("line 3: not valid JSON")
    assert loaded.errors[1] == "line 4: a JSON list, not an object"


def test_load_events_reads_a_file(tmp_path) -> None:
    path = tmp_path / "events.ndjson"
    path.write_bytes(b'{"x": 1}\n\n{"x": 2}\n{"x"\n')
    loaded = load_events(path)
    assert [e["x"] for e in loaded] == [1, 2]
    assert loaded.errors == ["line 4: not valid JSON: " + loaded.errors[0].split(": ", 2)[2]]
    assert EventSet(loaded).skipped == 2  # neither has an @timestamp


def test_now_relative_queries_are_evaluated_at_each_execution() -> None:
    # `now` in a query is the execution's start, so a match depends on the execution.
    rule = make_rule('event.action: "handshake" and @timestamp >= now-3m')
    events = [event(at(3)), event(at(6))]
    result = run_rules([rule], events, start=at(0), end=at(10), compile=tiny_compile)
    # 10:03 >= 10:05-3m matches at 10:05; 10:06 < 10:10-3m at 10:10, the last execution covering it.
    assert [a["kibana.alert.original_time"] for a in result.alerts] == [stamp(at(3))]


def test_the_query_runs_once_per_candidate_event_not_per_window() -> None:
    compiled = []

    def counting(text, now):
        compiled.append(tiny_compile(text, now))
        return compiled[-1]

    events = [event(at(m)) for m in range(0, 60)] + [event(at(m), "keepalive") for m in range(0, 60)]
    run_rules([make_rule(lookback="30m")], events, start=at(0), compile=counting)
    assert len(compiled) == 1
    # The event.action prefilter keeps the keepalives from the query altogether.
    assert compiled[0].calls == 60


def test_same_input_gives_the_same_alerts() -> None:
    events = [event(at(m), source__ip="10.0.0.1") for m in range(10)]
    rules = [make_rule(), make_rule(type="threshold", rule_id="t", threshold=(("source.ip",), 3, None))]
    first = run_rules(rules, [dict(e) for e in events], compile=tiny_compile)
    second = run_rules(rules, [dict(e) for e in events], compile=tiny_compile)
    assert first.alerts == second.alerts
    assert len({a["kibana.alert.uuid"] for a in first.alerts}) == len(first.alerts) > 0


def test_window_arithmetic_handles_interval_longer_than_lookback() -> None:
    # A 10m interval with a 6m look-back leaves 4 minutes no execution searches.
    events = [event(at(2)), event(at(5))]
    result = run_rules([make_rule(interval="10m", lookback="6m")], events, start=at(0), end=at(10), compile=tiny_compile)
    assert [a["kibana.alert.original_time"] for a in result.alerts] == [stamp(at(5))]
    assert timedelta(minutes=10) == make_rule(interval="10m").interval
