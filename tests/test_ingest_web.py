"""uri_parts, registered_domain and user_agent, as Elasticsearch runs them.

Each test names what it follows: the processors (UriPartsProcessor, RegisteredDomainProcessor,
UserAgentProcessor in modules/ingest-common, UserAgentParserImpl and DeviceTypeParser in
modules/user-agent), their unit tests, the REST suites 320_uri_parts_processor.yml,
390_registered_domain_processor.yml, 420_useragent_custom_regex_legacy.yml and the
user-agent module's 20_useragent_processor.yml, or the library Elasticsearch delegates to
(java.net.URI / URL on JDK 25, Apache HttpClient 4.5.14's PublicSuffixMatcher). Values
marked "JDK 25" are what those classes returned when run on it.
"""

from __future__ import annotations

import json
import re
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tests.support.ingest import answer
from tests.support.ingest import output as source
from wgsiem.cli import app
from wgsiem.ingest.formats.public_suffix import SuffixList, to_unicode
from wgsiem.ingest.formats.uri import JavaUriError, java_uri_parts
from wgsiem.ingest.formats.user_agent import default_parser, version_string
from wgsiem.ingest.pipeline import PipelineSet
from wgsiem.ingest.simulate import simulate

REPO = Path(__file__).resolve().parents[1]
CHROME_MAC = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_9_2) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/33.0.1750.149 Safari/537.36"


def build_error(processor: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    status, body = simulate({"pipeline": {"processors": [processor]}, "docs": [{"_source": {}}]}, PipelineSet(), **kwargs)
    assert status == 400, body
    return body["error"]


# === uri_parts ===========================================================================


def uri(text: str, **options: Any) -> dict[str, Any]:
    return source({"uri_parts": {"field": "field", "keep_original": False, **options}}, {"field": text})["url"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("http://www.google.com", {"scheme": "http", "domain": "www.google.com", "path": ""}),
        ("http://www.google.com:88", {"scheme": "http", "domain": "www.google.com", "path": "", "port": 88}),
        ("http://www.google.com:88/google.png", {"scheme": "http", "domain": "www.google.com", "extension": "png", "path": "/google.png", "port": 88}),
        ("https://www.google.com:88/foo#bar", {"scheme": "https", "domain": "www.google.com", "fragment": "bar", "path": "/foo", "port": 88}),
        ("https://www.google.com:88/foo?key=val", {"scheme": "https", "domain": "www.google.com", "path": "/foo", "query": "key=val", "port": 88}),
        (
            "https://user:pw@www.google.com:88/foo",
            {"scheme": "https", "domain": "www.google.com", "path": "/foo", "port": 88, "user_info": "user:pw", "username": "user", "password": "pw"},
        ),
        (
            "https://user:@www.google.com:88/foo",
            {"scheme": "https", "domain": "www.google.com", "path": "/foo", "port": 88, "user_info": "user:", "username": "user", "password": ""},
        ),
        ("ftp://ftp.is.co.za/rfc/rfc1808.txt", {"scheme": "ftp", "path": "/rfc/rfc1808.txt", "extension": "txt", "domain": "ftp.is.co.za"}),
        ("telnet://192.0.2.16:80/", {"scheme": "telnet", "path": "/", "port": 80, "domain": "192.0.2.16"}),
        ("ldap://[2001:db8::7]/c=GB?objectClass?one", {"scheme": "ldap", "path": "/c=GB", "query": "objectClass?one", "domain": "[2001:db8::7]"}),
        # testUrlWithCharactersNotToleratedByUri: java.net.URL takes what URI refuses
        ("http://www.google.com/path with spaces", {"scheme": "http", "domain": "www.google.com", "path": "/path with spaces"}),
    ],
)
def test_uri_parts_of_elasticsearch_unit_tests(text: str, expected: dict[str, Any]) -> None:
    """UriPartsProcessorTests.testUriParts and testUrlWithCharactersNotToleratedByUri."""
    assert uri(text) == expected


