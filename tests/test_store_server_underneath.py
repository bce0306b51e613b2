"""Files changed underneath a running `backlog serve` (and the CLI beside it): a deleted or
cut journal is refused loudly by the server and by every other process, nothing is
acknowledged into a file that lost what it held, and doctor names exactly what was lost;
a deleted `.lock` changes nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from backlog.store.store import Store
from tests.conftest import run_backlog
from tests.server_support import McpServer, server_env


def current(root: Path) -> Path:
    return max((root / "journal").glob("*.jsonl"))


def cut_last_line(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: data.rstrip(b"\n").rfind(b"\n") + 1])


DAMAGE = {"journal deleted": lambda path: path.unlink(), "journal cut by its last line": cut_last_line}


@pytest.mark.parametrize("damage", DAMAGE)
def test_a_journal_changed_under_a_running_server_is_refused_everywhere(tmp_path, damage):
    env = server_env(tmp_path, BACKLOG_COMPACT_EVERY="3")
    root = tmp_path / "data"
    with McpServer(env) as server:
        for n in range(1, 6):  # #1–#3 in the snapshot, #4–#5 in the current generation
            server.ok("task_add", {"description": f"task {n}"})
        path = current(root)
        DAMAGE[damage](path)
        after = path.read_bytes() if path.exists() else None
        for tool, arguments in (("task_add", {"description": "into the damaged journal"}), ("task_list", {})):
            message = server.fail(tool, arguments)
            assert "backlog doctor" in message and "000001.jsonl" in message, message
        cli = run_backlog(["add", "from the CLI"], env)
        assert cli.returncode == 2 and "backlog doctor" in cli.stderr and len(cli.stderr.strip().splitlines()) == 1
        assert (path.read_bytes() if path.exists() else None) == after  # nobody wrote into it
        check = run_backlog(["doctor"], env)
        assert check.returncode == 2 and "#5 were acknowledged" in check.stdout
        repair = run_backlog(["doctor", "--repair"], env)
        assert repair.returncode == 0, repair.stderr
        lost = "#4–#5" if damage == "journal deleted" else "#5"
        assert f"recorded transactions {lost} as lost" in repair.stdout
        assert run_backlog(["doctor"], env).returncode == 0
        server.ok("task_add", {"description": "after the repair"})  # the server reloads the repaired store
    kept = {t["description"] for t in Store.open(root).tasks.values()}
    assert kept == {"task 1", "task 2", "task 3", "after the repair"} | ({"task 4"} if lost == "#5" else set())


def test_a_lock_file_deleted_under_a_running_server_changes_nothing(tmp_path):
    env = server_env(tmp_path)
    root = tmp_path / "data"
    with McpServer(env) as server:
        server.ok("task_add", {"description": "first"})
        for n in range(6):
            (root / ".lock").unlink(missing_ok=True)
            server.ok("task_add", {"description": f"server {n}"})
            assert run_backlog(["add", f"cli {n}"], env).returncode == 0
    tasks = Store.open(root).tasks.values()
    assert len(tasks) == 13 and len({t["id"] for t in tasks}) == 13
