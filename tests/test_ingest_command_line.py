"""The command_line_args processor against Elasticsearch's stated behaviour.

Each test names what it pins and where Elasticsearch states it, all in
modules/ingest-common of elastic/elasticsearch: the splitting rules of each shell from
CommandLineParserTests (and, for cases it leaves out, CommandLineParser.java itself), the
processor's runtime behaviour from CommandLineParserProcessorTests, its options and
configuration errors from CommandLineParserProcessorFactoryTests. The REST suite
(400_command_line_args.yml) runs in tests/test_ingest_rest.py.
"""

from __future__ import annotations

from typing import Any

import pytest

from wgsiem.ingest.pipeline import PipelineSet
from wgsiem.ingest.processors.command_line import (
    SHELLS,
    UnknownShellError,
    shell_splitter,
    split_bash,
    split_cmd,
    split_command_line,
    split_powershell,
)
from wgsiem.ingest.simulate import simulate


def run(options: dict[str, Any], source: dict[str, Any]) -> dict[str, Any]:
    body = {"pipeline": {"processors": [{"command_line_args": options}]}, "docs": [{"_source": source}]}
    status, response = simulate(body, PipelineSet())
    assert status == 200, response
    (result,) = response["docs"]
    doc: dict[str, Any] = result
    return doc


def refused(options: dict[str, Any]) -> dict[str, Any]:
    body = {"pipeline": {"processors": [{"command_line_args": options}]}, "docs": [{"_source": {}}]}
    status, response = simulate(body, PipelineSet())
    assert status == 400, response
    assert response["status"] == 400
    error: dict[str, Any] = response["error"]
    return error


# --- ShellType.fromString (CommandLineParserTests) ----------------------------------------


@pytest.mark.parametrize(
    ("name", "splitter"),
    [
        ("bash", split_bash),
        ("sh", split_bash),
        ("BASH", split_bash),
        ("Sh", split_bash),
        ("cmd", split_cmd),
        ("CMD", split_cmd),
        ("powershell", split_powershell),
        ("PowerShell", split_powershell),
    ],
)
def test_shell_names_ignore_case_and_sh_is_bash(name: str, splitter: Any) -> None:
    # pins: CommandLineParserTests.testShellTypeFromString
    assert shell_splitter(name) is splitter


def test_unknown_shell_message() -> None:
    # pins: CommandLineParserTests.testShellTypeFromStringInvalid
    with pytest.raises(UnknownShellError) as caught:
        shell_splitter("zsh")
    assert str(caught.value) == "unsupported shell type [zsh]; supported types are [bash], [cmd], and [powershell]"


# --- every shell (CommandLineParserTests) -------------------------------------------------


@pytest.mark.parametrize("shell", sorted(SHELLS))
def test_empty_line_has_no_arguments(shell: str) -> None:
    # pins: CommandLineParserTests.testEmptyString
    assert split_command_line("", shell) == []


@pytest.mark.parametrize("shell", sorted(SHELLS))
def test_blank_line_has_no_arguments(shell: str) -> None:
    # pins: CommandLineParserTests.testWhitespaceOnly
    assert split_command_line("   \t  ", shell) == []


@pytest.mark.parametrize("shell", sorted(SHELLS))
def test_only_space_and_tab_separate(shell: str) -> None:
    # pins: CommandLineParser.java (every shell splits on ' ' and '\t' alone): a newline,
    # carriage return or other whitespace stays inside the argument
    assert split_command_line("a\nb c\rd\u00a0e", shell) == ["a\nb", "c\rd\u00a0e"]


# --- bash (CommandLineParserTests) --------------------------------------------------------

