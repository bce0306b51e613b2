"""Project and tag names in any script, normalized to NFC: model, filters, engine and CLI."""

from __future__ import annotations

import unicodedata
from datetime import timezone

import orjson
import pytest

from backlog.engine.backlog import Backlog
from backlog.errors import BacklogError
from backlog.core.filter import parse_filter
from backlog.core.model import check_project, check_tag, check_uda
from backlog.store.store import Store
from tests.conftest import NOW, error, run_backlog


def nfd(text: str) -> str:
    return unicodedata.normalize("NFD", text)


NAMES = [
    "données",  # Latin with accents
    "проект",  # Cyrillic
    "项目",  # CJK
    "مشروع٣",  # Arabic letters and an Arabic-Indic digit
    "हिन्दी",  # Devanagari: letters with combining vowel signs
    "web.ui-2_x",  # ASCII with every allowed punctuation
]


@pytest.fixture
def backlog(store_dir) -> Backlog:
    return Backlog(Store.open(store_dir), tz=timezone.utc, clock=lambda: NOW, agent="tester")




@pytest.mark.parametrize("name", NAMES)
def test_names_of_any_script_are_projects_and_tags(name):
    assert check_project(name) == name
    assert check_tag(name) == name
    assert check_tag(f"area:{name}") == f"area:{name}"


@pytest.mark.parametrize("name", NAMES)
def test_decomposed_input_is_stored_composed(name):
    assert check_project(nfd(name)) == unicodedata.normalize("NFC", name)
    assert check_tag(nfd(name)) == unicodedata.normalize("NFC", name)


@pytest.mark.parametrize("name", [
    "a\x07b",  # a control character
    "a\u200bb",  # a format character (zero-width space)
    "a b",  # a space
    "a\u00a0b",  # a no-break space
    "bug🐛",  # a symbol is not a letter or digit
    "",  # nothing
])
def test_control_format_space_and_symbol_characters_stay_refused(name):
    with pytest.raises(BacklogError):
        check_project(name)
    with pytest.raises(BacklogError):
        check_tag(name)


def test_upper_case_virtual_tag_names_stay_reserved():
    assert "reserved virtual tag" in error(check_tag, "DUE")
    assert check_tag("ÉTÉ") == "ÉTÉ"


def test_the_filter_reads_tags_in_any_script():
    assert str(parse_filter("+été -тег")) == "(and (tag + été) (tag - тег))"
    assert str(parse_filter(nfd("+été"))) == "(tag + été)"


def test_filters_tools_and_store_accept_unicode_names(backlog):
    backlog.add("Préparer la revue", project="données.équipe", tags="été,тег,标签")
    backlog.add("Other", project="web", tags="bug")

    def ids(text: str) -> list[int]:
        return [t["id"] for t in backlog.list(text, fields="id")["tasks"]]

    assert ids("project:données") == [1]
    assert ids("project:DONNÉES") == [1]  # project matching ignores case in any script
    assert ids(nfd("project:données")) == [1]
    assert ids("+été") == [1] and ids(nfd("+été")) == [1] and ids("+标签 +тег") == [1]
    assert ids("-été") == [2]
    assert [p["name"] for p in backlog.projects()["items"]] == ["données.équipe", "web"]
    backlog.modify("1", extra=nfd("-été +ünï"))
    assert backlog.info(1)["task"]["tags"] == ["тег", "标签", "ünï"]


def test_import_composes_decomposed_names(backlog):
    batch = [{"description": "a", "project": nfd("café"), "tags": [nfd("thé"), "чай"]}]
    backlog.import_tasks(orjson.dumps(batch).decode())
    task = backlog.info(1)["task"]
    assert (task["project"], task["tags"]) == ("café", ["thé", "чай"])


def test_the_cli_takes_unicode_names(clean_env, store_dir):
    env = {**clean_env, "TASKDATA": str(store_dir), "COLUMNS": "100"}
    added = run_backlog(["add", "Préparer", "la", "revue", "project:données", "+été"], env)
    assert (added.returncode, added.stdout, added.stderr) == (0, "added task 1\n", "")
    listed = run_backlog(["list", "project:données", "+été"], env)
    assert listed.returncode == 0 and listed.stdout.splitlines()[1].split()[:3] == ["1", "données", "été"]


LONE_LINE = ("{field}: holds U+{code} at character {at}, which is not a character (a byte that was not UTF-8, "
             "or half of a surrogate pair); send the text as UTF-8")


def test_text_holding_a_lone_surrogate_is_refused_in_one_line_and_nothing_is_stored(backlog):
    """A lone surrogate (JSON's "\\ud800", or a byte that was not UTF-8 kept by the OS as
    U+DC80–U+DCFF) cannot be written: each place text is stored names its parameter."""
    kept = backlog.add("Kept")["task"]["id"]
    assert error(backlog.add, "bad \ud800 text") == LONE_LINE.format(field="description", code="D800", at=5)
    assert error(check_uda, "rank", "r\udcff") == LONE_LINE.format(field="rank", code="DCFF", at=2)
    assert error(backlog.annotate, kept, "\udc80 note") == LONE_LINE.format(field="text", code="DC80", at=1)
    assert error(backlog.doc_write, kept, "# Doc \ud800") == LONE_LINE.format(field="content", code="D800", at=7)
    task = backlog.info(kept)["task"]
    assert "annotations" not in task and "doc_size" not in task
    assert len(backlog.store.tasks) == 1


def test_a_byte_that_is_not_utf8_on_the_command_line_is_one_line(tmp_path, clean_env):
    env = {**clean_env, "TASKDATA": str(tmp_path / "data")}
    result = run_backlog(["add", "caf\udce9"], env)  # `backlog add caf$'\xe9'` in a Latin-1 shell
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == "backlog: " + LONE_LINE.format(field="description", code="DCE9", at=4) + "\n"
    assert run_backlog(["count"], env).stdout.strip() == "0"
