"""One backlog per repository (issue 12): a subdirectory, linked worktrees and a bare repository's
worktrees share the main working tree's backlog; a submodule has its own. The server, the hooks
and the CLI agree, wherever in the repository they start.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from backlog.paths import project_dir, repository_root
from tests.conftest import run_backlog
from tests.server_support import McpServer
from tests.test_hooks import hook, payload


def git(*args: str, cwd: Path) -> None:
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "init.defaultBranch=main",
                    "-c", "protocol.file.allow=always", *args], cwd=cwd, check=True, capture_output=True, timeout=60)


@pytest.fixture(scope="module")
def repos(tmp_path_factory) -> dict[str, Path]:
    """main (with src/deep, worktrees wt1 and wt2, submodule lib), and bare.git with worktree bw."""
    root = tmp_path_factory.mktemp("repos").resolve()
    for name in ("main", "libsrc"):
        (root / name).mkdir()
        git("init", cwd=root / name)
        (root / name / "README").write_text(name)
        git("add", ".", cwd=root / name)
        git("commit", "-m", "first", cwd=root / name)
    (root / "main" / "src" / "deep").mkdir(parents=True)
    git("worktree", "add", "-b", "one", str(root / "wt1"), cwd=root / "main")
    git("worktree", "add", "-b", "two", str(root / "wt2"), cwd=root / "main")
    (root / "wt1" / "sub").mkdir()
    git("submodule", "add", str(root / "libsrc"), "lib", cwd=root / "main")
    git("clone", "--bare", str(root / "main"), str(root / "bare.git"), cwd=root)
    git("worktree", "add", str(root / "bw"), "one", cwd=root / "bare.git")
    return {"root": root, "main": root / "main", "lib": root / "main" / "lib", "bare": root / "bare.git"}


@pytest.mark.parametrize("start, project", [
    ("main", "main"),
    ("main/src/deep", "main"),      # a subdirectory
    ("wt1", "main"),                # linked worktrees: the main working tree
    ("wt1/sub", "main"),
    ("wt2", "main"),
    ("main/lib", "main/lib"),       # a submodule is its own project
    ("bw", "bare.git"),             # a bare repository's worktree: the bare dir
    ("", ""),                       # outside any repository: the directory itself
])
def test_the_project_is_the_repositorys_main_working_tree(repos, start, project):
    assert repository_root(repos["root"] / start) == str((repos["root"] / project).resolve())


def test_an_unreadable_git_file_uses_the_directory(tmp_path):
    (tmp_path / ".git").write_text("not a gitdir line")
    assert repository_root(tmp_path / ".") == str(tmp_path)


def test_claude_project_dir_in_a_subdirectory_is_the_repository(repos):
    sub = repos["root"] / "wt1" / "sub"
    assert project_dir({"CLAUDE_PROJECT_DIR": str(sub)}, "/") == str(repos["main"])


def test_server_hook_and_cli_agree_on_the_backlog(repos, clean_env):
    root = repos["root"]
    env = {k: v for k, v in clean_env.items() if k != "TASKDATA"}
    added = run_backlog(["add", "shared across the repository"], env, cwd=root / "wt1" / "sub")
    assert added.returncode == 0, added.stderr
    listed = run_backlog(["list", "--json"], env, cwd=root / "main" / "src" / "deep")
    assert [t["description"] for t in json.loads(listed.stdout)["tasks"]] == ["shared across the repository"]
    brief = hook("SessionStart", payload("SessionStart", cwd=root / "wt2", source="startup"), env, cwd=root)
    assert "1 pending" in brief["hookSpecificOutput"]["additionalContext"]
    with McpServer({**env, "CLAUDE_PROJECT_DIR": str(root / "main" / "src")}) as server:
        assert server.ok("task_count", {})["count"] == 1
    alone = run_backlog(["list", "--json"], env, cwd=repos["lib"])
    assert json.loads(alone.stdout)["tasks"] == [], "the submodule has its own backlog"