def test_uri_parts_rest_suite() -> None:
    """320_uri_parts_processor.yml "Test URI parts Processor": defaults (target url, original kept)."""
    text = "https://user:pw@testing.google.com:8080/foo/bar.txt?foo1=bar1&foo2=bar2#anchorVal"
    got = source({"uri_parts": {"field": "my_uri"}}, {"my_uri": text})
    assert got["my_uri"] == text
    assert got["url"] == {
        "original": text, "scheme": "https", "domain": "testing.google.com", "fragment": "anchorVal", "path": "/foo/bar.txt",
        "port": 8080, "username": "user", "password": "pw", "user_info": "user:pw", "query": "foo1=bar1&foo2=bar2", "extension": "txt",
    }  # fmt: skip


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # URI's getters decode %XX as UTF-8; a bad sequence becomes U+FFFD (JDK 25)
        ("http://h/%41%e2%82%ac?q=%20#f%20", {"scheme": "http", "domain": "h", "path": "/A\u20ac", "query": "q= ", "fragment": "f "}),
        ("http://h/%ff", {"scheme": "http", "domain": "h", "path": "/\ufffd"}),
        # URL's getters are raw (JDK 25)
        ("http://h/a b%41", {"scheme": "http", "domain": "h", "path": "/a b%41"}),
        # a registry-based authority has no host: domain is present and null (JDK 25)
        ("http://my_host:8080/x", {"scheme": "http", "domain": None, "path": "/x"}),
        # an opaque URI has no path, and a relative one no scheme (JDK 25)
        ("mailto:John.Doe@example.com", {"scheme": "mailto", "domain": None}),
        ("/relative/file.tar.gz?x=1", {"scheme": None, "domain": None, "path": "/relative/file.tar.gz", "extension": "gz", "query": "x=1"}),
        # the extension comes from the last segment only, and may be empty
        ("http://h/dir.d/file", {"scheme": "http", "domain": "h", "path": "/dir.d/file"}),
        ("http://h/p.", {"scheme": "http", "domain": "h", "path": "/p.", "extension": ""}),
        # URL fallback with a mailto: the whole address is the path (JDK 25)
        ("mailto:a b@c.com?x#y", {"scheme": "mailto", "domain": "", "path": "a b@c.com", "query": "x"}),
    ],
)
def test_uri_parts_follows_java(text: str, expected: dict[str, Any]) -> None:
    """UriPartsProcessor.getUriParts over java.net.URI, then java.net.URL (values: JDK 25)."""
    assert uri(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "not:\\/_a_valid_uri",  # UriPartsProcessorTests.testInvalidUri
        "http://ho st/x",  # URL refuses a space in the host since JDK 20 (JDK 25)
        "gopher://h/x y",  # URL has no handler for gopher (JDK 25)
        "http://h:99999999999/x y",  # port beyond an int (JDK 25)
        "http://[zz]/x y",  # not an IPv6 literal (JDK 25)
    ],
)
def test_uri_parts_refuses_what_neither_parser_takes(text: str) -> None:
    """UriPartsProcessor.apply: "unable to parse URI [...]"."""
    got = answer({"uri_parts": {"field": "field"}}, {"field": text})
    assert got["error"]["type"] == "illegal_argument_exception"
    assert got["error"]["reason"] == f"unable to parse URI [{text}]"


def test_uri_parts_keep_original_and_remove_if_successful() -> None:
    """UriPartsProcessorTests (keep original / remove if successful) and
    testRemoveIfSuccessfulDoesNotRemoveTargetField."""
    text = "http://www.google.com:88/foo#bar"
    got = source({"uri_parts": {"field": "field", "remove_if_successful": True}}, {"field": text})
    assert "field" not in got
    assert got["url"]["original"] == text
    got = source({"uri_parts": {"field": "field", "target_field": "field", "remove_if_successful": True, "keep_original": False}}, {"field": "http://www.google.com"})
    assert got == {"field": {"scheme": "http", "domain": "www.google.com", "path": ""}}


def test_uri_parts_missing_null_and_wrong_type() -> None:
    """UriPartsProcessor.execute: getFieldValue(field, String.class, ignoreMissing); a null
    value without ignore_missing reaches new URI(null)."""
    assert source({"uri_parts": {"field": "f", "ignore_missing": True}}, {"g": 1}) == {"g": 1}
    assert answer({"uri_parts": {"field": "f"}}, {"g": 1})["error"]["reason"] == "field [f] not present as part of path [f]"
    npe = answer({"uri_parts": {"field": "f"}}, {"f": None})["error"]
    assert npe["type"] == "null_pointer_exception"
    cast = answer({"uri_parts": {"field": "f"}}, {"f": 5})["error"]
    assert cast["reason"] == "field [f] of type [java.lang.Integer] cannot be cast to [java.lang.String]"