BASH_CASES = [
    ("testBashSimpleArgs", "ls -la /tmp", ["ls", "-la", "/tmp"]),
    ("testBashMultipleWhitespace", "  ls   -la   /tmp  ", ["ls", "-la", "/tmp"]),
    ("testBashTabSeparated", "ls\t-la\t/tmp", ["ls", "-la", "/tmp"]),
    ("testBashSingleQuotes", "echo 'hello world'", ["echo", "hello world"]),
    ("testBashSingleQuotesPreserveBackslash", r"echo 'hello\nworld'", ["echo", r"hello\nworld"]),
    ("testBashSingleQuotesPreserveDoubleQuotes", "echo 'he said \"hi\"'", ["echo", 'he said "hi"']),
    ("testBashDoubleQuotes", 'echo "hello world"', ["echo", "hello world"]),
    ("testBashDoubleQuotesEscapedQuote", r'echo "he said \"hi\""', ["echo", 'he said "hi"']),
    ("testBashDoubleQuotesEscapedBackslash", r'echo "path\\dir"', ["echo", "path\\dir"]),
    ("testBashDoubleQuotesEscapedDollar", r'echo "\$HOME"', ["echo", "$HOME"]),
    ("testBashDoubleQuotesEscapedBacktick", r'echo "\`date\`"', ["echo", "`date`"]),
    ("testBashDoubleQuotesEscapedExclamation", r'echo "\!important"', ["echo", "!important"]),
    ("testBashDoubleQuotesNonSpecialBackslash", r'echo "hello\nworld"', ["echo", r"hello\nworld"]),
    ("testBashUnquotedBackslashEscape", r"echo hello\ world", ["echo", "hello world"]),
    ("testBashUnquotedBackslashEscapeQuote", r"echo \"quoted\"", ["echo", '"quoted"']),
    ("testBashMixedQuoting", "echo 'hello '\"world\"", ["echo", "hello world"]),
    ("testBashEmptyStringArg", "echo '' \"\"", ["echo", "", ""]),
    ("testBashSingleArg", "ls", ["ls"]),
    (
        "testBashComplexCommandLine",
        r"""find /var/log -name '*.log' -exec grep -l "error" {} \;""",
        ["find", "/var/log", "-name", "*.log", "-exec", "grep", "-l", "error", "{}", ";"],
    ),
    ("testBashPathWithSpaces", 'cat "/path/to/my file.txt"', ["cat", "/path/to/my file.txt"]),
    ("testBashUnclosedSingleQuote", "echo 'hello", ["echo", "hello"]),
    ("testBashUnclosedDoubleQuote", 'echo "hello', ["echo", "hello"]),
    ("testBashTrailingBackslash", "echo test\\", ["echo", "test"]),
    (
        "testBashSysmonCommandLine",
        "/usr/bin/python3 /opt/agent/monitor.py --config '/etc/agent/config.yml' --log-level debug",
        ["/usr/bin/python3", "/opt/agent/monitor.py", "--config", "/etc/agent/config.yml", "--log-level", "debug"],
    ),
]


@pytest.mark.parametrize(("es_test", "line", "args"), BASH_CASES, ids=[case[0] for case in BASH_CASES])
def test_bash(es_test: str, line: str, args: list[str]) -> None:
    # pins: CommandLineParserTests.<es_test>
    assert split_bash(line) == args


def test_bash_lone_trailing_backslash_opens_no_argument() -> None:
    # pins: CommandLineParser.parseBash (a backslash with nothing after it is dropped without
    # starting an argument, unlike '' which makes an empty one)
    assert split_bash("\\") == []
    assert split_bash("echo \\") == ["echo"]
    assert split_bash("echo ''") == ["echo", ""]


def test_bash_backslash_inside_double_quotes_before_the_end() -> None:
    # pins: CommandLineParser.parseBash: \" inside double quotes is a quote, so a line ending
    # in it leaves the quotes unclosed; a backslash as the last character is kept
    assert split_bash(r'"abc\"') == ['abc"']
    assert split_bash('"ab\\') == ["ab\\"]
    assert split_bash(r'"a\b" c') == [r"a\b", "c"]


def test_bash_backslash_escapes_a_tab_and_a_quote_character() -> None:
    # pins: CommandLineParser.parseBash (an unquoted backslash escapes any character)
    assert split_bash("a\\\tb \\'c") == ["a\tb", "'c"]


# --- cmd, CommandLineToArgvW (CommandLineParserTests) -------------------------------------

