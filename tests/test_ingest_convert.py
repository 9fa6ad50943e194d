"""The convert processor's value conversion against Elasticsearch's behaviour.

Sources named in the comments:
  CPT    = modules/ingest-common/src/test/.../ConvertProcessorTests.java (ES 9), whose
           NumericConversionTestMatrix records the numeric behaviour case by case;
  CP     = modules/ingest-common/src/main/.../ConvertProcessor.java;
  DOC    = docs/reference/enrich-processor/convert-processor.md (ES 9 "Supported types");
  JAVA   = the Java method ES calls (Integer.parseInt, Double.toString, ...).
"""

from __future__ import annotations

import math

import pytest

from wgsiem.ingest.formats.convert import (
    CONVERT_TYPES,
    ConvertError,
    convert_value,
    java_double_to_string,
    java_str,
    parse_ip,
)


def test_types():
    # CP: the Type enum (DOC lists the same eight).
    assert CONVERT_TYPES == ("integer", "long", "float", "double", "string", "boolean", "ip", "auto")


# --- the numeric matrix (CPT NumericConversionTestMatrix, re-expressed) --------------------
# (input, type, expected); expected None means "throws". Python int stands for Java
# Integer/Long, float for Double (JSON decimals arrive as Double). A Float result is the
# float that prints like Java's Float.toString of it.
NUMERIC = [
    # integer: ints in range, decimal or 0x strings; never a decimal point, never a double
    (123, "integer", 123),
    ("123", "integer", 123),
    ("0x7b", "integer", 123),
    (123.0, "integer", None),
    ("123.0", "integer", None),
    ("1.230000e+02", "integer", None),
    ("0x1.edcdp6", "integer", None),
    (16777217, "integer", 16777217),
    (2147483648, "integer", None),  # a Long out of the 32-bit range
    ("2147483648", "integer", None),
    ("9223372036854775808", "integer", None),
    # long
    (2147483648, "long", 2147483648),
    ("9007199254740993", "long", 9007199254740993),  # exact, no double rounding
    ("9223372036854775808", "long", None),
    (123.45, "long", None),
    # double: Java's grammar, hex needs a p exponent
    (123, "double", 123.0),
    ("0x7b", "double", None),
    ("1.230000e+02", "double", 123.0),
    ("0x1.edcdp6", "double", 123.4501953125),
    ("9007199254740993", "double", 9.007199254740992e15),
    ("680564693277057720000000000000000000000", "double", 6.805646932770577e38),
    # float: rounded to 32 bits
    (123, "float", 123.0),
    (123.45, "float", 123.45),
    ("0x1.edcdp6", "float", 123.450195),
    (16777217, "float", 16777216.0),
    ("2147483648", "float", 2.1474836e9),
    ("9007199254740993.0", "float", 9.007199e15),
    ("680564693277057720000000000000000000000", "float", math.inf),
    # string: Java's toString, strings unchanged
    (123, "string", "123"),
    (123.0, "string", "123.0"),
    (16777217.0, "string", "1.6777217E7"),
    (2147483648.0, "string", "2.147483648E9"),
    ("0x7b", "string", "0x7b"),
    ("1.230000e+02", "string", "1.230000e+02"),
    # auto: boolean, integer, long, float, double, else the string
    ("123", "auto", 123),
    ("0x7b", "auto", 123),
    ("2147483648", "auto", 2147483648),
    ("123.0", "auto", 123.0),
    ("123.45", "auto", 123.45),
    ("16777217.0", "auto", 16777216.0),  # float wins over double (DOC: "float takes precedence")
    ("9223372036854775808", "auto", 9.223372e18),  # too long for a long: a float
    ("680564693277057720000000000000000000000", "auto", math.inf),
    (123, "auto", 123),  # not a string: unchanged
    (123.45, "auto", 123.45),
]


@pytest.mark.parametrize(("value", "kind", "expected"), NUMERIC)
def test_numeric_matrix(value, kind, expected):
    if expected is None:
        with pytest.raises(ConvertError):
            convert_value(value, kind)
        return
    result = convert_value(value, kind)
    assert result == expected
    assert type(result) is type(expected)


