"""The kv processor's splitting with Elasticsearch's semantics.

Each test names the behaviour it pins and where Elasticsearch states it: the REST test
(ingest/150_kv.yml), the unit tests (KeyValueProcessorTests), the source
(KeyValueProcessor: buildSplitter, buildTrimmer, STRIP_BRACKETS, the key filter) and, for
`split`, Java's String.split / Pattern.split contract, or the kv processor's docs page.
"""

from __future__ import annotations

import pytest

from wgsiem.ingest.formats.kv import KvSplitError, KvSplitter


def test_rest_kv():
    # pins: ES kv REST test "Test KV Processor"
    assert KvSplitter(" ", "=").split("goodbye=everybody hello=world") == [("goodbye", "everybody"), ("hello", "world")]


def test_docs_example():
    # pins: kv processor docs example (ip=1.2.3.4 error=REFUSED with field_split " ", value_split "=")
    assert KvSplitter(" ", "=").split("ip=1.2.3.4 error=REFUSED") == [("ip", "1.2.3.4"), ("error", "REFUSED")]


def test_repeated_keys_stay_in_order():
    # pins: KeyValueProcessorTests.test (second=world&second=universe -> both, in order; the processor appends)
    assert KvSplitter("&", "=").split("first=hello&second=world&second=universe") == [
        ("first", "hello"),
        ("second", "world"),
        ("second", "universe"),
    ]


def test_include_keys():
    # pins: KeyValueProcessorTests.testIncludeKeys
    assert KvSplitter("&", "=", include_keys=["first"]).split("first=hello&second=world&second=universe") == [("first", "hello")]


def test_exclude_keys():
    # pins: KeyValueProcessorTests.testExcludeKeys
    assert KvSplitter("&", "=", exclude_keys=["second"]).split("first=hello&second=world&second=universe") == [("first", "hello")]


def test_include_and_exclude_keys():
    # pins: KeyValueProcessorTests.testIncludeAndExcludeKeys (both apply: included and not excluded)
    splitter = KvSplitter("&", "=", include_keys=["first", "second"], exclude_keys=["first", "second"])
    assert splitter.split("first=hello&second=world&second=universe&third=bar") == []
    splitter = KvSplitter("&", "=", include_keys=["first", "third"], exclude_keys=["first"])
    assert splitter.split("first=hello&second=world&third=bar") == [("third", "bar")]


def test_field_split_that_never_matches_keeps_one_piece():
    # pins: KeyValueProcessorTests.testFailFieldSplitMatch (everything after the first '=' is one value)
    assert KvSplitter("&", "=").split("first=hello|second=world|second=universe") == [("first", "hello|second=world|second=universe")]


def test_value_split_missing_fails_with_the_es_message():
    # pins: KeyValueProcessorTests.testFailValueSplitMatch ("field [foo] does not contain value_split [=]")
    with pytest.raises(KvSplitError) as caught:
        KvSplitter("&", "=").split("bar", field="foo")
    assert str(caught.value) == "field [foo] does not contain value_split [=]"
    assert caught.value.pairs == []


def test_pairs_before_a_bad_piece_are_kept_on_the_error():
    # pins: KeyValueProcessor's loop sets each pair before reaching the bad one (they stay on ignore_failure)
    with pytest.raises(KvSplitError) as caught:
        KvSplitter(" ", "=").split("a=1 b=2 junk c=3", field="message")
    assert caught.value.pairs == [("a", "1"), ("b", "2")]


def test_trim_key_and_value():
    # pins: KeyValueProcessorTests.testTrimKeyAndValue (trim runs of the characters from both ends)
    splitter = KvSplitter("&", "=", trim_key=" ", trim_value=" ")
    assert splitter.split("first= hello &second=world& second =universe") == [
        ("first", "hello"),
        ("second", "world"),
        ("second", "universe"),
    ]


def test_trim_multi_char_sequence():
    # pins: KeyValueProcessorTests.testTrimMultiCharSequence (trim strings are character sets)
    splitter = KvSplitter(" ", "=", trim_key="%+", trim_value="<>,")
    text = (
        "to=<foo@example.com>, orig_to=<bar@example.com>, %+relay=mail.example.com[private/dovecot-lmtp],"
        " delay=2.2, delays=1.9/0.01/0.01/0.21, dsn=2.0.0, status=sent "
    )
    assert splitter.split(text) == [
        ("to", "foo@example.com"),
        ("orig_to", "bar@example.com"),
        ("relay", "mail.example.com[private/dovecot-lmtp]"),
        ("delay", "2.2"),
        ("delays", "1.9/0.01/0.01/0.21"),
        ("dsn", "2.0.0"),
        ("status", "sent"),
    ]


def test_strip_brackets():
    # pins: KeyValueProcessorTests.testStripBrackets (one of ( [ < " ' at the start, one of ) ] > " ' at the end)
    splitter = KvSplitter("&", "=", strip_brackets=True)
    text = "first=<hello>&second=\"world\"&second=(universe)&third=<foo>&fourth=[bar]&fifth='last'"
    assert splitter.split(text) == [
        ("first", "hello"),
        ("second", "world"),
        ("second", "universe"),
        ("third", "foo"),
        ("fourth", "bar"),
        ("fifth", "last"),
    ]


