"""Stores a project left behind before it was one backlog per repository (issue 12).

Earlier versions gave every start directory its own backlog: a session started in
`repo/src` wrote to the slug of `repo/src`, a linked worktree to its own. `strays` looks for
such stores: the data dir each directory of the repository (and of its linked worktrees) up
to depth 4 would have had, skipping `.git`, `node_modules`, nested repositories and what git
ignores. `files.record_project` writes `project.json` (`{"project": path}`) into a data dir, so
a store says whose it is; a store recording this project is never a stray.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

from backlog.errors import StoreError
from backlog.store.files import recorded_project
from backlog.store.store import Store

DEPTH = 4
SKIP = frozenset({".git", "node_modules"})


def strays(project: str | Path, current: str | Path, data_dir: Callable[[Path], str | Path]) -> list[tuple[Path, Path, int]]:
    """(directory, its old data dir, its task count) for every store with tasks below `project`
    or its linked worktrees that is not `current` (this project's data dir), shallowest first."""
    project = Path(project)
    found, seen = [], {Path(current).resolve()}
    for tree in (project, *worktrees(project)):
        for folder in folders(tree):
            root = Path(data_dir(folder)).resolve()
            if root in seen or not root.is_dir() or recorded_project(root) == str(project):
                continue
            seen.add(root)
            count = _task_count(root)
            if count:
                found.append((folder, root, count))
    return found


def worktrees(project: Path) -> list[Path]:
    """The linked worktrees of the repository whose main working tree is `project`."""
    listed = []
    for gitdir in sorted((project / ".git" / "worktrees").glob("*/gitdir")):
        try:
            listed.append(Path(gitdir.read_text(encoding="utf-8").strip()).parent)
        except OSError:
            continue
    return [tree for tree in listed if tree.is_dir()]


def folders(tree: Path) -> Iterator[Path]:
    """`tree` and its directories down to DEPTH, without SKIP, nested repositories or git-ignored ones."""
    ignored = _ignored(tree)
    for top, dirs, _ in os.walk(tree):
        here = Path(top)
        yield here
        depth = len(here.relative_to(tree).parts)
        dirs[:] = [] if depth >= DEPTH else sorted(
            d for d in dirs if d not in SKIP and (here / d) not in ignored and not (here / d / ".git").exists())


def _ignored(tree: Path) -> set[Path]:
    """The directories git ignores in `tree` (none when git is missing or fails)."""
    import subprocess  # here only: the rest of doctor never runs git
    try:
        listed = subprocess.run(["git", "ls-files", "--others", "--ignored", "--exclude-standard", "--directory", "-z"],
                                cwd=tree, capture_output=True, timeout=30, check=True).stdout
    except (OSError, subprocess.SubprocessError):
        return set()
    return {tree / name.rstrip("/") for name in listed.decode("utf-8", "replace").split("\0") if name.endswith("/")}


def _task_count(root: Path) -> int:
    """How many tasks (hot and archived) the store at `root` holds; 0 when it cannot be read."""
    try:
        store = Store.open(root)
    except (StoreError, OSError):
        return 0
    try:
        return len(store.tasks) + len(store.archived_ids())
    finally:
        store.close()


def merge_command(root: Path, namespaced: bool) -> str:
    """The shell command that merges the store at `root` into the current backlog."""
    import shlex
    clear = "BACKLOG_NAMESPACE= BACKLOG_AUTO_NAMESPACE= " if namespaced else ""
    return f"{clear}TASKDATA={shlex.quote(str(root))} backlog export | backlog import"
