"""Screenshots of the board's views into docs/, and first-paint / update figures (not a test).

usage: python bench/board_screens.py [--out docs] [--paint 10000 …]
Needs Debian's chromium and chromium-driver (bash .ci/run installs them) and selenium.
Screens: a small sample backlog, the clock pinned, written to docs/board-<view>.png (commit
them by hand; CI never writes tracked files). --paint N: a backlog of N tasks, then the
median of 5 loads of the Board view — server answer (responseEnd) and first contentful paint
in Chromium — and the time from a write by another process to its card on the open page.
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import orjson

REPO = Path(__file__).resolve().parent.parent
NOW_ISO = "2026-11-24T10:14:53Z"
SAMPLE = [  # description, extra fields (Taskwarrior JSON), doc
    ("Set up CI for the web app", {"project": "web", "tags": ["infra"], "priority": "H", "start": "20261124T080000Z",
                                   "agent": "claude-1"}, None),
    ("Fix login redirect loop", {"project": "web.auth", "tags": ["bug"], "priority": "H", "due": "20261124T170000Z"},
     "# Login loop\n\nSafari 18 drops the **session cookie** after the redirect.\n\n"
     "1. Reproduce with `curl -v`\n2. Fix the cookie path\n3. Add a test\n\n| Browser | Loops |\n|---|---|\n"
     "| Safari 18 | yes |\n| Firefox | no |\n"),
    ("Write API reference", {"project": "docs", "tags": ["docs"], "due": "20261127T170000Z"}, None),
    ("Profile slow search queries", {"project": "api", "tags": ["perf"], "priority": "M", "start": "20261124T091000Z",
                                     "agent": "claude-2"}, None),
    ("Migrate sessions to Redis", {"project": "api", "tags": ["infra"], "deps": [3]}, None),
    ("Roll out Redis sessions", {"project": "api", "deps": [4]}, None),
    ("Announce the new login", {"project": "web", "deps": [1, 5]}, None),
    ("Plan the v2 roadmap", {"tags": ["next"], "scheduled": "20261126T090000Z"}, None),
    ("Renew the TLS certificate", {"project": "ops", "wait": "20261210T000000Z"}, None),
    ("Update dependencies", {"project": "ops", "status": "completed", "end": "20261123T150000Z"}, None),
    ("Triage new bug reports", {"project": "web", "status": "completed", "end": "20261122T110000Z"}, None),
    ("Draft the security review", {"project": "docs", "priority": "L"}, None),
]


def uuid_of(n: int) -> str:
    return f"00000000-0000-4000-8000-{n:012d}"


def sample_tasks() -> list[dict]:
    out = []
    for n, (description, fields, _) in enumerate(SAMPLE):
        task = {"uuid": uuid_of(n), "description": description, "status": "pending", "entry": "20261120T090000Z",
                **{k: v for k, v in fields.items() if k != "deps"}}
        if "deps" in fields:
            task["depends"] = ",".join(uuid_of(d) for d in fields["deps"])
        out.append(task)
    return out


def many_tasks(count: int, seed: int = 7) -> list[dict]:
    """`count` tasks: 30% completed, 20 projects, a dependency on an earlier task for one in six."""
    rng = random.Random(seed)
    out = []
    for n in range(count):
        task = {"uuid": uuid_of(n), "description": f"task {n} " + rng.choice(["fix", "add", "tune", "write"]),
                "status": "pending", "entry": "20261101T090000Z", "project": f"p{n % 20}"}
        if rng.random() < 0.3:
            task.update(status="completed", end=f"202611{rng.randint(10, 23)}T090000Z")
        elif n > 10 and rng.random() < 0.17:
            task["depends"] = uuid_of(rng.randrange(n))
        if rng.random() < 0.3:
            task["priority"] = rng.choice("HML")
        out.append(task)
    return out


def backlog(args: list[str], env: dict, stdin: str | None = None) -> str:
    done = subprocess.run([sys.executable, "-m", "backlog", *args], input=stdin, env=env, capture_output=True,
                          text=True, check=True, cwd=REPO)
    return done.stdout


def start(env: dict) -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen([sys.executable, "-m", "backlog", "board", "--no-open"], env=env, cwd=REPO,
                            stdout=subprocess.PIPE, text=True)
    return proc, proc.stdout.readline().strip()


def stop(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGINT)
    proc.wait(timeout=60)


def browser(width: int = 1500, height: int = 900):
    os.environ["SE_OFFLINE"] = "true"
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", f"--window-size={width},{height}",
                "--hide-scrollbars", "--force-device-scale-factor=1"):
        options.add_argument(arg)
    return webdriver.Chrome(options=options, service=Service("/usr/bin/chromedriver"))


def environment(root: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TASKDATA", "BACKLOG_"))}
    env.update(TASKDATA=root, BACKLOG_NOW=NOW_ISO, TZ="UTC", USER="you", PYTHONPATH=str(REPO / "server"))
    return env


def screens(out: Path) -> None:
    with tempfile.TemporaryDirectory() as root:
        env = environment(root)
        backlog(["import", "-"], env, orjson.dumps(sample_tasks()).decode())
        from backlog.runtime import open_backlog
        facade = open_backlog(env, root, channel="cli", agent="claude-1")
        for n, (_, _, doc) in enumerate(SAMPLE):
            if doc:
                facade.doc_write(uuid_of(n), doc)
        facade.annotate(uuid_of(1), "Reproduced with Safari 18; cookie path is wrong")
        proc, url = start(env)
        driver = browser()
        try:
            driver.get(url)
            origin = url.split("/?")[0]
            for view, path in (("board", "/"), ("task", f"/task/{uuid_of(1)}"), ("graph", "/graph"),
                               ("activity", "/activity")):
                driver.get(origin + path)
                time.sleep(0.5)
                target = out / f"board-{view}.png"
                driver.save_screenshot(str(target))
                print(f"wrote {target}")
        finally:
            driver.quit()
            stop(proc)


def paint(count: int) -> None:
    with tempfile.TemporaryDirectory() as root:
        env = environment(root)
        env.pop("BACKLOG_NOW")
        tasks = many_tasks(count)
        for at in range(0, count, 10_000):  # an import takes at most 10,000 tasks
            backlog(["import", "-"], env, orjson.dumps(tasks[at:at + 10_000]).decode())
        proc, url = start(env)
        driver = browser()
        try:
            driver.get(url)
            origin = url.split("/?")[0]
            answers, paints = [], []
            for _ in range(5):
                driver.get(origin + "/")
                timing = driver.execute_script(
                    "const n = performance.getEntriesByType('navigation')[0];"
                    "const p = performance.getEntriesByName('first-contentful-paint')[0];"
                    "return [n.responseEnd - n.requestStart, p ? p.startTime : null]")
                answers.append(timing[0])
                if timing[1] is not None:
                    paints.append(timing[1])
            updates = []
            for n in range(5):
                backlog(["add", f"live {n}", "priority:H", "due:today"], env)
                written = time.perf_counter()
                while f"live {n}" not in driver.execute_script("return document.querySelector('#col-ready').textContent"):
                    time.sleep(0.02)
                updates.append((time.perf_counter() - written) * 1000)
            print(f"{count} tasks: board answer {statistics.median(answers):.0f} ms, first contentful paint "
                  f"{statistics.median(paints):.0f} ms, write → card on the open page {statistics.median(updates):.0f} ms "
                  f"(median of 5; poll every 0.5 s)")
        finally:
            driver.quit()
            stop(proc)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "docs")
    parser.add_argument("--paint", type=int, nargs="*", default=[])
    parser.add_argument("--no-screens", action="store_true")
    args = parser.parse_args()
    if not args.no_screens:
        args.out.mkdir(exist_ok=True)
        screens(args.out)
    for count in args.paint:
        paint(count)


if __name__ == "__main__":
    main()
