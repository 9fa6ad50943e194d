"""The html_strip and urldecode processors (wgsiem/ingest/processors/strings.py, with
wgsiem/ingest/formats/html_strip.py and wgsiem/ingest/formats/url_decode.py) against Elasticsearch.

Each test names what it follows: HtmlStripProcessorTests and URLDecodeProcessorTests (both
AbstractStringProcessorTestCase), the REST suite ingest/160_urldecode.yml, the processors'
sources, and what they call: Lucene's HTMLStripCharFilter (its TestHTMLStripCharFilter
vectors) and java.net.URLDecoder.
"""

from __future__ import annotations

import pytest

from tests.support.ingest import config_error, failure, output
from wgsiem.ingest.formats.html_strip import strip_html

# --- html_strip --------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["plain", "a & b", "x\ny", "Günter", "a < b"])
def test_html_strip_processor(text):
    # pins: HtmlStripProcessorTests (modifyInput / expectedResult: <p> is a newline, <b> goes)
    assert output({"html_strip": {"field": "f"}}, {"f": "<p><b>test</b>" + text + "<p><b>test</b>"}) == {"f": "\ntest" + text + "\ntest"}


def test_html_strip_leaves_text_without_both_brackets():
    # pins: HtmlStripProcessor.process (no '<' or no '>': the value as it is, references too)
    assert output({"html_strip": {"field": "f"}}, {"f": "a &amp; b <"}) == {"f": "a &amp; b <"}
    assert output({"html_strip": {"field": "f"}}, {"f": "a &amp; b > c"}) == {"f": "a &amp; b > c"}
    assert output({"html_strip": {"field": "f"}}, {"f": "a &amp; <b>b</b>"}) == {"f": "a & b"}


def test_html_strip_string_processor_contract():
    # pins: AbstractStringProcessorTestCase (testFieldNotFound, testNullValue, testNonStringValue,
    # testTargetField, lists) and HtmlStripProcessorFactoryTests (testCreateMissingField)
    assert failure({"html_strip": {"field": "f"}}, {}) == ("illegal_argument_exception", "field [f] not present as part of path [f]")
    assert failure({"html_strip": {"field": "f"}}, {"f": None}) == ("illegal_argument_exception", "field [f] is null, cannot process it.")
    assert failure({"html_strip": {"field": "f"}}, {"f": 1}) == (
        "illegal_argument_exception",
        "field [f] of type [java.lang.Integer] cannot be cast to [java.lang.String]",
    )
    assert output({"html_strip": {"field": "f", "ignore_missing": True}}, {}) == {}
    assert output({"html_strip": {"field": "f", "target_field": "t"}}, {"f": ["<i>a</i>", "<div>b</div>"]}) == {
        "f": ["<i>a</i>", "<div>b</div>"],
        "t": ["a", "\nb\n"],
    }
    assert config_error({"html_strip": {}})["reason"] == "[field] required property is missing"