# --- integer / long -------------------------------------------------------------------------


def test_integer_hex_and_leading_zero():
    # CPT testConvertIntHex, testConvertIntLeadingZero: "-0x..." is hex, "010" is decimal ten.
    assert convert_value("-0x1F", "integer") == -31
    assert convert_value("010", "integer") == 10
    assert convert_value("-0x80000000", "integer") == -(2**31)  # Integer.MIN_VALUE decodes
    assert convert_value("0x7fffffffffffffff", "long") == 2**63 - 1


@pytest.mark.parametrize("text", ["0X1F", "+0x1F", "0x", "0x-1", "0x80000000", "1_000", " 12", "12 ", ""])
def test_integer_refuses(text):
    # JAVA: ES decodes only texts starting "0x"/"-0x"; parseInt takes no blanks, no "_",
    # and Integer.decode refuses a sign after the prefix and 0x80000000 (over MAX_VALUE).
    with pytest.raises(ConvertError):
        convert_value(text, "integer")


def test_integer_message():
    # CPT testConvertIntHexError / testConvertIntError: the message names value and type.
    with pytest.raises(ConvertError, match=r"^unable to convert \[0xnotanumber\] to integer$"):
        convert_value("0xnotanumber", "integer")
    with pytest.raises(ConvertError, match=r"^unable to convert \[string-x\] to long$"):
        convert_value("string-x", "long")


def test_bool_is_not_a_number():
    # JAVA: Boolean.toString gives "true", which no number parser takes (Python's True == 1).
    for kind in ("integer", "long", "float", "double"):
        with pytest.raises(ConvertError, match=r"unable to convert \[true\]"):
            convert_value(True, kind)


# --- float / double ---------------------------------------------------------------------------


def test_java_floating_grammar():
    # JAVA Double.parseDouble: trims blanks, takes type suffixes, NaN, Infinity, hex with p.
    assert convert_value(" 12 ", "double") == 12.0
    assert convert_value("1.5f", "double") == 1.5
    assert convert_value("1.", "double") == 1.0
    assert convert_value(".5", "double") == 0.5
    assert convert_value("0x1p3", "double") == 8.0
    assert convert_value("-Infinity", "double") == -math.inf
    assert math.isnan(convert_value("NaN", "float"))
    assert convert_value("1e40", "float") == math.inf  # beyond Float.MAX_VALUE
    for text in ("inf", "nan", "1_000.5", "1e", "0x10", "1.5 x"):
        with pytest.raises(ConvertError, match="to double"):
            convert_value(text, "double")


def test_float_prints_as_java_float():
    # CPT testConvertFloat/testAutoConvertMatchFloat: the Float keeps Float.toString's digits.
    assert convert_value("0.1", "float") == 0.1
    assert convert_value("242.15", "auto") == 242.15  # DOC's example
    assert convert_value("3.4028235e38", "float") == 3.4028235e38
    assert convert_value("1.4e-45", "float") == 1.4e-45  # the smallest subnormal


# --- boolean ----------------------------------------------------------------------------------


def test_boolean():
    # CP / DOC: "true"/"false" ignoring case; a Boolean stays itself.
    assert convert_value("TRUE", "boolean") is True
    assert convert_value("False", "boolean") is False
    assert convert_value(False, "boolean") is False


@pytest.mark.parametrize("value", ["on", "off", "yes", "no", "0", "1", 1, "truee"])
def test_boolean_is_strict(value):
    # CPT testConvertBooleanError: only proper booleans, with ES's message.
    with pytest.raises(ConvertError, match=r"^\[.*\] is not a boolean value, cannot convert to boolean$"):
        convert_value(value, "boolean")


# --- ip ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text", ["192.168.1.1", "2001:db8:3333:4444:5555:6666:7777:8888", "::1", "::ffff:1.2.3.4", "fe80::1"]
)
def test_ip_kept(text):
    # CPT testConvertIpV4 / testConvertIpV6: a valid address is kept as the same string.
    assert convert_value(text, "ip") == text