CMD_CASES = [
    ("testCmdSimpleArgs", "program.exe arg1 arg2", ["program.exe", "arg1", "arg2"]),
    ("testCmdDoubleQuotedSpaces", '"a b c" d e', ["a b c", "d", "e"]),
    ("testCmdEscapedQuote", r'ab\"c d', ['ab"c', "d"]),
    ("testCmdQuotedEscapedQuote", r'"ab\"c" d', ['ab"c', "d"]),
    ("testCmdDoubleBackslashBeforeQuote", r'"a b\\" c', ["a b\\", "c"]),
    ("testCmdTripleBackslashBeforeQuote", r'"a b\\\"c" d', ['a b\\"c', "d"]),
    ("testCmdBackslashNotBeforeQuote", r"a\\\b d", [r"a\\\b", "d"]),
    ("testCmdQuotedBackslashNotBeforeQuote", r'"a\\\b" d', [r"a\\\b", "d"]),
    ("testCmdDoubleDoubleQuote", '"a b""c d" e', ['a b"c d', "e"]),
    ("testCmdEmptyQuotedArg", '"" arg2', ["", "arg2"]),
    ("testCmdMicrosoftExample1", '"a b c" d e', ["a b c", "d", "e"]),
    ("testCmdMicrosoftExample2", r'"ab\"c" "\\" d', ['ab"c', "\\", "d"]),
    ("testCmdMicrosoftExample3", r'a\\\b d"e f"g h', [r"a\\\b", "de fg", "h"]),
    ("testCmdMicrosoftExample4", r'a\\\"b c d', ['a\\"b', "c", "d"]),
    ("testCmdMicrosoftExample5", r'a\\\\"b c" d e', ["a\\\\b c", "d", "e"]),
    (
        "testCmdWindowsPath",
        r'"C:\Program Files\app.exe" --config "C:\my config\file.ini"',
        [r"C:\Program Files\app.exe", "--config", r"C:\my config\file.ini"],
    ),
    ("testCmdTrailingBackslash", r'"C:\TEST A\\" b', ["C:\\TEST A\\", "b"]),
    ("testCmdMultipleWhitespace", "  a   b   c  ", ["a", "b", "c"]),
    (
        "testCmdWindowsServiceCommandLine",
        r'"C:\Program Files\Defender\MsMpEng.exe" /runservice /scheduledscan /scantype=2',
        [r"C:\Program Files\Defender\MsMpEng.exe", "/runservice", "/scheduledscan", "/scantype=2"],
    ),
    ("testCmdNetCommand", 'net user "John Doe" P@ssw0rd /add /domain', ["net", "user", "John Doe", "P@ssw0rd", "/add", "/domain"]),
]


@pytest.mark.parametrize(("es_test", "line", "args"), CMD_CASES, ids=[case[0] for case in CMD_CASES])
def test_cmd(es_test: str, line: str, args: list[str]) -> None:
    # pins: CommandLineParserTests.<es_test>
    assert split_cmd(line) == args


def test_cmd_even_backslashes_before_a_quote_outside_quotes_open_quoting() -> None:
    # pins: CommandLineParser.parseCmd (2n backslashes then '"': n backslashes, and the quote
    # toggles quoting wherever it is)
    assert split_cmd(r'\\"a b" c') == ["\\a b", "c"]


def test_cmd_doubled_quote_outside_quotes_opens_and_closes() -> None:
    # pins: CommandLineParser.parseCmd ("" is a literal quote only inside quotes; outside it
    # opens quoting and the second quote closes it)
    assert split_cmd('a""b c') == ["ab", "c"]
    assert split_cmd('"a""" b') == ['a"', "b"]


def test_cmd_trailing_backslashes_stay() -> None:
    # pins: CommandLineParser.parseCmd (backslashes not before a quote are literal, at the end too)
    assert split_cmd("a\\\\ b\\") == ["a\\\\", "b\\"]


def test_cmd_unclosed_quote_runs_to_the_end() -> None:
    # pins: CommandLineParser.parseCmd (quoting still open at the end ends the argument)
    assert split_cmd('a "b c') == ["a", "b c"]


# --- PowerShell (CommandLineParserTests) --------------------------------------------------