def test_uri_parts_options_are_typed() -> None:
    """UriPartsProcessor.Factory: field required; booleans read as booleans."""
    assert build_error({"uri_parts": {}})["reason"] == "[field] required property is missing"
    assert build_error({"uri_parts": {"field": "f", "keep_original": "yes"}})["reason"] == "[keep_original] property isn't a boolean, but of type [java.lang.String]"


def test_a_malformed_escape_sends_the_string_to_url() -> None:
    """java.net.URI refuses a '%' without two hex digits; java.net.URL keeps it raw (JDK 25)."""
    assert java_uri_parts("http://h/%zz").path == "/%zz"
    assert java_uri_parts("http://h%zz/ ").host == "h%zz"
    with pytest.raises(JavaUriError, match=r"unable to parse URI \[x y\]"):
        java_uri_parts("x y")


# === registered_domain ===================================================================


def domain(name: Any, **options: Any) -> dict[str, Any]:
    return source({"registered_domain": {"field": "domain_input", "target_field": "parsed_domain", **options}}, {"domain_input": name})


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("www.google.com", {"domain": "www.google.com", "registered_domain": "google.com", "top_level_domain": "com", "subdomain": "www"}),
        ("example.com", {"domain": "example.com", "registered_domain": "example.com", "top_level_domain": "com"}),
        ("com", {"domain": "com", "top_level_domain": "com"}),
        ("www.books.amazon.co.uk", {"domain": "www.books.amazon.co.uk", "registered_domain": "amazon.co.uk", "top_level_domain": "co.uk", "subdomain": "www.books"}),
    ],
)
def test_registered_domain_rest_suite(name: str, expected: dict[str, str]) -> None:
    """390_registered_domain_processor.yml: valid FQDN, domain only, TLD only, complex FQDN."""
    assert domain(name)["parsed_domain"] == expected


@pytest.mark.parametrize("name", ["foo.bar.baz", "123"])
def test_registered_domain_without_a_known_suffix_writes_nothing(name: str) -> None:
    """390_registered_domain_processor.yml "Unmatchable FQDN" / "Invalid input": no
    parsed_domain, and no error while ignore_missing is on (its default)."""
    assert "parsed_domain" not in domain(name)
    got = answer({"registered_domain": {"field": "d", "ignore_missing": False}}, {"d": name})
    assert got["error"]["reason"] == "unable to set domain information for document"


def test_registered_domain_missing_field() -> None:
    """390_registered_domain_processor.yml, ignore_missing true and false."""
    assert source({"registered_domain": {"field": "domain_input", "ignore_missing": True}}, {"some_other_field": "value"}) == {"some_other_field": "value"}
    got = answer({"registered_domain": {"field": "domain_input", "target_field": "parsed_domain", "ignore_missing": False}}, {"some_other_field": "value"})
    assert got["error"]["type"] == "illegal_argument_exception"
    assert got["error"]["reason"] == "field [domain_input] not present as part of path [domain_input]"


def test_registered_domain_at_the_root_by_default() -> None:
    """RegisteredDomainProcessor.Factory: target_field defaults to "" (the document's root)."""
    got = source({"registered_domain": {"field": "d"}}, {"d": "a.example.org"})
    assert got == {"d": "a.example.org", "domain": "a.example.org", "registered_domain": "example.org", "top_level_domain": "org", "subdomain": "a"}


def test_registered_domain_keeps_the_case_it_was_given() -> None:
    """RegisteredDomainProcessor.DomainInfo.of: the root is lowercased by the matcher, the
    domain is as given, and the case-sensitive search for the root finds no subdomain."""
    assert domain("WWW.Example.COM")["parsed_domain"] == {"domain": "WWW.Example.COM", "registered_domain": "example.com", "top_level_domain": "com"}


PSL = """// ===BEGIN ICANN DOMAINS===
com
uk
co.uk
jp
*.kawasaki.jp
!city.kawasaki.jp
公司.cn
cn
// ===END ICANN DOMAINS===
// ===BEGIN PRIVATE DOMAINS===
github.io
// ===END PRIVATE DOMAINS===
not.in.a.section
"""


