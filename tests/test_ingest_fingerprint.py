"""The fingerprint processor (wgsiem/ingest/processors/fingerprint.py) against Elasticsearch.

Each test names what it follows: FingerprintProcessorTests (its fingerprints are the vectors
here) and FingerprintProcessorFactoryTests; where a test builds the expected hash input
itself, it follows FingerprintProcessor.execute and toBytes (a zero byte before each key and
leaf value; strings UTF-8, int 4 and long 8 bytes little-endian, double 8 bytes
little-endian, true 1, false 2, null nothing; ZonedDateTime as its fields and zone id).
"""

from __future__ import annotations

import base64
import hashlib
import struct
from datetime import UTC, datetime

import pytest

from tests.support.ingest import config_error, failure, output
from wgsiem.ingest.pipeline import PipelineSet
from wgsiem.ingest.simulate import simulate


def fingerprint(doc: dict, fields: list[str], **options) -> str | None:
    return output({"fingerprint": {"fields": fields, **options}}, doc).get(options.get("target_field", "fingerprint"))


def sha1_of(*pieces: bytes, salt: bytes = b"") -> str:
    data = salt + b"".join(b"\x00" + piece for piece in pieces)
    return base64.b64encode(hashlib.sha1(data).digest()).decode()


def test_basic():
    # pins: FingerprintProcessorTests.testBasic (fields hashed in sorted name order: bar, foo)
    assert fingerprint({"foo": "fooValue", "bar": "barValue"}, ["foo", "bar"]) == "IgxzmZVknx4+Og/eUpvIlqH9PdI="
    assert fingerprint({"foo": "fooValue", "bar": "barValue"}, ["bar", "foo"]) == "IgxzmZVknx4+Og/eUpvIlqH9PdI="  # testFieldsAreConsistentlyOrdered


def test_ignore_missing():
    # pins: FingerprintProcessorTests.testIgnoreMissing
    fields = ["foo", "bar", "baz"]
    assert fingerprint({"foo": "foo"}, fields, ignore_missing=True) == "WoyqQDn9vALAGmScjA9Z2yg7sos="
    assert fingerprint({"foo": "foo", "bar": "foo"}, fields, ignore_missing=True) == "vjq2RyU5UA8vzeM5gIbfrOGir7w="
    assert fingerprint({"foo": "foo", "bar": "foo", "baz": "foo"}, fields, ignore_missing=True) == "2Ozd89kaee2AnbrjU8zB6QGn9Wo="
    assert failure({"fingerprint": {"fields": fields}}, {"foo": "foo", "bar": "foo"}) == (
        "illegal_argument_exception",
        "missing field [baz] when calculating fingerprint",
    )
    # A null value counts as missing (getFieldValue(field, Object.class, true) gives null for both).
    assert failure({"fingerprint": {"fields": ["foo"]}}, {"foo": None}) == ("illegal_argument_exception", "missing field [foo] when calculating fingerprint")
    # With none of the fields there, nothing is set.
    assert output({"fingerprint": {"fields": ["foo"], "ignore_missing": True}}, {"a": 1}) == {"a": 1}


def test_salt():
    # pins: FingerprintProcessorTests.testSalt; FingerprintProcessor.Factory (Strings.hasText: a blank salt is none)
    assert fingerprint({"foo": "foo"}, ["foo"], salt="salt") == "rWTTCYvRPQAzKXydmKwyC+//dmM="
    assert fingerprint({"foo": "foo"}, ["foo"], salt="  ") == fingerprint({"foo": "foo"}, ["foo"])


@pytest.mark.parametrize(
    ("method", "expected"),
    [
        ("MD5", "b+3QyaPYdnUF1lb5IKE+1g=="),
        ("SHA-1", "SX/93t223OurJvgMUOCtSl9hcpg="),
        ("SHA-256", "zDQYTy34tBlmNedlDdn++N7NN+wBY15mCoPDINmUxXc="),
        ("SHA-512", "xNIpYyJzRmg5R0T44ZORC2tgh8N4tVtTFzD5AdBqxmdOuRUjibQQ64lgefkbuZFl8Hv9ze9U6PAmrlgJPcRPGA=="),
        ("MurmurHash3", "yjfaOoy2UQ3EHZRAzFK9sw=="),
    ],
)
def test_methods(method, expected):
    # pins: FingerprintProcessorTests.testMethod
    assert fingerprint({"foo": "foo", "bar": "bar"}, ["foo", "bar"], method=method) == expected


def test_murmur3_over_more_than_one_block():
    # pins: Murmur3Hasher (x64 128-bit, seed 0, h1 then h2 big-endian): Guava's and the reference
    # implementation's value for this sentence, whose bytes they print as h1 then h2 little-endian
    from wgsiem.ingest.java.murmur3 import murmur3_x64_128

    digest = murmur3_x64_128(b"The quick brown fox jumps over the lazy dog")
    assert digest[:8][::-1].hex() + digest[8:][::-1].hex() == "6c1b07bc7bbc4be347939ac4a93c437a"