POWERSHELL_CASES = [
    ("testPowerShellSimpleArgs", "Get-Process -Name svchost", ["Get-Process", "-Name", "svchost"]),
    ("testPowerShellDoubleQuoted", 'Write-Host "hello world"', ["Write-Host", "hello world"]),
    ("testPowerShellSingleQuoted", "Write-Host 'hello world'", ["Write-Host", "hello world"]),
    ("testPowerShellBacktickEscapeInDoubleQuotes", '"hello`nworld"', ["hello\nworld"]),
    ("testPowerShellBacktickEscapeTab", '"col1`tcol2"', ["col1\tcol2"]),
    ("testPowerShellBacktickEscapeOutsideQuotes", "hello` world", ["hello world"]),
    ("testPowerShellBacktickEscapeQuote", '"he said `"hi`""', ['he said "hi"']),
    ("testPowerShellDoubleDoubleQuoteInDoubleQuotes", '"he said ""hi"""', ['he said "hi"']),
    ("testPowerShellDoubleSingleQuoteInSingleQuotes", "'it''s working'", ["it's working"]),
    ("testPowerShellSingleQuotesPreserveBacktick", "'hello`nworld'", ["hello`nworld"]),
    ("testPowerShellEmptyStringArgs", "echo '' \"\"", ["echo", "", ""]),
    ("testPowerShellBacktickEscapeZero", '"`0"', ["\0"]),
    ("testPowerShellBacktickNonSpecial", "`x", ["x"]),
    ("testPowerShellMixedQuotes", "'hello '\"world\"", ["hello world"]),
    (
        "testPowerShellComplexCommand",
        "powershell.exe -NoProfile -Command \"Get-ChildItem 'C:\\Program Files'\"",
        ["powershell.exe", "-NoProfile", "-Command", r"Get-ChildItem 'C:\Program Files'"],
    ),
    ("testPowerShellUnclosedDoubleQuote", 'echo "hello', ["echo", "hello"]),
    ("testPowerShellUnclosedSingleQuote", "echo 'hello", ["echo", "hello"]),
    (
        "testPowerShellEncodedCommandLine",
        "powershell.exe -ExecutionPolicy Bypass -NoProfile -EncodedCommand ZQBjAGgAbwAgACIAaABlAGwAbABvACIA",
        ["powershell.exe", "-ExecutionPolicy", "Bypass", "-NoProfile", "-EncodedCommand", "ZQBjAGgAbwAgACIAaABlAGwAbABvACIA"],
    ),
]


@pytest.mark.parametrize(("es_test", "line", "args"), POWERSHELL_CASES, ids=[case[0] for case in POWERSHELL_CASES])
def test_powershell(es_test: str, line: str, args: list[str]) -> None:
    # pins: CommandLineParserTests.<es_test>
    assert split_powershell(line) == args


def test_powershell_every_backtick_sequence() -> None:
    # pins: CommandLineParser.expandPowerShellEscape (n t r a b f 0 are control characters,
    # the same inside double quotes and outside any quotes)
    expected = "\n\t\r\x07\x08\x0c\x00"
    assert split_powershell('"`n`t`r`a`b`f`0"') == [expected]
    assert split_powershell("`n`t`r`a`b`f`0") == [expected]


def test_powershell_trailing_backtick_is_kept() -> None:
    # pins: CommandLineParser.parsePowerShell (a backtick with nothing after it escapes
    # nothing and stays, outside quotes and inside double quotes)
    assert split_powershell("a`") == ["a`"]
    assert split_powershell('"a`') == ["a`"]
    assert split_powershell("`") == ["`"]


def test_powershell_backtick_outside_quotes_escapes_quotes() -> None:
    # pins: CommandLineParser.parsePowerShell (outside quotes a backtick makes the next
    # character literal, a quote included)
    assert split_powershell("`'a` b`\"") == ["'a b\""]


def test_powershell_doubled_quotes_right_after_opening() -> None:
    # pins: CommandLineParser.parsePowerShell ('' and "" inside quotes are one quote, even
    # just after the opening quote)
    assert split_powershell("'''a' b") == ["'a", "b"]
    assert split_powershell('"""a" b') == ['"a', "b"]


def test_powershell_backslash_is_an_ordinary_character() -> None:
    # pins: CommandLineParser.parsePowerShell (only the backtick escapes)
    assert split_powershell(r'"C:\dir\" x') == ["C:\\dir\\", "x"]


# --- the processor (CommandLineParserProcessorTests) --------------------------------------