@pytest.mark.parametrize(
    ("html", "text"),
    [
        # TestHTMLStripCharFilter.test
        (
            '<div class="foo">this is some text</div> here is a <a href="#bar">link</a> and another <a href="http://lucene.apache.org/">link</a>. '
            "This is an entity: &amp; plus a &lt;.  Here is an &. <!-- is a comment -->",
            "\nthis is some text\n here is a link and another link. This is an entity: & plus a <.  Here is an &. ",
        ),
        # testEntities, testMoreEntities, testUppercaseCharacterEntityVariants
        ("&nbsp; &lt;foo&gt; &Uuml;bermensch &#61; &Gamma; bar &#x393;", "\u00a0 <foo> \u00dcbermensch = \u0393 bar \u0393"),
        ("&nbsp; &lt;junk/&gt; &nbsp; &#33; &#64; and &#8217;", "\u00a0 <junk/> \u00a0 ! @ and \u2019"),
        (" &QUOT;-&COPY;&GT;>&LT;<&REG;&AMP;", ' "-\u00a9>><<\u00ae&'),
        # testMalformedHTML (a selection)
        ("a <a hr<ef=aa<a>> </close</a>", "a <a hr<ef=aa> </close"),
        ('<a href="#postcomment" title=""Leave a comment";">?', "?"),
        ("The <a href=<a href=\"http://www.advancedmd.com>medical\">http://www.advancedmd.com>medical</a> practice software</a>", "The <a href=http://www.advancedmd.com>medical practice software"),
        ('<li><a href="#28" title="Hubert "Geese" Ausby">Hubert "Geese" Ausby</a></li>', '\nHubert "Geese" Ausby\n'),
        ('<a href="', '<a href="'),
        ("<ahref=http:..", "<ahref=http:.."),
        ("<ahref=http:..>", "\n"),
        ('<input type="text" value="<search here>">', ""),
        ('<a class="at" name="Lamborghini  href="http://lamborghini.coolbegin.com">Lamborghini /a>', "Lamborghini /a>"),
        ("<![if ! IE]>\n<link href=\"http://i.deviantart.com/icons/favicon.png\" rel=\"shortcut icon\"/>\n<![endif]>", "\n\n\n"),
        # testComment
        ("<!--- three dashes, still a valid comment ---> ", " "),
        ("<! -- blah > ", " "),
        # testServerSideIncludes, testScriptQuotes, testStyle
        (
            'one<img src="image.png"\n alt =  "Alt: <!--#echo var=\'${IMAGE_CAPTION:<!--comment-->\\\'Comment\\\'}\'  -->"\n\n'
            ' title="Title: <!--#echo var="IMAGE_CAPTION"-->">two',
            "onetwo",
        ),
        ('one<script><!-- <!--#config comment="<!-- \\"comment\\"-->"--> --></script>two', "one\ntwo"),
        ("hello<script><!-- f('<!--internal--></script>'); --></script>", "hello\n"),
        ("one<style type=\"text/css\">\n<!--\n@import url('http://www.lasletrasdecanciones.com/css.css');\n-->\n</style>two", "one\ntwo"),
        # testBR, testInlineTagsNoSpace
        ("one<BR />two<br>three", "one\ntwo\nthree"),
        ("one<BR some stuff here too>two</BR>", "one\ntwo\n"),
        ('one<sPAn class="invisible">two<sup>2<sup>e</sup></sup>.</SpaN>three', "onetwo2e.three"),
        # testCDATA, testUnclosedAngleBang
        ("one<![CDATA[two<![CDATA[three]]]]><![CDATA[>four]]>five", "onetwo<![CDATA[three]]>fourfive"),
        ("<! [CDATA[&]]", "<! [CDATA[&]]"),
        ("<![CDATA[<br>]]", "<br>]]"),
        ("<![endif]", "<![endif]"),
        # testMSWordMalformedProcessingInstruction, testSupplementaryCharsInTags
        ('one<?xml:namespace prefix = o ns = "urn:schemas-microsoft-com:office:office" />two', "onetwo"),
        ("one<𩬅艱鍟䇹愯瀛>two<瀛愯𩬅>three 瀛愯𩬅</瀛愯𩬅>four</𩬅艱鍟䇹愯瀛>five<𠀀𠀀>six<𠀀𠀀/>seven", "one\ntwo\nthree 瀛愯𩬅\nfour\nfive\nsix\nseven"),
        # testUTF16Surrogates (pairs written as two references; a lone half is U+FFFD)
        (" one two &#xD86C;&#XdC01;three", " one two \U0002b001three"),
        (" &#55404;&#57999;", " \ufffd\ue28f"),
        (" &#Xd921", " \ufffd"),
        (" &#Xd921<br>", " &#Xd921\n"),
    ],
)
def test_lucene_html_strip_char_filter(html, text):
    # pins: Lucene's TestHTMLStripCharFilter (the test named above each group)
    assert strip_html(html) == text


