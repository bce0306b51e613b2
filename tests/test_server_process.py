"""The server's process life: end-of-file and SIGINT/SIGTERM answer every request received, then exit.

Raw JSON-RPC lines over a pipe, as `docker run -i` or a shell pipeline sends them; every wait
is bounded and no test asserts a duration.
"""

from __future__ import annotations

import ctypes
import json
import os
import select
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from filelock import FileLock

from backlog.store.store import Store
from tests.conftest import REPO
from tests.server_support import server_env

EXIT_TIMEOUT_S = 60
IN_OPEN = 0x20  # <sys/inotify.h>
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


IMPORT_GATE = """
import os, sys, time

class Gate:
    \"\"\"Holds the first import of anyio (the SDK's first module) until the file GATE names exists.\"\"\"
    def find_spec(self, name, path=None, target=None):
        if name == "anyio":
            sys.meta_path.remove(self)
            while not os.path.exists(os.environ["GATE"]):
                time.sleep(0.01)
        return None

sys.meta_path.insert(0, Gate())
"""


def start_with_the_sdk_import_held(tmp_path: Path) -> tuple[subprocess.Popen, Path]:
    """A server whose SDK import waits for a file: the handshake is answered early meanwhile."""
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(IMPORT_GATE)
    gate = tmp_path / "gate"
    env = server_env(tmp_path, GATE=str(gate))
    env["PYTHONPATH"] = os.pathsep.join([str(site), env["PYTHONPATH"]])
    return start(env), gate


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_signal_before_the_sdk_is_imported_ends_the_server_at_once_when_nothing_waits(tmp_path, signum):
    """As PID 1 in a container `podman stop` allows 2 s; the SDK import may take longer."""
    proc, gate = start_with_the_sdk_import_held(tmp_path)
    proc.stdin.write(lines(INITIALIZE, INITIALIZED))
    proc.stdin.flush()
    assert answer(proc)["id"] == 0  # answered early: the handlers are in place, the import is held
    proc.send_signal(signum)
    try:
        assert proc.wait(timeout=EXIT_TIMEOUT_S) == 0
    finally:
        gate.touch()
    assert proc.stdout.read() == b"" and proc.stderr.read() == b""
    proc.stdin.close()


def test_a_signal_before_the_sdk_is_imported_still_answers_a_waiting_request(tmp_path):
    proc, gate = start_with_the_sdk_import_held(tmp_path)
    ping = {"jsonrpc": "2.0", "id": 2, "method": "ping"}  # answered early, once the call before it is read
    proc.stdin.write(lines(INITIALIZE, INITIALIZED, call(1, "task_add", description="Sent before the signal"), ping))
    proc.stdin.flush()
    assert [answer(proc)["id"] for _ in range(2)] == [0, 2]
    proc.send_signal(signal.SIGTERM)
    with pytest.raises(subprocess.TimeoutExpired):  # it waits to answer call 1
        proc.wait(timeout=1)
    gate.touch()
    assert text(answer(proc))["task"]["description"] == "Sent before the signal"
    assert proc.wait(timeout=EXIT_TIMEOUT_S) == 0
    assert proc.stderr.read() == b""
    proc.stdin.close()


def wait_until_it_waits_for(pid: int, lock: Path) -> None:
    """Until some process opens `lock` (the server trying to take it: nothing else touches the
    store), seen by inotify rather than by polling: filelock holds the file open only for
    microseconds between its 50 ms sleeps. Bounded generously for a loaded machine."""
    libc = ctypes.CDLL(None, use_errno=True)
    watcher = libc.inotify_init1(os.O_CLOEXEC)
    assert watcher >= 0, os.strerror(ctypes.get_errno())
    try:
        assert libc.inotify_add_watch(watcher, str(lock).encode(), IN_OPEN) >= 0, os.strerror(ctypes.get_errno())
        readable, _, _ = select.select([watcher], [], [], 120)
        assert readable, f"the server (pid {pid}) never tried to take the store lock"
    finally:
        os.close(watcher)


@pytest.mark.wallclock  # the 10 s grace is a timed wait: it needs real time to pass
def test_a_call_still_running_10_s_after_the_signal_is_abandoned_and_the_exit_says_so(tmp_path):
    env = server_env(tmp_path)
    store = Path(env["TASKDATA"])
    store.mkdir(parents=True)
    proc = start(env)
    proc.stdin.write(lines(INITIALIZE, INITIALIZED, call(1, "task_count")))
    proc.stdin.flush()
    assert [answer(proc)["id"] for _ in range(2)] == [0, 1]
    with FileLock(str(store / ".lock")):  # held past the grace period: the call cannot finish
        proc.stdin.write(lines(call(2, "task_add", description="Never acknowledged")))
        proc.stdin.flush()
        wait_until_it_waits_for(proc.pid, store / ".lock")
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=EXIT_TIMEOUT_S) == 1
    assert proc.stdout.read() == b"", "no answer for the abandoned call"
    assert proc.stderr.read().decode() == "backlog: 1 call(s) still running 10 s after SIGTERM; abandoned\n"
    proc.stdin.close()
    listed = subprocess.run([sys.executable, "-m", "backlog", "count"], capture_output=True, env=env, cwd=REPO, timeout=EXIT_TIMEOUT_S)
    assert listed.stdout.strip() == b"0", "the store is whole and holds nothing unacknowledged"


def test_a_request_the_sdk_cannot_read_is_answered_with_an_error_and_the_server_goes_on(tmp_path):
    """The SDK's reader answers nothing to a line its parser refuses (the client would wait for
    its timeout): a request with an id gets a JSON-RPC error, the next call its answer."""
    env = server_env(tmp_path)
    proc = start(env)
    surrogate = call(1, "task_add", description="bad \ud800 text")  # json.dumps writes the escape "\ud800"
    shapeless = {"jsonrpc": "2.0", "id": "two", "method": "tools/call", "params": 7}
    proc.stdin.write(lines(INITIALIZE, INITIALIZED, surrogate, shapeless)
                     + b'{"jsonrpc": "2.0", "method": "notifications/x", "params": 7}\n\n{not json\n'
                     + lines(call(3, "task_add", description="Kept")))
    proc.stdin.close()
    answers = {}
    for raw in proc.stdout:
        message = json.loads(raw)
        answers[message["id"]] = message
    assert proc.wait(timeout=EXIT_TIMEOUT_S) == 0
    assert sorted(answers, key=str) == [0, 1, 3, "two"]  # nothing for the notification, the blank line or the garbage
    assert answers[1]["error"] == {"code": -32602, "message": "params: holds U+D800, which is not a character "
                                   "(half of a surrogate pair); send the text as UTF-8"}
    assert answers["two"]["error"]["code"] == -32600
    assert answers["two"]["error"]["message"].startswith("request: cannot be read (")
    assert text(answers[3])["task"]["description"] == "Kept"
    assert [t["description"] for t in Store.open(Path(env["TASKDATA"])).tasks.values()] == ["Kept"]