@pytest.mark.parametrize(
    ("name", "root", "is_suffix"),
    [
        ("www.google.com", "google.com", False),
        ("com", None, True),
        ("a.b.co.uk", "b.co.uk", False),
        ("x.y.kawasaki.jp", "x.y.kawasaki.jp", False),  # wildcard: y.kawasaki.jp is a suffix
        ("y.kawasaki.jp", None, True),
        ("www.city.kawasaki.jp", "city.kawasaki.jp", False),  # exception rule
        ("foo.bar.github.io", "github.io", False),  # a PRIVATE rule is its own root in HttpClient 4.5.14
        ("foo.bar", "bar", False),  # no rule at all: the last label
        ("a.section.in.not", "not", False),  # rules outside a section are not read
        ("www.xn--85x722f.xn--55qx5d.cn", "xn--85x722f.xn--55qx5d.cn", False),  # IDN.toUnicode before lookup
        ("WWW.GOOGLE.COM", "google.com", False),
        (".com", None, True),
    ],
)
def test_public_suffix_matcher(name: str, root: str | None, is_suffix: bool) -> None:
    """PublicSuffixMatcher.getDomainRoot / matches of Apache HttpClient 4.5.14 (its bytecode,
    and 20,000 names run through it against this code on the same list)."""
    rules = SuffixList(PSL)
    assert rules.domain_root(name) == root
    assert rules.matches(name) is is_suffix


def test_idn_to_unicode() -> None:
    """java.net.IDN.toUnicode: ACE labels decoded, others kept, ideographic full stops read as dots."""
    assert to_unicode("www.xn--85x722f.xn--55qx5d.cn") == "www.食狮.公司.cn"
    assert to_unicode("a\u3002b") == "a.b"
    assert to_unicode("xn--a.com") == "xn--a.com"  # not valid punycode: kept (JDK 25)
    assert to_unicode("XN--85X722F.com") == "食狮.com"


# === user_agent ==========================================================================


def agent(text: Any, **options: Any) -> dict[str, Any]:
    return source({"user_agent": {"field": "field1", **options}}, {"field1": text})


def test_user_agent_rest_suite_defaults() -> None:
    """20_useragent_processor.yml "Test user agent processor with defaults"."""
    got = agent(CHROME_MAC)["user_agent"]
    assert got["name"] == "Chrome"
    assert got["original"] == CHROME_MAC
    assert got["os"] == {"name": "Mac OS X", "version": "10.9.2", "full": "Mac OS X 10.9.2"}
    assert got["version"] == "33.0.1750.149"
    assert got["device"] == {"name": "Mac"}


def test_user_agent_rest_suite_parameters() -> None:
    """20_useragent_processor.yml "Test user agent processor with parameters"."""
    got = agent(CHROME_MAC, target_field="field2", properties=["os"])
    assert "user_agent" not in got
    assert got["field2"] == {"os": {"name": "Mac OS X", "version": "10.9.2", "full": "Mac OS X 10.9.2"}}


