"""The csv processor (wgsiem/ingest/processors/delimited.py, wgsiem/ingest/formats/csv_line.py)
against Elasticsearch.

Each test names what it follows: the REST suite (ingest/250_csv.yml), CsvProcessorTests (run
there with the quotes ', " and the default, and a random separator of , ; | .),
CsvProcessorFactoryTests, and the sources (CsvProcessor's Factory, CsvParser's states).
"""

from __future__ import annotations

import pytest

from tests.support.ingest import config_error, failure, output


def csv(line: str, headers: list[str], **options) -> dict:
    return output({"csv": {"field": "line", "target_fields": headers, **options}}, {"line": line})


def fields(line: str, headers: list[str], **options) -> dict:
    """What the line set, without the line itself."""
    doc = csv(line, headers, **options)
    doc.pop("line")
    return doc


# --- 250_csv.yml ---------------------------------------------------------------------------


def test_rest_defaults():
    # pins: 250_csv.yml "Test CSV Processor defaults"
    assert fields("aa,bb,cc", ["a", "b", "c"]) == {"a": "aa", "b": "bb", "c": "cc"}


def test_rest_quote_and_separator():
    # pins: 250_csv.yml "Test CSV Processor quote and separator"
    doc = fields("'aa';'b;b';'cc';d,d;'ee''ee'", ["a", "b", "c", "d", "e"], quote="'", separator=";")
    assert doc == {"a": "aa", "b": "b;b", "c": "cc", "d": "d,d", "e": "ee'ee"}


def test_rest_trim():
    # pins: 250_csv.yml "Test CSV Processor trim"
    assert fields("    aa,  bb  ,    'cc'", ["a", "b", "c"], trim=True, quote="'") == {"a": "aa", "b": "bb", "c": "cc"}


def test_rest_trim_log():
    # pins: 250_csv.yml "Test CSV Processor trim log"
    line = "2018-01-06 16:56:14.295748|INFO    |VirtualServer |1  |listening on 0.0.0.0:9987, :::9987"
    assert fields(line, ["date", "level", "server", "id", "msg"], trim=True, separator="|") == {
        "date": "2018-01-06 16:56:14.295748",
        "level": "INFO",
        "server": "VirtualServer",
        "id": "1",
        "msg": "listening on 0.0.0.0:9987, :::9987",
    }


# --- CsvProcessorTests ------------------------------------------------------------------------

QUOTES = ["'", '"', ""]
SEPARATORS = [",", ";", "|", "."]


def quoted(values: list[str], quote: str, separator: str) -> str:
    return separator.join(quote + v + quote for v in values)


@pytest.mark.parametrize("quote", QUOTES)
@pytest.mark.parametrize("separator", SEPARATORS)
def test_field_counts(quote, separator):
    # pins: CsvProcessorTests.testExactNumberOfFields, testLessFieldsThanHeaders,
    # testLessHeadersThanFields, testSingleField (trim on, as its processDocument sets it)
    options = {"trim": True, "separator": separator, "quote": quote or '"'}
    values = ["alpha", "bravo", "charlie", "delta", "echo"]
    headers = ["h1", "h2", "h3", "h4", "h5"]
    assert fields(quoted(values, quote, separator), headers, **options) == dict(zip(headers, values, strict=True))
    assert fields(quoted(values[:3], quote, separator), headers, **options) == dict(zip(headers[:3], values[:3], strict=True))
    assert fields(quoted(values, quote, separator), headers[:3], **options) == dict(zip(headers[:3], values[:3], strict=True))
    assert fields(quoted(values[:1], quote, separator), headers[:1], **options) == {"h1": "alpha"}


@pytest.mark.parametrize("quote", ["'", '"'])
@pytest.mark.parametrize("separator", SEPARATORS)
def test_escaped_quotes_and_quoted_separators(quote, separator):
    # pins: CsvProcessorTests.testEscapedQuote (a doubled quote is one), testQuotedStrings
    # (separators, CR and LF inside quotes)
    values = [f"ab{quote}{quote}cd{quote}{quote}", f"{separator}xy{separator}\n\rzz"]
    line = quoted(values, quote, separator)
    assert fields(line, ["a", "b"], separator=separator, quote=quote, trim=True) == {
        "a": f"ab{quote}cd{quote}",
        "b": f"{separator}xy{separator}\n\rzz",
    }


@pytest.mark.parametrize("separator", SEPARATORS)
def test_empty_fields_set_nothing(separator):
    # pins: CsvProcessorTests.testEmptyFields (three empty fields, values, two separators, "abc")
    headers = ["h1", "h2", "h3", "h4", "h5", "h6", "h7"]
    line = separator * 3 + quoted(["d", "e", "f"], '"', separator) + separator + separator + "abc"
    # The last name gets the empty field; "abc" is one field too many.
    assert fields(line, headers, separator=separator, trim=True) == {"h4": "d", "h5": "e", "h6": "f"}


