"""Backlogs left under the old per-directory slugs (issue 12 item 6): `backlog doctor` finds them
and prints the command that merges each; new stores record their project in `project.json`.

A real repository with a subdirectory, a linked worktree, an ignored dir, node_modules and a
directory deeper than 4; the old stores are made where the old slugs put them.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import timezone
from pathlib import Path

import pytest

from backlog.engine.backlog import Backlog
from backlog.paths import data_dir
from backlog.store.store import Store
from backlog.store.files import recorded_project
from tests.conftest import NOW, run_backlog
from tests.test_repository import git


@pytest.fixture
def repo(tmp_path) -> Path:
    """repo/ with src/deep, build/ (ignored), node_modules/pkg, a/b/c/d/e and worktree wt1 beside it."""
    main = (tmp_path / "repo").resolve()
    for sub in ("src/deep", "build/out", "node_modules/pkg", "a/b/c/d/e"):
        (main / sub).mkdir(parents=True)
    (main / ".gitignore").write_text("build/\n")
    git("init", cwd=main)
    git("add", ".gitignore", cwd=main)
    git("commit", "-m", "first", cwd=main)
    git("worktree", "add", "-b", "one", str(tmp_path / "wt1"), cwd=main)
    return main


@pytest.fixture
def env(clean_env) -> dict:
    return {k: v for k, v in clean_env.items() if k != "TASKDATA"}


def old_store(env: dict, folder: Path, *descriptions: str) -> Path:
    """A store where the old slug of `folder` put it, holding `descriptions`."""
    root = Path(data_dir(env, folder.resolve()))
    root.mkdir(parents=True)
    backlog = Backlog(Store.open(root), tz=timezone.utc, clock=lambda: NOW)
    for description in descriptions:
        backlog.add(description)
    backlog.store.close()
    return root


def doctor(env: dict, cwd: Path) -> dict:
    done = run_backlog(["doctor", "--json"], env, cwd=cwd)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_doctor_finds_the_subdirectory_and_worktree_backlogs_and_nothing_skipped(repo, env):
    src = old_store(env, repo / "src", "from src")
    wt = old_store(env, repo.parent / "wt1", "from the worktree", "and another")
    for skipped in ("build/out", "node_modules/pkg", "a/b/c/d/e"):
        old_store(env, repo / skipped, "never found")
    found = doctor(env, repo / "src" / "deep")["strays"]
    assert [(s["directory"], s["data"], s["tasks"]) for s in found] == [
        (str(repo / "src"), str(src), 1), (str(repo.parent / "wt1"), str(wt), 2)]
    assert found[0]["merge"] == f"TASKDATA={src} backlog export | backlog import"


def test_the_printed_command_merges_the_stray_into_the_repositorys_backlog(repo, env):
    old_store(env, repo / "src" / "deep", "from deep")
    run_backlog(["add", "already here"], env, cwd=repo)
    text = run_backlog(["doctor"], env, cwd=repo).stdout
    line = next(line for line in text.splitlines() if line.startswith(str(repo / "src" / "deep")))
    command = line.split("`")[1]
    shell = {**env, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"}
    subprocess.run(["bash", "-c", command], cwd=repo, env=shell, check=True, timeout=120, capture_output=True)
    listed = json.loads(run_backlog(["list", "--json"], env, cwd=repo).stdout)["tasks"]
    assert sorted(t["description"] for t in listed) == ["already here", "from deep"]


def test_a_store_records_its_project_and_is_never_its_own_stray(repo, env):
    run_backlog(["add", "first"], env, cwd=repo / "src" / "deep")
    run_backlog(["list"], env, cwd=repo / "src")  # the data dir exists now: recorded on this open
    assert recorded_project(data_dir(env, repo)) == str(repo)
    assert "strays" not in doctor(env, repo)


def test_a_relative_taskdata_is_relative_to_the_repository_root(repo, env):
    run_backlog(["add", "rooted"], {**env, "TASKDATA": ".tasks"}, cwd=repo / "src" / "deep")
    assert (repo / ".tasks" / "journal").is_dir() and not (repo / "src" / "deep" / ".tasks").exists()


def test_a_store_recording_this_project_is_not_a_stray(repo, env):
    old = old_store(env, repo / "src", "made for the repository")
    (old / "project.json").write_text(json.dumps({"project": str(repo)}))
    assert "strays" not in doctor(env, repo)