def test_strip_brackets_is_one_character_each_end_unpaired():
    # pins: KeyValueProcessor.STRIP_BRACKETS: independent, single characters, not matched pairs
    splitter = KvSplitter(" ", "=", strip_brackets=True)
    assert splitter.split("a=((x)) b=<y c=z] d=\"") == [("a", "(x)"), ("b", "y"), ("c", "z"), ("d", "")]


def test_strip_brackets_before_trim_value():
    # pins: KeyValueProcessor: value = trim_value(strip_brackets(value))
    splitter = KvSplitter(" ", "=", strip_brackets=True, trim_value="_")
    assert splitter.split("a=_[x]_") == [("a", "[x]")]
    assert splitter.split("a=[_x_]") == [("a", "x")]


def test_prefix():
    # pins: KeyValueProcessorTests.testAddPrefix
    assert KvSplitter("&", "=", prefix="arg_").split("first=hello&second=world") == [("arg_first", "hello"), ("arg_second", "world")]


def test_filters_see_the_trimmed_key_without_prefix():
    # pins: KeyValueProcessor: keyFilter tests the trimmed key, then the prefix is added
    splitter = KvSplitter(" ", "=", trim_key="-", include_keys=["peer"], prefix="wg.")
    assert splitter.split("--peer=abc other=1") == [("wg.peer", "abc")]


# --- Java split semantics -------------------------------------------------------------------


def test_value_split_limit_two():
    # pins: KeyValueProcessor.buildSplitter(valueSplit, false): limit 2, the value keeps later separators
    assert KvSplitter(" ", "=").split("url=a=b=c") == [("url", "a=b=c")]


def test_empty_key_and_value():
    # pins: Java split with limit 2 keeps a leading "" and a trailing "" ("=v" and "k=")
    assert KvSplitter(" ", "=").split("=v k=") == [("", "v"), ("k", "")]


def test_trailing_empty_pieces_dropped():
    # pins: buildSplitter(fieldSplit, true): limit 0 drops trailing empty pieces ("a=1 " has no third pair)
    assert KvSplitter(" ", "=").split("a=1 b=2   ") == [("a", "1"), ("b", "2")]


def test_leading_empty_piece_kept_and_fails():
    # pins: Java split keeps a leading "" for a separator at position 0, and "" has no value_split
    with pytest.raises(KvSplitError):
        KvSplitter(" ", "=").split(" a=1")


def test_only_separators_gives_no_pairs():
    # pins: Java split of " " by " " is an empty array: nothing to add, no error
    assert KvSplitter(" ", "=").split("   ") == []


def test_empty_text_is_one_empty_piece_and_fails():
    # pins: Java "".split(...) returns [""] (no match keeps the input), which has no value_split
    with pytest.raises(KvSplitError):
        KvSplitter(" ", "=").split("")


def test_regex_field_split():
    # pins: kv docs: field_split and value_split are regular expressions
    assert KvSplitter(r"\s+", "=").split("a=1   b=2\tc=3") == [("a", "1"), ("b", "2"), ("c", "3")]
    assert KvSplitter(",", r"\s*=\s*").split("a = 1,b= 2") == [("a", "1"), ("b", "2")]
    assert KvSplitter(r",\s*", ":").split("x:1, y:2,z:3") == [("x", "1"), ("y", "2"), ("z", "3")]


def test_escaped_single_character_split():
    # pins: String.split's fast path for "\\|" is the same as the regex: a literal '|'
    assert KvSplitter(r"\|", "=").split("a=1|b=2") == [("a", "1"), ("b", "2")]
    assert KvSplitter(".", "=").split("a=1") == []  # '.' is a regex: every character separates, all pieces empty


def test_lookaround_split_keeps_quoted_values_whole():
    # pins: field_split is a (Java) regex, so lookarounds work: split on spaces outside quotes
    splitter = KvSplitter(r" (?=[a-z_]+=)", "=", strip_brackets=True)
    assert splitter.split('user=alice msg="peer went away" code=7') == [("user", "alice"), ("msg", "peer went away"), ("code", "7")]


def test_empty_regex_splits_every_character():
    # pins: Java Pattern.split with an empty regex: no leading "" for the zero-width match at 0
    assert KvSplitter("", "").split("abc") == [("a", ""), ("b", ""), ("c", "")]


def test_java_dollar_and_dot():
    # pins: Java regex (no MULTILINE/DOTALL): '$' also matches before a final \r; '.' does not match \r
    assert KvSplitter(" ", "=", trim_value="x").split("a=1x\r") == [("a", "1\r")]
    assert KvSplitter(" ", "=.").split("k=xv") == [("k", "v")]
    with pytest.raises(KvSplitError):
        KvSplitter(" ", "=.").split("k=\rv")


def test_invalid_regex_refused():
    # pins: KeyValueProcessor compiles field_split/value_split when the processor is built
    with pytest.raises(ValueError, match="field_split"):
        KvSplitter("(", "=")