@pytest.mark.parametrize(
    "text",
    ["192.168.1.256", "2001:db8:3333:4444:5555:6666:7777:88888", ":1", "01.2.3.4", "1.2.3", "fe80::1%eth0", "host"],
)
def test_ip_refused(text):
    # CPT: "'x' is not an IP string literal." (InetAddresses.forString: no leading zeros,
    # no zone ids, no names).
    with pytest.raises(ConvertError, match=rf"^'{text}' is not an IP string literal\.$"):
        convert_value(text, "ip")


def test_ip_needs_a_string():
    # CP casts the value to String: a number fails.
    with pytest.raises(ConvertError):
        convert_value(3232235777, "ip")


def test_parse_ip_maps_ipv4_mapped_to_ipv4():
    # JAVA InetAddress.getByAddress returns an Inet4Address for ::ffff:a.b.c.d.
    assert str(parse_ip("::ffff:192.0.2.1")) == "192.0.2.1"
    assert str(parse_ip("2001:db8::0001")) == "2001:db8::1"


# --- string ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (1.0, "1.0"),
        (True, "true"),
        (False, "false"),
        (None, "null"),
        (-0.0, "-0.0"),
        (1e20, "1.0E20"),
        (1e7, "1.0E7"),
        (9999999.0, "9999999.0"),
        (0.001, "0.001"),
        (0.0001, "1.0E-4"),
        (123.45, "123.45"),
        (5e-324, "4.9E-324"),  # Double.MIN_VALUE: Java picks the closer two-digit decimal
        (math.inf, "Infinity"),
        ([1, "a", 2.5], "[1, a, 2.5]"),
        ({"a": 1, "b": [True]}, "{a=1, b=[true]}"),
    ],
)
def test_java_str(value, text):
    # JAVA String.valueOf / Double.toString (JDK 19+ shortest form, as bundled with ES 9).
    assert java_str(value) == text


def test_string_conversion():
    # CPT testConvertString: Integer.toString, Boolean.toString, Double.toString.
    assert convert_value(42, "string") == "42"
    assert convert_value(True, "string") == "true"
    assert convert_value(2.0, "string") == "2.0"
    assert java_double_to_string(1.6777217e7) == "1.6777217E7"


# --- auto -------------------------------------------------------------------------------------


def test_auto():
    # CPT testAutoConvertMatchBoolean/Integer/Long, testAutoConvertStringNotMatched,
    # testAutoConvertNotString: only strings change; a string nothing takes stays.
    assert convert_value("true", "auto") is True
    assert convert_value("FALSE", "auto") is False
    assert convert_value("notAnIntFloatOrBool", "auto") == "notAnIntFloatOrBool"
    assert convert_value("1.2.3.4", "auto") == "1.2.3.4"  # DOC: auto never gives an ip
    assert convert_value(True, "auto") is True
    assert convert_value(None, "auto") is None
    assert convert_value({"a": "1"}, "auto") == {"a": "1"}


# --- lists, nulls, types -----------------------------------------------------------------------


def test_lists_convert_element_wise():
    # CP / DOC: "If the field value is an array, all members will be converted."
    assert convert_value(["1", "0x10", "-3"], "integer") == [1, 16, -3]
    assert convert_value(["true", "7", "x"], "auto") == [True, 7, "x"]
    with pytest.raises(ConvertError, match=r"\[x\] to integer"):
        convert_value(["1", "x"], "integer")
    # One level only: a nested list is one value, printed "[1, 2]", which is no integer.
    with pytest.raises(ConvertError, match=r"\[\[1, 2\]\] to integer"):
        convert_value([[1, 2]], "integer")


def test_null_element():
    # CP: null.toString() fails for every type but auto (which leaves non-strings alone).
    with pytest.raises(ConvertError):
        convert_value([None], "string")
    assert convert_value([None, "1"], "auto") == [None, 1]


def test_type_names():
    # CP Type.fromString: upper-cased to find the enum, so any case works; else an error.
    assert convert_value("5", "INTEGER") == 5
    with pytest.raises(ConvertError, match=r"^type \[int\] not supported, cannot convert field\.$"):
        convert_value("5", "int")
