"""`backlog demo`: a sample backlog in a fresh temporary data dir, never the user's."""

from __future__ import annotations

import tempfile
from collections.abc import Callable

from backlog.cli.table import View, task_table
from backlog.runtime import open_backlog

DEMO_TASKS = [
    {"description": "Set up CI for the web app", "project": "web", "tags": ["infra"], "priority": "H", "due": "tomorrow"},
    {"description": "Fix login redirect loop", "project": "web.auth", "tags": ["bug"], "priority": "H", "due": "today"},
    {"description": "Write API reference", "project": "docs", "tags": ["docs"], "due": "eow"},
    {"description": "Profile slow search queries", "project": "api", "tags": ["perf"], "priority": "M"},
    {"description": "Migrate sessions to Redis", "project": "api", "tags": ["infra"], "depends": "4"},
    {"description": "Weekly dependency update", "project": "ops", "recur": "weekly", "due": "monday"},
    {"description": "Plan the v2 roadmap", "tags": ["next"], "scheduled": "today"},
]


def demo(env: dict, out: Callable[[str], None], width: int | None, color: bool) -> None:
    """Fill a new temporary data dir with DEMO_TASKS, print its list and how to explore it."""
    root = tempfile.mkdtemp(prefix="backlog-demo-")
    demo_env = {k: v for k, v in env.items() if k not in ("BACKLOG_NAMESPACE", "BACKLOG_AUTO_NAMESPACE")}
    demo_env["TASKDATA"] = root
    backlog = open_backlog(demo_env, root, channel="cli", agent="demo")
    for spec in DEMO_TASKS:
        spec = dict(spec)
        backlog.add(spec.pop("description"), **{k: (",".join(v) if isinstance(v, list) else v) for k, v in spec.items()})
    backlog.start("1")
    backlog.annotate("2", "Reproduced with Safari 18; cookie path is wrong")
    out("\n".join(task_table(backlog.list()["tasks"], View(backlog.tz, backlog.clock(), width, color))))
    out(f"\nThis demo backlog lives in {root}; explore it with:\n  TASKDATA={root} backlog next")
