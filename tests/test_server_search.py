"""task_search's ranking (pure) and use case (engine on a real store)."""

from __future__ import annotations

from collections import Counter
from datetime import timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backlog.engine.backlog import Backlog
from backlog.errors import BacklogError
from backlog.engine.search import rank, snippet, words
from backlog.store.store import Store
from tests.conftest import NOW


def docs(*texts: str) -> list[Counter]:
    return [Counter(words(t)) for t in texts]


@pytest.fixture
def backlog(store_dir) -> Backlog:
    """An engine on an empty store with a frozen clock."""
    return Backlog(Store.open(store_dir), tz=timezone.utc, clock=lambda: NOW, agent="test")


def test_words_are_lower_case_runs_of_letters_and_digits():
    assert words("Fix OAuth2-login, über-fast!") == ["fix", "oauth2", "login", "über", "fast"]


def test_rank_prefers_documents_with_more_query_words():
    found = rank(["login", "cookie"], docs("login page", "login cookie path", "unrelated"))
    assert [i for i, _ in found] == [1, 0]


def test_rank_weighs_rare_words_more():
    found = rank(["common", "rare"], docs("common a", "common b", "common c", "rare d"))
    assert found[0][0] == 3


def test_rank_saturates_repeated_words_and_favours_short_documents():
    short, long = docs("cache", "cache " + "filler " * 40)
    found = dict(rank(["cache"], [short, long]))
    assert found[0] > found[1]
    repeated = dict(rank(["cache"], docs("cache cache cache cache", "cache", "other")))
    assert repeated[0] < 2 * repeated[1]


def test_rank_with_no_documents_or_no_matches_is_empty():
    assert rank(["x"], []) == [] and rank(["x"], docs("a b")) == []


@pytest.mark.parametrize("texts, expected", [
    (["Fix the login page"], "Fix the login page"),            # short text: all of it
    (["nothing here", "a login note"], "a login note"),        # first text with a hit
    (["x " * 60 + "login " + "y " * 60], "…x x x x x x x x x x x x login y y y y y y y y y y y y y y y y y y y y y y y y…"),
    (["q" * 200 + " login"], "…" + "q" * 73 + " login"),     # a hit at the end fills the window from the right
    (["multi\n\nline   login"], "multi line login"),          # whitespace collapsed
])
def test_snippet_is_at_most_80_chars_around_the_first_hit(texts, expected):
    assert snippet(texts, ["login"]) == expected
    assert len(snippet(texts, ["login"])) <= 80


@settings(deadline=None)  # no time limit per example: a busy machine is not a failure
@given(st.lists(st.sampled_from(["a", "bb", "cccc", "d" * 12, "e" * 30, "login"]), min_size=1, max_size=80))
def test_snippet_always_fits_and_shows_the_hit(parts):
    text = " ".join([*parts, "login"])
    shown = snippet([text], ["login"])
    assert len(shown) <= 80 and "login" in shown


def test_search_covers_descriptions_annotations_docs_and_every_status(backlog):
    by_title = backlog.add("Rotate the signing keys")["task"]["id"]
    noted = backlog.add("Quarterly chores")["task"]["id"]
    backlog.annotate(str(noted), "remember the signing ceremony")
    documented = backlog.add("Security review")["task"]["id"]
    backlog.doc_write(str(documented), "## Steps\nCheck every signing certificate.")
    backlog.done(str(documented))
    backlog.add("Unrelated work")
    results = backlog.search("signing")["results"]
    assert [r["id"] for r in results] == [by_title, noted, documented]
    assert results[2]["status"] == "completed"
    assert results[1]["snippet"] == "remember the signing ceremony"
    assert results[2]["snippet"] == "## Steps Check every signing certificate."
    assert all(set(r) >= {"id", "description", "status", "urgency", "score", "snippet"} for r in results)


def test_search_limit_defaults_to_ten_and_zero_means_all(backlog):
    backlog.import_tasks(str([{"description": f"match {n}"} for n in range(12)]).replace("'", '"'))
    assert len(backlog.search("match")["results"]) == 10
    assert len(backlog.search("match", limit=3)["results"]) == 3
    assert len(backlog.search("match", limit=0)["results"]) == 12


@pytest.mark.parametrize("query, line", [
    ("", "query: is empty; give words to look for, e.g. 'login redirect'"),
    ("  ", "query: is empty; give words to look for, e.g. 'login redirect'"),
    ("?!", "query: '?!' has no words; use letters or digits, e.g. 'login redirect'"),
])
def test_search_refuses_a_query_without_words(backlog, query, line):
    with pytest.raises(BacklogError) as err:
        backlog.search(query)
    assert str(err.value) == line