def test_lists_and_maps_are_walked_in_order():
    # pins: FingerprintProcessorTests.testObjectTraversalWithLists, testObjectTraversalWithMaps,
    # testObjectTraversalWithNestedStructures, testMapEntriesAreConsistentlyOrdered
    doc = {"foo": ["zoo", "yak", ["rat", "tiger", "bear"], "xor"], "bar": "barValue"}
    assert fingerprint(doc, ["foo", "bar"]) == sha1_of(*(v.encode() for v in ["barValue", "zoo", "yak", "rat", "tiger", "bear", "xor"]))
    doc = {"foo": {"foo-sub2": "foo2", "foo-sub1": "foo3"}, "bar": {"bar-sub1": "bar3", "bar-sub2": "bar2"}}
    expected = ["bar-sub1", "bar3", "bar-sub2", "bar2", "foo-sub1", "foo3", "foo-sub2", "foo2"]
    assert fingerprint(doc, ["foo", "bar"]) == sha1_of(*(v.encode() for v in expected))
    doc = {"foo": {"list": ["foo", {"ghi": "jkl", "abc": "def"}, 3.14], "alpha": "beta"}, "bar": "barValue"}
    pieces = [b"barValue", b"alpha", b"beta", b"list", b"foo", b"abc", b"def", b"ghi", b"jkl", struct.pack("<d", 3.14)]
    assert fingerprint(doc, ["foo", "bar"]) == sha1_of(*pieces)


def test_data_types():
    # pins: FingerprintProcessorTests.testDataTypes, FingerprintProcessor.toBytes (a JSON number
    # that fits an int is an Integer, a larger one a Long)
    doc = {"types": {"0string": "foo", "2integer": 42, "3long": 43_000_000_000, "5double": 3.15, "6boolean": True, "7false": False, "9null": None}}
    pieces = [
        b"0string", b"foo",
        b"2integer", struct.pack("<i", 42),
        b"3long", struct.pack("<q", 43_000_000_000),
        b"5double", struct.pack("<d", 3.15),
        b"6boolean", b"\x01",
        b"7false", b"\x02",
        b"9null", b"",
    ]  # fmt: skip
    assert fingerprint(doc, ["types"]) == sha1_of(*pieces)
    assert fingerprint({"n": -5}, ["n"]) == sha1_of(struct.pack("<i", -5))
    assert failure({"fingerprint": {"fields": ["n"]}}, {"n": 2**70}) == ("illegal_argument_exception", "cannot convert object of type [java.math.BigInteger] to bytes")


def test_the_ingest_timestamp_is_a_zoned_date_time():
    # pins: FingerprintProcessor.toBytes for ZonedDateTime (year, month, day, hour, minute,
    # second, nano, offset seconds as ints little-endian, then the zone id; _ingest.timestamp is UTC, "Z")
    now = datetime(2024, 5, 6, 7, 8, 9, 123456, tzinfo=UTC)
    body = {"pipeline": {"processors": [{"fingerprint": {"fields": ["_ingest.timestamp"]}}]}, "docs": [{"_source": {}}]}
    status, response = simulate(body, PipelineSet(), now=now)
    assert status == 200
    expected = sha1_of(struct.pack("<8i", 2024, 5, 6, 7, 8, 9, 123456000, 0) + b"Z")
    assert response["docs"][0]["doc"]["_source"]["fingerprint"] == expected


def test_strings_are_utf8():
    # pins: FingerprintProcessor.toBytes (String.getBytes(UTF_8))
    assert fingerprint({"s": "Günter 😀"}, ["s"], target_field="fp") == sha1_of("Günter 😀".encode())


def test_factory():
    # pins: FingerprintProcessorFactoryTests.testFields, testMethod, testDefaults
    error = config_error({"fingerprint": {"fields": []}})
    assert (error["reason"], error["property_name"]) == ("[fields] must specify at least one field", "fields")
    assert config_error({"fingerprint": {}})["reason"] == "[fields] required property is missing"
    error = config_error({"fingerprint": {"fields": ["a"], "method": "SHA-3"}})
    assert (error["reason"], error["property_name"]) == (
        "[method] [SHA-3] must be one of the supported hash methods [MD5,SHA-1,SHA-256,SHA-512,MurmurHash3]",
        "method",
    )
    assert config_error({"fingerprint": {"fields": ["a"], "method": "sha-1"}})["property_name"] == "method"  # names are exact
    assert output({"fingerprint": {"fields": ["a"]}}, {"a": "x"}) == {"a": "x", "fingerprint": sha1_of(b"x")}  # SHA-1 into "fingerprint"
