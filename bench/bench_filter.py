"""Filter, urgency and sort figures (not a test): medians over repetitions.

    .venv/bin/python bench/bench_filter.py

Targets (SPEC/brief): parse + evaluate a 5-term filter over 10k tasks ≤ 5 ms and over
100k ≤ 40 ms; urgency-sorted top 100 of 10k pending ≤ 10 ms. Each repetition builds a
fresh Context (one per call, as the engine does), so lazy indexes are paid every time.
"""

from __future__ import annotations

import random
import statistics
import time
import uuid
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from backlog.core.filter import compile_filter
from backlog.store.view import Context
from backlog.core.model import format_utc
from backlog.core.sort import parse_sort, sort_tasks

NOW = datetime(2026, 11, 24, 10, 14, 53, tzinfo=timezone.utc)
TZ = ZoneInfo("America/New_York")
FILTER = "project:web +bug due.before:eow -WAITING pri.after:L"
WORDS = "fix add remove refactor login api cache docs deploy test build auth page user".split()


def make_tasks(n: int, pending_share: float, seed: int = 7) -> dict[str, dict]:
    """`n` varied tasks (uuid → task); `pending_share` of them pending."""
    rng = random.Random(seed)
    tasks: dict[str, dict] = {}
    uuids: list[str] = []
    for i in range(1, n + 1):
        u = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        entry = NOW - timedelta(seconds=rng.randrange(0, 500 * 86400))
        task: dict = {
            "id": i, "uuid": u, "description": " ".join(rng.sample(WORDS, 4)),
            "status": "pending" if rng.random() < pending_share else rng.choice(("completed", "deleted")),
            "entry": format_utc(entry), "modified": format_utc(entry),
        }
        if rng.random() < 0.7:
            task["project"] = rng.choice(("web", "web.ui", "webapp", "infra", "docs"))
        if rng.random() < 0.6:
            task["tags"] = rng.sample(("bug", "ui", "next", "api", "perf"), rng.randint(1, 3))
        if rng.random() < 0.5:
            task["priority"] = rng.choice("HML")
        if rng.random() < 0.5:
            task["due"] = format_utc(NOW + timedelta(seconds=rng.randrange(-30 * 86400, 60 * 86400)))
        if rng.random() < 0.1:
            task["wait"] = format_utc(NOW + timedelta(days=rng.randint(-5, 20)))
        if rng.random() < 0.05:
            task["start"] = task["entry"]
        if rng.random() < 0.1:
            task["scheduled"] = format_utc(NOW + timedelta(days=rng.randint(-5, 20)))
        if uuids and rng.random() < 0.15:
            task["depends"] = rng.sample(uuids[-200:], min(len(uuids[-200:]), rng.randint(1, 2)))
        if rng.random() < 0.2:
            task["annotations"] = [{"entry": task["entry"], "description": "note " + rng.choice(WORDS)}]
        if task["status"] != "pending":
            task["end"] = task["modified"]
        tasks[u] = task
        uuids.append(u)
    return tasks


def median_ms(run, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main() -> None:
    print(f"parse + compile {FILTER!r}: {median_ms(lambda: compile_filter(FILTER, NOW, TZ), 200):6.3f} ms median")
    for n, repeat in ((10_000, 50), (100_000, 15)):
        tasks = make_tasks(n, pending_share=0.5)

        def filter_once() -> int:
            return len(compile_filter(FILTER, NOW, TZ).select(Context(tasks, NOW, TZ)))

        count = filter_once()
        print(f"filter {FILTER!r} over {n:>7,} tasks: {median_ms(filter_once, repeat):6.2f} ms median ({count} match)")
    for text in ("+READY auth", "( +OVERDUE or +ACTIVE ) project:web", "urgency.over:10"):
        tasks = make_tasks(100_000, pending_share=0.5)
        ms = median_ms(lambda: compile_filter(text, NOW, TZ).select(Context(tasks, NOW, TZ)), 15)
        print(f"filter {text!r} over 100,000 tasks: {ms:6.2f} ms median")
    pending = make_tasks(10_000, pending_share=1.0)
    keys = parse_sort(None)

    def top100() -> list[dict]:
        ctx = Context(pending, NOW, TZ)
        return sort_tasks(list(pending.values()), keys, ctx, limit=100)

    print(f"urgency top 100 of 10,000 pending: {median_ms(top100, 50):6.2f} ms median")

    def default_list() -> list[dict]:
        ctx = Context(pending, NOW, TZ)
        return sort_tasks(compile_filter("", NOW, TZ).select(ctx), keys, ctx, limit=100)

    print(f"default task_list (filter + top 100) of 10,000 pending: {median_ms(default_list, 50):6.2f} ms median")


if __name__ == "__main__":
    main()