def test_processor_bash() -> None:
    # pins: CommandLineParserProcessorTests.testParseBash
    result = run({"field": "command_line", "target_field": "args", "shell": "bash"}, {"command_line": "ls -la '/tmp/my dir'"})
    assert result["doc"]["_source"]["args"] == ["ls", "-la", "/tmp/my dir"]


def test_processor_cmd() -> None:
    # pins: CommandLineParserProcessorTests.testParseCmd
    result = run(
        {"field": "command_line", "target_field": "args", "shell": "cmd"},
        {"command_line": r'"C:\Program Files\app.exe" --flag "hello world"'},
    )
    assert result["doc"]["_source"]["args"] == [r"C:\Program Files\app.exe", "--flag", "hello world"]


def test_processor_powershell() -> None:
    # pins: CommandLineParserProcessorTests.testParsePowerShell
    result = run(
        {"field": "command_line", "target_field": "args", "shell": "powershell"},
        {"command_line": "Write-Host 'it''s working'"},
    )
    assert result["doc"]["_source"]["args"] == ["Write-Host", "it's working"]


def test_processor_target_same_as_source() -> None:
    # pins: CommandLineParserProcessorTests.testTargetFieldSameAsSource
    result = run({"field": "command_line", "target_field": "command_line"}, {"command_line": "echo hello world"})
    assert result["doc"]["_source"] == {"command_line": ["echo", "hello", "world"]}


def test_processor_missing_field_fails() -> None:
    # pins: CommandLineParserProcessorTests.testFieldNotFound
    result = run({"field": "nonexistent", "target_field": "args"}, {"other": 1})
    assert result["error"]["type"] == "illegal_argument_exception"
    assert result["error"]["reason"] == "field [nonexistent] not present as part of path [nonexistent]"


def test_processor_null_fails() -> None:
    # pins: CommandLineParserProcessorTests.testNullValue
    result = run({"field": "command_line", "target_field": "args"}, {"command_line": None})
    assert result["error"]["type"] == "illegal_argument_exception"
    assert result["error"]["reason"] == "field [command_line] is null, cannot parse command line."


def test_processor_null_with_ignore_missing_changes_nothing() -> None:
    # pins: CommandLineParserProcessorTests.testNullValueWithIgnoreMissing
    result = run({"field": "command_line", "target_field": "args", "ignore_missing": True}, {"command_line": None})
    assert result["doc"]["_source"] == {"command_line": None}


def test_processor_missing_with_ignore_missing_changes_nothing() -> None:
    # pins: CommandLineParserProcessorTests.testNonExistentFieldWithIgnoreMissing
    result = run({"field": "nonexistent", "target_field": "args", "ignore_missing": True}, {"other": 1})
    assert result["doc"]["_source"] == {"other": 1}


def test_processor_non_string_fails() -> None:
    # pins: CommandLineParserProcessorTests.testNonStringValue
    result = run({"field": "command_line", "target_field": "args"}, {"command_line": 42})
    assert result["error"]["type"] == "illegal_argument_exception"
    assert result["error"]["reason"] == "field [command_line] of type [java.lang.Integer] cannot be cast to [java.lang.String]"


def test_processor_non_string_fails_even_with_ignore_missing() -> None:
    # pins: IngestDocument.getFieldValue(path, clazz, ignoreMissing), which the processor
    # calls: ignore_missing covers a missing field, the cast of a present one still fails
    result = run({"field": "command_line", "ignore_missing": True}, {"command_line": ["ls"]})
    assert result["error"]["reason"] == "field [command_line] of type [java.util.ArrayList] cannot be cast to [java.lang.String]"


def test_processor_empty_line_gives_empty_list() -> None:
    # pins: CommandLineParserProcessorTests.testEmptyCommandLine
    result = run({"field": "command_line", "target_field": "args"}, {"command_line": ""})
    assert result["doc"]["_source"]["args"] == []


def test_processor_all_options() -> None:
    # pins: CommandLineParserProcessorTests.testFactoryCreate and
    # CommandLineParserProcessorFactoryTests.testCreateWithAllOptions (every option read)
    options = {"field": "cmdline", "target_field": "args", "shell": "powershell", "ignore_missing": True, "tag": "t"}
    assert run(options, {"cmdline": "a`tb"})["doc"]["_source"]["args"] == ["a\tb"]
    assert run(options, {})["doc"]["_source"] == {}


