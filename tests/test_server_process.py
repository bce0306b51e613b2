"""The server's process life: end-of-file and SIGINT/SIGTERM answer every request received, then exit.

Raw JSON-RPC lines over a pipe, as `docker run -i` or a shell pipeline sends them; every wait
is bounded and no test asserts a duration.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from filelock import FileLock

from tests.conftest import REPO
from tests.server_support import server_env

EXIT_TIMEOUT_S = 60
INITIALIZE = {"jsonrpc": "2.0", "id": 0, "method": "initialize",
              "params": {"protocolVersion": "2025-11-25", "capabilities": {},
                         "clientInfo": {"name": "pipe", "version": "1"}}}
INITIALIZED = {"jsonrpc": "2.0", "method": "notifications/initialized"}


def call(request_id: int, tool: str, **arguments: object) -> dict:
    return {"jsonrpc": "2.0", "id": request_id, "method": "tools/call",
            "params": {"name": tool, "arguments": arguments}}


def lines(*messages: dict) -> bytes:
    return b"".join(json.dumps(m).encode() + b"\n" for m in messages)


def start(env: dict) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "backlog", "serve"], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=REPO)


def answer(proc: subprocess.Popen) -> dict:
    line = proc.stdout.readline()
    assert line, proc.stderr.read().decode()
    return json.loads(line)


def text(message: dict) -> dict:
    assert not message["result"].get("isError"), message
    return json.loads(message["result"]["content"][0]["text"])


@pytest.mark.parametrize("run", range(5))
def test_requests_piped_with_end_of_file_right_after_are_all_answered(tmp_path, run):
    env = server_env(tmp_path)
    piped = lines(INITIALIZE, INITIALIZED, call(1, "task_add", description="Piped in"), call(2, "task_list"))
    done = subprocess.run([sys.executable, "-m", "backlog", "serve"], input=piped, capture_output=True,
                          env=env, cwd=REPO, timeout=EXIT_TIMEOUT_S)
    answers = {m["id"]: m for m in map(json.loads, done.stdout.splitlines())}
    assert sorted(answers) == [0, 1, 2], done.stderr.decode()
    assert text(answers[1])["task"]["description"] == "Piped in"
    assert done.returncode == 0 and done.stderr == b""


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_signal_while_idle_ends_the_server_with_0(tmp_path, signum):
    proc = start(server_env(tmp_path))
    proc.stdin.write(lines(INITIALIZE, INITIALIZED))
    proc.stdin.flush()
    assert answer(proc)["id"] == 0
    proc.send_signal(signum)
    assert proc.wait(timeout=EXIT_TIMEOUT_S) == 0
    assert proc.stdout.read() == b"" and proc.stderr.read() == b""
    proc.stdin.close()


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_signal_during_a_call_answers_it_then_ends_the_server(tmp_path, signum):
    env = server_env(tmp_path)
    store = Path(env["TASKDATA"])
    store.mkdir(parents=True)
    proc = start(env)
    proc.stdin.write(lines(INITIALIZE, INITIALIZED, call(1, "task_count")))  # the store is open after it
    proc.stdin.flush()
    assert [answer(proc)["id"] for _ in range(2)] == [0, 1]
    with FileLock(str(store / ".lock")):  # the write waits for this lock: the call is running
        proc.stdin.write(lines(call(2, "task_add", description="Written after the signal")))
        proc.stdin.flush()
        wait_until_it_waits_for(proc.pid, store / ".lock")
        proc.send_signal(signum)
    assert text(answer(proc))["task"]["description"] == "Written after the signal"
    assert proc.wait(timeout=EXIT_TIMEOUT_S) == 0
    assert proc.stderr.read() == b""
    proc.stdin.close()


def wait_until_it_waits_for(pid: int, lock: Path) -> None:
    """Until process `pid` has `lock` open (it is trying to take it); bounded generously: on a
    loaded machine the call can take many seconds to reach the lock.

    filelock polls: it opens the file, fails to lock it, closes it and sleeps 50 ms, so the
    file is open only for microseconds at a time; the scan runs without sleeping to see it.
    """
    deadline = time.monotonic() + 120
    fds = Path(f"/proc/{pid}/fd")
    while not any(_points_to(fd, lock) for fd in fds.iterdir()):
        assert time.monotonic() < deadline, "the server never tried to take the store lock"


def _points_to(fd: Path, target: Path) -> bool:
    try:
        return os.readlink(fd) == str(target)
    except OSError:
        return False
