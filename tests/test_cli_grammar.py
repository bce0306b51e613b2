"""The CLI grammar as case tables: which word is the command, the filter, the changes, an option."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, strategies as st

from backlog.cli.grammar import COMMANDS, filter_text, is_ids, modifications, parse, plain_ids
from backlog.core.model import is_short_id, is_uuid_prefix
from backlog.errors import BacklogError


@pytest.mark.parametrize("argv, command, filter, words, options", [
    ([], "next", (), (), {}),                                          # nothing at all is next
    (["12"], "info", ("12",), (), {}),                                 # ids alone are info
    (["3,5", "7-9"], "info", ("3,5", "7-9"), (), {}),
    (["12", "done"], "done", ("12",), (), {}),                         # Taskwarrior's order
    (["done", "12"], "done", ("12",), (), {}),                         # ours
    (["done", "3", "11"], "done", ("3", "11"), (), {}),
    (["3,5", "start"], "start", ("3,5",), (), {}),
    (["project:web", "+bug", "list"], "list", ("project:web", "+bug"), (), {}),
    (["list", "project:web", "+bug"], "list", ("project:web", "+bug"), (), {}),
    (["project:web", "list", "+bug"], "list", ("project:web", "+bug"), (), {}),
    (["project:web"], "next", ("project:web",), (), {}),               # a filter alone is next
    (["-h"], "next", ("-h",), (), {}),                                 # -h is a tag
    (["--help"], "help", (), (), {}),
    (["list", "--help"], "list", (), (), {"help": True}),
    (["--version"], "version", (), (), {}),
    (["add", "Buy", "list", "paper"], "add", (), ("Buy", "list", "paper"), {}),  # only the first command counts
    (["add", "x", "-bug", "-h"], "add", (), ("x", "-bug", "-h"), {}),
    (["add", "--", "--not-an-option"], "add", (), ("--not-an-option",), {}),     # -- ends options
    (["modify", "12", "priority:L", "-bug"], "modify", ("12",), ("priority:L", "-bug"), {}),
    (["modify", "project:web", "priority:L"], "modify", ("project:web",), ("priority:L",), {}),
    (["project:web", "+bug", "modify", "priority:L"], "modify", ("project:web", "+bug"), ("priority:L",), {}),
    (["annotate", "12", "called", "bob"], "annotate", ("12",), ("called", "bob"), {}),
    (["12", "annotate", "called", "bob"], "annotate", ("12",), ("called", "bob"), {}),
    (["list", "--limit", "0", "--sort=due+"], "list", (), (), {"limit": "0", "sort": "due+"}),
    (["3-7", "delete", "--yes"], "delete", ("3-7",), (), {"yes": True}),
    (["archive", "--older-than-days", "30"], "archive", (), (), {"older-than-days": "30"}),
    (["doctor", "--repair", "--json"], "doctor", (), (), {"repair": True, "json": True}),
    (["search", "login", "redirect"], "search", (), ("login", "redirect"), {}),
    (["import"], "import", (), (), {}),
])
def test_parse(argv, command, filter, words, options):
    inv = parse(argv)
    assert (inv.command, inv.filter, inv.words, inv.options) == (command, filter, words, options)


@pytest.mark.parametrize("argv, message", [
    (["list", "--bogus"], "--bogus: is not an option;"),
    (["list", "--limit"], "--limit: needs a value; e.g. --limit 20"),
    (["done", "--sort", "due"], "--sort: done does not take it; done takes --yes, --json, --help"),
    (["done"], "done: needs the tasks;"),
    (["12", "add", "x"], "add: takes no filter before it (got '12');"),
    (["undo", "now"], "undo: takes no words (got 'now');"),
    (["annotate", "+bug", "note"], "annotate: needs the tasks first;"),
    (["lsit"], "command: 'lsit' is not a command; did you mean 'list'?"),
])
def test_parse_refuses(argv, message):
    with pytest.raises(BacklogError) as caught:
        parse(argv)
    assert str(caught.value).startswith(message)


@pytest.mark.parametrize("command, words, expected", [
    ("add", ["Fix", "login", "+bug", "project:web"], ("Fix login", "+bug project:web")),
    ("add", ["Read", "https://example.com"], ("Read https://example.com", "")),   # a URL is text
    ("add", ["Meet", "at", "10:30"], ("Meet at 10:30", "")),
    ("add", ["note: call bob"], ("note: call bob", "")),                          # quoted, unknown key: text
    ("add", ["x", "due:next friday"], ("x", "due:'next friday'")),                # quoted, known key: attribute
    ("add", ["x", "foo:bar"], ("x foo:bar", "")),                                 # unknown key: text in add
    ("add", ["x", "due:friday"], ("x", "due:friday")),
    ("modify", ["priority:L", "-bug"], ("", "priority:L -bug")),
    ("modify", ["description:New text"], ("", "description:'New text'")),
    ("modify", ["status:completed"], ("", "status:completed")),                   # extra refuses it
    ("modify", ["foo:bar"], ("", "foo:bar")),
    ("modify", ["due:"], ("", "due:")),                                           # clears
    ("duplicate", ["Copy", "+x"], ("Copy", "+x")),
])
def test_modifications(command, words, expected):
    assert modifications(command, words, lambda key: key in ("due", "description", "project")) == expected


def test_a_bare_word_in_modify_is_refused_with_the_fix():
    with pytest.raises(BacklogError) as caught:
        modifications("modify", ["Renamed", "task", "+x"], lambda key: False)
    assert str(caught.value) == ("modify: 'Renamed' is not a change; to replace the description write "
                                 'description:"Renamed task"; changes are +tag, -tag, key:value')


@pytest.mark.parametrize("words, expected", [
    (["12"], ["12"]), (["3,5", "5", "7"], ["3", "5", "7"]), (["3-7"], None), (["+bug"], None),
    (["deadbeef"], ["deadbeef"]), ([], None),
])
def test_plain_ids(words, expected):
    assert plain_ids(words) == expected


@pytest.mark.parametrize("words, expected", [
    (["project:web", "+bug"], "project:web +bug"),
    (["fix login"], '"fix login"'),
    (["description.has:fix login"], 'description.has:"fix login"'),
    (['say "hi" now'], "'say \"hi\" now'"),
])
def test_filter_text_quotes_words_with_spaces(words, expected):
    assert filter_text(words) == expected


def test_every_command_is_in_the_readme():
    from tests.conftest import REPO
    section = (REPO / "README.md").read_text().split("## The CLI", 1)[1].split("\n## ", 1)[0]
    missing = [name for name in COMMANDS if name not in ("help", "serve", "hook") and name not in section]
    assert missing == []


ID_PART = r"(?:[0-9]{1,7}(?:-[0-9]{1,7})?|[0-9a-f]{8}[0-9a-f-]{0,28})"  # what ids looked like as regular expressions


@given(st.text(st.sampled_from("0123456789abcdefgA-,٣ "), max_size=40))
def test_ids_are_recognised_as_the_regular_expressions_said(word):
    assert is_ids(word) == bool(re.fullmatch(rf"{ID_PART}(?:,{ID_PART})*", word))
    assert is_short_id(word) == bool(re.fullmatch(r"[0-9]{1,7}", word))
    assert is_uuid_prefix(word) == bool(re.fullmatch(r"[0-9a-f]{8}[0-9a-f-]{0,28}", word))