@pytest.mark.parametrize(
    ("text", "name", "version", "os", "device", "kind"),
    [
        (CHROME_MAC, "Chrome", "33.0.1750.149", {"name": "Mac OS X", "version": "10.9.2", "full": "Mac OS X 10.9.2"}, "Mac", "Desktop"),
        (
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/87.0.4280.141 Safari/537.36",
            "Chrome", "87.0.4280.141", {"name": "Windows", "version": "10", "full": "Windows 10"}, "Other", "Desktop",
        ),
        ("Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0", "Firefox", "128.0", {"name": "Windows", "version": "10", "full": "Windows 10"}, "Other", "Desktop"),
        (
            "Mozilla/5.0 (Linux; U; Android 3.0; en-us; Xoom Build/HRI39) AppleWebKit/525.10+ (KHTML, like Gecko) Version/3.0.4 Mobile Safari/523.12.2",
            "Android", "3.0", {"name": "Android", "version": "3.0", "full": "Android 3.0"}, "Motorola Xoom", "Phone",
        ),
        (
            "Mozilla/5.0 (iPad; CPU OS 12_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/12.1 Mobile/15E148 Safari/604.1",
            "Mobile Safari", "12.1", {"name": "iOS", "version": "12.2", "full": "iOS 12.2"}, "iPad", "Tablet",
        ),
        ("Mozilla/5.0 (compatible; EasouSpider; +http://www.easou.com/search/spider.html)", "EasouSpider", None, None, "Spider", "Robot"),
        ("Something I made up v42.0.1", "Other", None, None, "Other", "Other"),
        ("Wget/1.21 (Ubuntu)", "Wget", "1.21", {"name": "Ubuntu"}, "Other", "Desktop"),
        ("Mozilla/5.0 (Windows NT 6.1; WOW64; rv:63.0.247) Gecko/20100101 Firefox/63.0.247 Site24x7", "Firefox", "63.0.247", {"name": "Windows", "version": "7", "full": "Windows 7"}, "Other", "Robot"),
    ],
)  # fmt: skip
def test_user_agent_parser_cases(text: str, name: str, version: str | None, os: dict[str, str] | None, device: str, kind: str) -> None:
    """UserAgentParserImplTests (testChromeMacOs, testChromeWindows, testFirefox,
    testAndroidMobile, testIPadTablet, testSpider, testUnknownAgent, testOsMatchedWithoutVersion)
    and DeviceTypeParserTests.testRobotAgentString, through the processor's output."""
    got = agent(text, extract_device_type=True)["user_agent"]
    assert got["name"] == name
    assert got.get("version") == version
    assert got.get("os") == os
    assert got["device"] == {"name": device, "type": kind}


def test_device_type_only_when_asked_and_cached_apart() -> None:
    """UserAgentParserImplTests.testExtractDeviceTypeDisabled and testCacheIncludingDeviceTypes:
    no device.type without extract_device_type, and a cached answer for one setting is not
    the other's."""
    xoom = "Mozilla/5.0 (Linux; U; Android 3.0; en-us; Xoom Build/HRI39) AppleWebKit/525.10+ (KHTML, like Gecko) Version/3.0.5 Mobile Safari/523.12.2"
    assert agent(xoom)["user_agent"]["device"] == {"name": "Motorola Xoom"}
    assert agent(xoom, extract_device_type=True)["user_agent"]["device"] == {"name": "Motorola Xoom", "type": "Phone"}
    assert default_parser().parse(xoom, False).device_type is None


def test_version_string() -> None:
    """UserAgentParserImplTests.testVersionToString*: cut at the first missing part."""
    assert version_string("10", None, None, None) == "10"
    assert version_string("10", "9", "2", None) == "10.9.2"
    assert version_string("33", "0", "1750", "149") == "33.0.1750.149"
    assert version_string(None, "1", "2", "3") is None
    assert version_string("", "1", "2", "3") is None
    assert version_string("10", None, "2", None) == "10"
    assert version_string("10", "9", None, "5") == "10.9"


def test_user_agent_options() -> None:
    """UserAgentProcessor.Factory and UserAgentProcessorFactoryTests: an unknown property and an
    unknown regex file are refused with Elasticsearch's messages; `ecs` is gone in 9.x."""
    error = build_error({"user_agent": {"field": "f", "properties": ["os", "invalid"]}})
    assert error["reason"] == "[properties] illegal property value [invalid]. valid values are [NAME, OS, DEVICE, ORIGINAL, VERSION]"
    assert error["property_name"] == "properties"
    error = build_error({"user_agent": {"field": "f", "regex_file": "does-not-exist.yml"}})
    assert error["reason"] == "[regex_file] regex file [does-not-exist.yml] doesn't exist (has to exist at node startup)"
    error = build_error({"user_agent": {"field": "f", "ecs": True}})
    assert error["reason"] == "processor [user_agent] doesn't support one or more provided configuration parameters [ecs]"


def test_user_agent_missing_null_and_wrong_type() -> None:
    """UserAgentProcessor.execute: ignore_missing, and "field [x] is null, cannot parse user-agent."."""
    assert source({"user_agent": {"field": "f", "ignore_missing": True}}, {"g": 1}) == {"g": 1}
    assert answer({"user_agent": {"field": "f"}}, {"f": None})["error"]["reason"] == "field [f] is null, cannot parse user-agent."
    assert answer({"user_agent": {"field": "f"}}, {"g": 1})["error"]["reason"] == "field [f] not present as part of path [f]"
    assert answer({"user_agent": {"field": "f"}}, {"f": 1})["error"]["reason"] == "field [f] of type [java.lang.Integer] cannot be cast to [java.lang.String]"


