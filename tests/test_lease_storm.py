"""Storm (issue 12): 6 agents × 50 claim/annotate/done cycles over 3 processes, with 1 s leases
that expire mid-run (every 7th cycle idles past its lease). Checked from the journal: every task
completed at most once, never two holders at one sequence, every acknowledged completion kept,
every takeover the workers were told of is in the history. (One task has one `lease` field,
so two live leases on a task at one sequence cannot even be written.)
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import timezone

import pytest

from backlog.engine.backlog import Backlog
from backlog.clock import utc_now
from backlog.store.store import Store
from tests.conftest import REPO

WORKER = r"""
import json, os, sys, time
from backlog.errors import BacklogError
from backlog.runtime import open_backlog

agents, cycles = sys.argv[1].split(","), int(sys.argv[2])
backlog = open_backlog(dict(os.environ), ".", channel="mcp", writer="mcp:" + sys.argv[1])
log = []
for n in range(cycles):
    for agent in agents:
        try:
            got = backlog.claim(agent)
        except BacklogError as err:
            log.append(["refused", agent, None, str(err)])
            continue
        tid = got["task"]["id"]
        log.append(["claimed", agent, tid, got["message"]])
        backlog.annotate(tid, f"cycle {n}", agent=agent)
        if n % 7 == 3:
            time.sleep(1.3)  # idle past the 1 s lease: another agent may take the task over
        try:
            log.append(["done", agent, tid, backlog.done(tid, agent=agent)["message"]])
        except BacklogError as err:
            log.append(["fenced", agent, tid, str(err)])
print(json.dumps(log))
"""


@pytest.mark.wallclock
def test_six_agents_over_three_processes_complete_each_task_at_most_once(tmp_path, clean_env):
    data = tmp_path / "data"
    env = {k: v for k, v in clean_env.items() if k != "BACKLOG_NOW"} | {"TASKDATA": str(data), "BACKLOG_LEASE": "1s"}
    seed = Backlog(Store.open(data), tz=timezone.utc, clock=utc_now)
    seed.import_tasks(json.dumps([{"description": f"task {n}"} for n in range(200)]))
    procs = [subprocess.Popen([sys.executable, "-c", WORKER, f"p{p}a,p{p}b", "50"], env=env, cwd=REPO,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for p in range(3)]
    logs = []
    for proc in procs:
        out, err = proc.communicate(timeout=600)
        assert proc.returncode == 0, err
        logs += json.loads(out)

    store = Store.open(data)
    records = list(reversed(list(store.records_newest_first())))
    completions: dict[str, int] = {}
    for rec in records:
        for op in rec["ops"]:
            old, new = op["o"] or {}, op["n"] or {}
            if new.get("status") == "completed" and old.get("status") != "completed":
                completions[new["uuid"]] = completions.get(new["uuid"], 0) + 1
    assert completions and max(completions.values()) == 1, "a task completed twice"

    done = {tid for kind, _, tid, _ in logs if kind == "done"}
    final = {t["id"]: t for t in store.tasks.values()}
    assert all(final[tid]["status"] == "completed" for tid in done), "an acknowledged completion was lost"
    assert not any("lease" in final[tid] for tid in done)

    told = [(tid, msg) for kind, _, tid, msg in logs if kind == "claimed" and "took it over" in msg]
    recorded = [rec for rec in records for op in rec["ops"]
                if (op["n"] or {}).get("lease", {}).get("took_over") != (op["o"] or {}).get("lease", {}).get("took_over")
                and (op["n"] or {}).get("lease", {}).get("took_over")]
    assert told, "leases expired mid-run, so some claims took a task over"
    assert len(recorded) >= len(told)
    for tid, _ in told:
        history = [e["agent"] for e in Backlog(store, tz=timezone.utc, clock=utc_now).history(tid)["entries"]]
        assert len(set(history) - {"user"}) >= 2, f"task {tid}: the takeover is in its history"
    fenced = [msg for kind, _, _, msg in logs if kind == "fenced"]
    assert all(("took it over" in m) or ("already completed" in m) for m in fenced), fenced