# --- options and configuration errors (CommandLineParserProcessorFactoryTests) ------------


def test_defaults_bash_in_place_and_missing_fails() -> None:
    # pins: CommandLineParserProcessorFactoryTests.testCreateWithDefaults (target_field is
    # the field, shell bash, ignore_missing false)
    result = run({"field": "process.command_line"}, {"process": {"command_line": "echo 'a b'"}})
    assert result["doc"]["_source"] == {"process": {"command_line": ["echo", "a b"]}}
    assert "error" in run({"field": "process.command_line"}, {})


@pytest.mark.parametrize(("es_test", "shell"), [("testCreateWithShellCmd", "cmd"), ("testCreateWithShellSh", "sh")])
def test_shell_option(es_test: str, shell: str) -> None:
    # pins: CommandLineParserProcessorFactoryTests.<es_test> (sh is bash; cmd keeps a
    # single quote and a lone backslash literal)
    args = run({"field": "cmdline", "shell": shell}, {"cmdline": r"'a b' c\ d"})["doc"]["_source"]["cmdline"]
    assert args == (["'a", "b'", "c\\", "d"] if shell == "cmd" else ["a b", "c d"])


def test_shell_option_ignores_case() -> None:
    # pins: CommandLineParserTests.testShellTypeFromString, through the factory
    assert run({"field": "c", "shell": "PowerShell"}, {"c": "`x"})["doc"]["_source"]["c"] == ["x"]


def test_missing_field_option() -> None:
    # pins: CommandLineParserProcessorFactoryTests.testCreateMissingField
    error = refused({})
    assert error["type"] == "parse_exception"
    assert error["reason"] == "[field] required property is missing"
    assert error["property_name"] == "field"
    assert error["processor_type"] == "command_line_args"


def test_unknown_shell_is_a_parse_exception_on_shell() -> None:
    # pins: CommandLineParserProcessorFactoryTests.testCreateInvalidShell (the message of
    # ShellType.fromString, under the [shell] property, with the processor's tag)
    error = refused({"field": "cmdline", "shell": "zsh", "tag": "split"})
    assert error["type"] == "parse_exception"
    assert error["reason"] == "[shell] unsupported shell type [zsh]; supported types are [bash], [cmd], and [powershell]"
    assert error["property_name"] == "shell"
    assert error["processor_type"] == "command_line_args"
    assert error["processor_tag"] == "split"
    assert error["root_cause"][0]["reason"] == error["reason"]


def test_options_read_in_the_factory_order() -> None:
    # pins: CommandLineParserProcessor.Factory (field, target_field, ignore_missing, then
    # shell: the first bad one is reported)
    assert refused({"shell": "zsh"})["property_name"] == "field"
    assert refused({"field": "f", "ignore_missing": "yes", "shell": "zsh"})["property_name"] == "ignore_missing"


@pytest.mark.parametrize(
    ("options", "reason"),
    [
        ({"field": "f", "shell": 1}, "[shell] property isn't a string, but of type [java.lang.Integer]"),
        ({"field": "f", "target_field": ["a"]}, "[target_field] property isn't a string, but of type [java.util.ArrayList]"),
        ({"field": "f", "ignore_missing": "true"}, "[ignore_missing] property isn't a boolean, but of type [java.lang.String]"),
    ],
)
def test_option_types(options: dict[str, Any], reason: str) -> None:
    # pins: ConfigurationUtils.readStringProperty / readBooleanProperty, as the factory reads them
    assert refused(options)["reason"] == reason


def test_null_shell_is_the_default() -> None:
    # pins: ConfigurationUtils.readStringProperty (a null value takes the default, bash)
    assert run({"field": "c", "shell": None}, {"c": "'a b'"})["doc"]["_source"]["c"] == ["a b"]


def test_unknown_option_is_refused() -> None:
    # pins: ConfigurationUtils.readProcessor (options left over after the factory are refused)
    error = refused({"field": "f", "separator": " "})
    assert error["reason"] == "processor [command_line_args] doesn't support one or more provided configuration parameters [separator]"
