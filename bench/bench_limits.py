"""The time to answer the largest input each limit allows (not a test): core.limits figures.

    .venv/bin/python bench/bench_limits.py

Each figure is one call through the engine on a real store in a temp dir (best of 3 for
the quick ones): the largest filter (1,000 terms, under 10,000 chars) over 1,000 tasks,
the largest `extra` (64 KB), and an import of 10,000 tasks, flat and as one dependency
chain. The chain is also timed through `find_cycles`, the one-pass check the engine's
import would call (see its docstring).
"""

from __future__ import annotations

import tempfile
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path

import orjson

from backlog.core.edits import find_cycles
from backlog.core.limits import MAX_EXTRA_BYTES, MAX_FILTER_CHARS, MAX_FILTER_TERMS, MAX_IMPORT_TASKS
from backlog.engine.backlog import Backlog
from backlog.errors import BacklogError
from backlog.store.store import Store

NOW = datetime(2026, 11, 24, 10, 14, 53, tzinfo=timezone.utc)


def fresh() -> Backlog:
    return Backlog(Store.open(Path(tempfile.mkdtemp()) / "data"), tz=timezone.utc, clock=lambda: NOW)


def timed(label: str, call, repeat: int = 3) -> None:
    best, outcome = float("inf"), ""
    for _ in range(repeat):
        start = time.perf_counter()
        try:
            call()
            outcome = "ok"
        except BacklogError as error:
            outcome = str(error)[:70]
        best = min(best, time.perf_counter() - start)
    print(f"{label:58} {best * 1000:9.1f} ms  {outcome}")


def main() -> None:
    backlog = fresh()
    backlog.import_tasks(orjson.dumps([{"description": f"task {i} word{i % 50}", "project": f"p{i % 20}",
                                        "tags": [f"t{i % 30}"]} for i in range(1000)]).decode())
    terms = [f"w{i}" for i in range(MAX_FILTER_TERMS)]
    words = " ".join(terms)
    assert len(words) <= MAX_FILTER_CHARS
    timed(f"filter: {MAX_FILTER_TERMS} words ({len(words)} chars), 1k tasks", lambda: backlog.list(words))
    mixed = " or ".join(f"+t{i % 30} project:p{i % 20}" for i in range(MAX_FILTER_TERMS // 2))
    timed(f"filter: {MAX_FILTER_TERMS} tags/projects in or ({len(mixed)} chars)", lambda: backlog.list(mixed[:MAX_FILTER_CHARS].rsplit(" or ", 1)[0]))
    nested = "(" * 64 + "task" + ")" * 64
    timed("filter: 64 nested parentheses", lambda: backlog.list(nested))
    timed("filter: 10,001 chars (refused)", lambda: backlog.list("a" * (MAX_FILTER_CHARS + 1)))

    tags = " ".join(f"+t{i}" for i in range(MAX_EXTRA_BYTES // 7))[:MAX_EXTRA_BYTES].rsplit(" ", 1)[0]
    timed(f"extra: {len(tags.split())} tags ({len(tags)} bytes) on add", lambda: fresh().add("x", extra=tags), repeat=1)
    quoted = 'project:web due:"next friday" ' + '+"ab" ' * ((MAX_EXTRA_BYTES - 40) // 7)
    timed(f"extra: quoted tags ({len(quoted)} bytes) on add", lambda: fresh().add("x", extra=quoted), repeat=1)

    flat = orjson.dumps([{"description": f"task {i}"} for i in range(MAX_IMPORT_TASKS)]).decode()
    timed(f"import: {MAX_IMPORT_TASKS} tasks, no dependencies", lambda: fresh().import_tasks(flat), repeat=1)
    for n in (1000, 2000, 4000):
        ids = [str(uuid.UUID(int=i + 1, version=4)) for i in range(n)]
        chain = orjson.dumps([{"uuid": u, "description": f"step {i}", **({"depends": [ids[i - 1]]} if i else {})}
                              for i, u in enumerate(ids)]).decode()
        timed(f"import: {n}-task dependency chain (engine today)", lambda: fresh().import_tasks(chain), repeat=1)
    graph = {f"t{i}": [f"t{i + 1}"] for i in range(MAX_IMPORT_TASKS - 1)}
    timed(f"find_cycles over a {MAX_IMPORT_TASKS}-task chain (one pass)",
          lambda: find_cycles(list(graph), lambda u: graph.get(u, [])))


if __name__ == "__main__":
    main()