def test_lucene_issue_10520_quoted_brackets():
    # pins: TestHTMLStripCharFilter.testForIssue10520
    html = '<!DOCTYPE html><html lang="en"><head><title>Test</title></head><body><p class="foo>bar" id="baz">Some text.</p></body></html>'
    assert strip_html(html).strip() == "Test\n\n\n\nSome text."


# --- urldecode ---------------------------------------------------------------------------------


def test_rest_urldecode():
    # pins: 160_urldecode.yml
    assert output({"urldecode": {"field": "my_url"}}, {"my_url": "https%3a%2f%2felastic.co%2f"}) == {"my_url": "https://elastic.co/"}


def test_urldecode_processor():
    # pins: URLDecodeProcessorTests (modifyInput "Hello%20G%C3%BCnter" + input -> "Hello Günter" + decoded input)
    assert output({"urldecode": {"field": "f", "target_field": "t"}}, {"f": "Hello%20G%C3%BCnter+and%2Bmore"}) == {
        "f": "Hello%20G%C3%BCnter+and%2Bmore",
        "t": "Hello Günter and+more",
    }
    assert output({"urldecode": {"field": "f"}}, {"f": ["a%20b", "c+d"]}) == {"f": ["a b", "c d"]}


@pytest.mark.parametrize(
    ("text", "decoded"),
    [
        ("%F0%9F%98%80", "\U0001f600"),  # a run of escapes is decoded as one UTF-8 sequence
        ("%E2%82", "\ufffd"),  # malformed UTF-8 gives the replacement character
        ("%+4", "\x04"),  # Integer.parseInt(s, begin, end, 16) takes a sign
        ("%-0", "\x00"),
        ("%\u0663\u0664", "4"),  # ...and Unicode digits (Character.digit)
        ("no escapes", "no escapes"),
    ],
)
def test_url_decoder_rules(text, decoded):
    # pins: java.net.URLDecoder.decode(String, Charset) with Integer.parseInt(CharSequence, int, int, int)
    assert output({"urldecode": {"field": "f"}}, {"f": text}) == {"f": decoded}


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("%", "URLDecoder: Incomplete trailing escape (%) pattern"),
        ("abc%2", "URLDecoder: Incomplete trailing escape (%) pattern"),
        ("%41%4", "URLDecoder: Incomplete trailing escape (%) pattern"),
        ("abc%zz", 'URLDecoder: Illegal hex characters in escape (%) pattern - Error at index 0 in: "zz"'),
        ("%4g", 'URLDecoder: Illegal hex characters in escape (%) pattern - Error at index 1 in: "4g"'),
        ("%-1", "URLDecoder: Illegal hex characters in escape (%) pattern - negative value"),
        ("%\U0001f600x", 'URLDecoder: Illegal hex characters in escape (%) pattern - Error at index 0 in: "\U0001f600"'),  # two UTF-16 units
    ],
)
def test_malformed_escapes(text, reason):
    # pins: URLDecoder.decode's IllegalArgumentExceptions (URLDecodeProcessor lets them through)
    assert failure({"urldecode": {"field": "f"}}, {"f": text}) == ("illegal_argument_exception", reason)


def test_urldecode_string_processor_contract():
    # pins: AbstractStringProcessorTestCase via URLDecodeProcessorTests
    assert failure({"urldecode": {"field": "f"}}, {"f": None}) == ("illegal_argument_exception", "field [f] is null, cannot process it.")
    assert failure({"urldecode": {"field": "f"}}, {"f": [1]}) == (
        "illegal_argument_exception",
        "value [1] of type [java.lang.Integer] in list field [f] cannot be cast to [java.lang.String]",
    )
    assert output({"urldecode": {"field": "f", "ignore_missing": True}}, {"g": 1}) == {"g": 1}
    assert config_error({"urldecode": {}})["reason"] == "[field] required property is missing"