def test_empty_value():
    # pins: CsvProcessorFactoryTests.testProcessorIsCreated (empty_value), CsvParser.setField
    assert fields("a,,c,", ["x", "y", "z", "w"], empty_value="") == {"x": "a", "y": "", "z": "c"}
    assert fields(",b", ["x", "y"], empty_value="N/A") == {"x": "N/A", "y": "b"}
    assert fields("a,,c", ["x", "y", "z"], empty_value={"k": 1}) == {"x": "a", "y": {"k": 1}, "z": "c"}


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ('abc"abc', "Illegal character inside unquoted field at 3"),
        ('"abc"asd', "character 'a' after quoted field at 5"),
        ('"abcasd', "Unmatched quote"),
        ("abc\nabc", "Illegal character inside unquoted field at 3"),
        ("abc\rabc", "Illegal character inside unquoted field at 3"),
    ],
)
def test_wrong_strings(line, reason):
    # pins: CsvProcessorTests.testWrongStings (the messages are CsvParser's)
    assert failure({"csv": {"field": "line", "target_fields": ["a"]}}, {"line": line}) == ("illegal_argument_exception", reason)


@pytest.mark.parametrize("separator", SEPARATORS)
def test_quoted_whitespaces(separator):
    # pins: CsvProcessorTests.testQuotedWhitespaces (trim: spaces around fields go, inside quotes they stay)
    line = "  abc   " + separator + " def" + separator + "ghi  " + separator + " '  ooo  '"
    assert fields(line, ["a", "b", "c", "d"], separator=separator, quote="'", trim=True) == {"a": "abc", "b": "def", "c": "ghi", "d": "  ooo  "}


@pytest.mark.parametrize("separator", SEPARATORS)
def test_untrimmed(separator):
    # pins: CsvProcessorTests.testUntrimmed (without trim unquoted spaces stay; around quotes
    # spaces are allowed and dropped; trailing spaces after the last quoted field end the line)
    line = "  abc   " + separator + " def" + separator + "ghi  " + separator + "   'ooo'    " + separator + "  'jjj'   "
    assert fields(line, ["a", "b", "c", "d", "e", "f"], separator=separator, quote="'") == {
        "a": "  abc   ",
        "b": " def",
        "c": "ghi  ",
        "d": "ooo",
        "e": "jjj",
    }


def test_parser_quirks_kept():
    # pins: CsvParser as written: the end of the line sets the last unquoted field with its
    # trailing spaces even with trim; a line ending in a separator sets no empty last field;
    # without trim, a field of only spaces sets nothing and the next field starts inside it.
    assert fields("a,b  ", ["x", "y"], trim=True) == {"x": "a", "y": "b  "}
    assert fields("a,", ["x", "y"], empty_value="E") == {"x": "a"}
    assert fields("a,  ,b", ["x", "y", "z"]) == {"x": "a", "z": " ,b"}


def test_missing_and_wrong_field():
    # pins: CsvProcessor.execute (getFieldValue(field, String.class, ignoreMissing); null fails
    # unless ignore_missing)
    processor = {"csv": {"field": "line", "target_fields": ["a"]}}
    assert failure(processor, {}) == ("illegal_argument_exception", "field [line] not present as part of path [line]")
    assert failure(processor, {"line": None}) == ("illegal_argument_exception", "field [line] is null, cannot process it.")
    assert failure(processor, {"line": 5}) == ("illegal_argument_exception", "field [line] of type [java.lang.Integer] cannot be cast to [java.lang.String]")
    quiet = {"csv": {"field": "line", "target_fields": ["a"], "ignore_missing": True}}
    assert output(quiet, {}) == {}
    assert output(quiet, {"line": None}) == {"line": None}


@pytest.mark.parametrize(
    ("options", "reason", "name"),
    [
        ({"quote": "''"}, "[quote] quote has to be single character like \" or '", "quote"),
        ({"quote": "\U0001f600"}, "[quote] quote has to be single character like \" or '", "quote"),  # two UTF-16 units
        ({"separator": ""}, "[separator] separator has to be single character like , or ;", "separator"),
        ({"target_fields": []}, "[target_fields] target fields list can't be empty", "target_fields"),
        ({"target_fields": "a"}, "[target_fields] property isn't a list, but of type [java.lang.String]", "target_fields"),
        ({"empty_value": None}, "[empty_value] required property is missing", "empty_value"),
    ],
)
def test_factory_errors(options, reason, name):
    # pins: CsvProcessor.Factory (newConfigurationException with the property; readObject of empty_value)
    error = config_error({"csv": {"field": "line", "target_fields": ["a"], **options}})
    assert (error["type"], error["reason"], error["property_name"]) == ("parse_exception", reason, name)


def test_factory_requires_field_and_target_fields():
    # pins: CsvProcessor.Factory (readStringProperty "field", readList "target_fields")
    assert config_error({"csv": {"target_fields": ["a"]}})["reason"] == "[field] required property is missing"
    assert config_error({"csv": {"field": "line"}})["reason"] == "[target_fields] required property is missing"