def write_regexes(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(exist_ok=True)
    (folder / name).write_text(text)
    return folder


def test_regex_file_from_a_user_agent_folder(tmp_path: Path) -> None:
    """420_useragent_custom_regex_legacy.yml: a regex_file named by its file name in the
    folder (Elasticsearch: config/user-agent or config/ingest-user-agent; here --user-agent-dir)."""
    folder = write_regexes(tmp_path / "ua", "test-regexes-legacy.yml", "user_agent_parsers:\n  - regex: '.*'\n    family_replacement: 'Test'\n")
    got = source({"user_agent": {"field": "field1", "regex_file": "test-regexes-legacy.yml"}}, {"field1": CHROME_MAC}, user_agent_dirs=[folder])
    assert got["user_agent"]["name"] == "Test"
    assert "os" not in got["user_agent"]
    assert "version" not in got["user_agent"]


def test_version_replacements_are_taken_literally(tmp_path: Path) -> None:
    """UserAgentParserImpl.UserAgentSubpattern.match: only the name replacement expands $1 (the
    first one); version replacements are written as they are."""
    folder = write_regexes(
        tmp_path / "ua",
        "literal.yml",
        "os_parsers:\n  - regex: 'Win(?:dows)? ?(95|98)'\n    os_replacement: 'Windows $1 $1'\n    os_v1_replacement: '$1'\n",
    )
    got = source({"user_agent": {"field": "f", "regex_file": "literal.yml"}}, {"f": "Mozilla/4.0 (compatible; MSIE 5.5; Windows 98)"}, user_agent_dirs=[folder])
    assert got["user_agent"]["os"] == {"name": "Windows 98 $1", "version": "$1", "full": "Windows 98 $1 $1"}


def test_a_broken_regex_file_is_a_build_error(tmp_path: Path) -> None:
    """UserAgentParserImpl.init: a file with none of the three lists is not a regex file
    (Elasticsearch refuses it at node start; here, the pipeline naming it)."""
    folder = write_regexes(tmp_path / "ua", "empty.yml", "something_else: []\n")
    error = build_error({"user_agent": {"field": "f", "regex_file": "empty.yml"}}, user_agent_dirs=[folder])
    assert error["property_name"] == "regex_file"
    assert "not a valid regular expression file" in error["reason"]


def test_the_cli_reads_regex_files_from_user_agent_dir(tmp_path: Path) -> None:
    """`wgsiem pipelines simulate --user-agent-dir` (420_useragent_custom_regex_legacy.yml's setup)."""
    folder = write_regexes(tmp_path / "ua", "test-regexes-legacy.yml", "user_agent_parsers:\n  - regex: '.*'\n    family_replacement: 'Test'\n")
    (tmp_path / "pipelines").mkdir()
    request = {"pipeline": {"processors": [{"user_agent": {"field": "field1", "regex_file": "test-regexes-legacy.yml"}}]}, "docs": [{"_source": {"field1": CHROME_MAC}}]}
    args = ["pipelines", "simulate", "--pipeline-dir", str(tmp_path / "pipelines")]
    result = CliRunner().invoke(app, [*args, "--user-agent-dir", str(folder)], input=json.dumps(request))
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["docs"][0]["doc"]["_source"]["user_agent"]["name"] == "Test"
    result = CliRunner().invoke(app, args, input=json.dumps(request))
    assert result.exit_code == 1
    assert "regex file [test-regexes-legacy.yml] doesn't exist" in result.stdout


# === the data sets =======================================================================


@pytest.mark.parametrize("package", ["publicsuffixlist", "ua-parser-builtins"])
def test_data_set_packages_are_pinned_and_installed_at_the_pin(package: str) -> None:
    """The data sets are pinned exactly in pyproject.toml, and the environment has that version."""
    text = (REPO / "pyproject.toml").read_text()
    pin = re.search(rf'"{re.escape(package)}==([^"]+)"', text)
    assert pin, f"pyproject.toml: {package} is not pinned with =="
    assert metadata.version(package) == pin.group(1)
