"""Undo touches only your own work (issue 12): each transaction records its writer key, and
`undo` reverts the caller's newest one, refusing when another writer changed its tasks since.

Writers here are separate `Backlog`s on one data dir with their own keys, as two servers,
the hooks and the CLI are; the MCP and CLI tests at the end use the real processes.
"""

from __future__ import annotations

import itertools
import subprocess
import sys
from datetime import timedelta, timezone

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from backlog.engine.backlog import Backlog
from backlog.cli.grammar import spell_command
from backlog.engine.history import ANYONE
from backlog.errors import BacklogError, spell_tool
from backlog.store.store import Store
from tests.conftest import NOW, REPO, error
from tests.server_support import McpServer, server_env
from tests.test_engine_undo import run, use_case

WRITERS = ("a", "b", "c")


def writers(root, clock) -> dict[str, Backlog]:
    return {w: Backlog(Store.open(root), tz=timezone.utc, clock=clock, agent=w, writer=f"mcp:{w}") for w in WRITERS}


@pytest.fixture
def three(store_dir) -> dict[str, Backlog]:
    return writers(store_dir, lambda: NOW)


def hot(backlog: Backlog) -> dict[str, dict]:
    backlog.store.refresh()
    return dict(backlog.store.tasks)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(st.tuples(st.sampled_from(WRITERS), use_case), min_size=1, max_size=15))
def test_undo_by_a_never_changes_a_task_only_others_touched(tmp_path_factory, steps):
    ticks = itertools.count()
    three = writers(tmp_path_factory.mktemp("data"), lambda: NOW + timedelta(hours=next(ticks)))
    touched: dict[str, set[str]] = {w: set() for w in WRITERS}
    for who, case in steps:
        backlog = three[who]
        seq = backlog.store.seq
        if run(backlog, case) and backlog.store.seq != seq:
            record = next(backlog.store.records_newest_first())
            touched[who] |= {op["k"].rsplit(":", 1)[1] for op in record["ops"]}
    a = three["a"]
    while True:
        before = hot(a)
        try:
            a.undo()
        except BacklogError as err:
            assert str(err).startswith(("undo: nothing to undo", "undo: your newest change")), err
            assert hot(a) == before, "a refused undo changes nothing"
            break
        after = hot(a)
        changed = {u for u in before.keys() | after.keys() if before.get(u) != after.get(u)}
        assert changed <= touched["a"]


def test_undo_reverts_the_callers_newest_change_not_a_later_one_by_another(three):
    three["a"].add("mine")
    three["b"].add("theirs")
    assert three["a"].undo()["message"] == "undid task_add by a at 2026-11-24T10:14:53Z (task 1)"
    assert [t["description"] for t in hot(three["a"]).values()] == ["theirs"]
    assert error(three["a"].undo).startswith("undo: nothing to undo: your changes")


def test_a_later_change_by_another_writer_to_the_same_task_is_a_conflict(three):
    three["a"].add("mine")
    three["b"].annotate(1, "a note")
    assert error(three["a"].undo) == (
        "undo: your newest change (task_add at 2026-11-24T10:14:53Z, task 1) was changed since by b "
        "(task_annotate at 2026-11-24T10:14:53Z, task 1); change it back by hand, or undo the newest "
        "change by anyone with task_undo scope 'any'")
    assert three["a"].undo(everyone=True)["message"].startswith("undid task_annotate by b")


def test_depending_on_the_task_is_a_conflict(three):
    three["a"].add("base")
    three["b"].add("built on it", depends="1")
    assert "was changed since by b (task_add" in error(three["a"].undo)


def test_a_change_undone_by_its_writer_no_longer_conflicts(three):
    three["a"].add("mine")
    three["b"].annotate(1, "oops")
    three["b"].undo()
    assert three["a"].undo()["ids"] == [1]


def test_agent_narrows_undo_to_that_agents_changes_within_one_writer(store_dir):
    server = Backlog(Store.open(store_dir), tz=timezone.utc, clock=lambda: NOW, writer="mcp:session")
    server.add("one")
    server.add("two")
    server.claim("w1", id=1)
    server.annotate(2, "w2 was here", agent="w2")
    assert server.undo(agent="w1")["message"].startswith("undid task_claim by w1")
    assert "start" not in hot(server)[server.store.ids[1]]
    assert hot(server)[server.store.ids[2]]["annotations"], "w2's note stays"
    server.claim("w1", id=1)
    server.annotate(1, "a note on w1's task", agent="w2")
    assert "was changed since by w2 (task_annotate" in error(server.undo, agent="w1")
    assert error(server.undo, agent="w9").startswith("undo: nothing to undo")


# -- through the real processes ----------------------------------------------------------------

def test_two_servers_and_the_cli_each_undo_their_own_work(tmp_path):
    env = server_env(tmp_path)
    with McpServer(env) as one, McpServer(env) as two:
        one.ok("task_add", {"description": "from one"})
        two.ok("task_add", {"description": "from two"})
        assert one.ok("task_undo", {})["message"].startswith("undid task_add by mcp#")
        listed = [t["description"] for t in two.ok("task_list", {})["tasks"]]
        assert listed == ["from two"]
        cli = subprocess.run([sys.executable, "-m", "backlog", "undo"], env={**env, "USER": "ann"}, cwd=REPO,
                             capture_output=True, text=True)
        assert cli.returncode == 1 and cli.stderr.startswith("backlog: undo: nothing to undo"), cli
        assert cli.stderr.rstrip().endswith("; backlog undo --any reaches other writers' changes"), cli
        cli = subprocess.run([sys.executable, "-m", "backlog", "undo", "--any"], env={**env, "USER": "ann"}, cwd=REPO,
                             capture_output=True, text=True)
        assert cli.stdout.startswith("undid task_add by mcp#"), cli
        assert two.fail("task_undo", {}).startswith("undo: nothing to undo")


def test_the_cli_spells_the_conflict_fix_as_its_own_flag(tmp_path):
    env = server_env(tmp_path)

    def cli(user: str, *words: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "backlog", *words], env={**env, "USER": user}, cwd=REPO,
                              capture_output=True, text=True, timeout=120)

    assert cli("ann", "add", "mine").returncode == 0
    assert cli("bob", "1", "annotate", "a note").returncode == 0
    refused = cli("ann", "undo")
    assert refused.returncode == 1 and refused.stderr.rstrip().endswith(
        "change it back by hand, or undo the newest change by anyone with backlog undo --any"), refused
    assert cli("ann", "undo", "--any").stdout.startswith("undid cli:annotate by user"), "the flag it names works"


@pytest.mark.parametrize("spell, spelled", [
    (spell_tool, "task_undo scope 'any'"),  # MCP
    (spell_command, "backlog undo --any"),  # CLI: the value names the command's flag
])
def test_the_undo_fix_is_spelled_by_each_surface(spell, spelled):
    assert spell(ANYONE) == spelled
