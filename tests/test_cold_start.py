"""The launcher's cold-start stand-in (hooks/cold_start.py) over raw JSON-RPC lines.

The stand-in runs on a bare interpreter (`-I -S`: no site-packages, as on a machine with only
python3); its `LAUNCHER --prepare` is a small script that builds nothing but waits for the test
to say "go" (or "fail"), then names an environment whose `bin/backlog` runs this repository's
real server. Every wait is bounded; no test asserts a duration.
"""

from __future__ import annotations

import json
import queue
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from backlog.mcp.handshake import SHIPPED, live_answers
from tests.conftest import REPO
from tests.server_support import server_env

COLD_START = REPO / "hooks" / "cold_start.py"
WAIT_S = 120
INITIALIZED = {"jsonrpc": "2.0", "method": "notifications/initialized"}


def initialize(version: str = "2025-11-25") -> dict:
    return {"jsonrpc": "2.0", "id": 0, "method": "initialize",
            "params": {"protocolVersion": version, "capabilities": {}, "clientInfo": {"name": "claude-code", "version": "2"}}}


def call(request_id: int, tool: str, token: str | None = None, **arguments: object) -> dict:
    params = {"name": tool, "arguments": arguments}
    if token is not None:
        params["_meta"] = {"progressToken": token}
    return {"jsonrpc": "2.0", "id": request_id, "method": "tools/call", "params": params}


def cancel(request_id: int) -> dict:
    return {"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": request_id}}


class Proxy:
    """The stand-in as Claude Code starts it, with the build under the test's control."""

    def __init__(self, tmp_path: Path) -> None:
        self.go = tmp_path / "go"
        self.log = tmp_path / "install.log"
        self.env = server_env(tmp_path)
        venv = tmp_path / "venv"
        (venv / "bin").mkdir(parents=True)
        backlog = venv / "bin" / "backlog"
        backlog.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m backlog "$@"\n')
        backlog.chmod(0o755)
        launcher = tmp_path / "launch"
        launcher.write_text(f'#!/bin/sh\n[ "$1" = --prepare ] || exit 2\n'
                            f'while [ ! -f "{self.go}" ]; do sleep 0.1; done\n'
                            f'[ "$(cat "{self.go}")" = go ] || exit 1\necho "{venv}"\n')
        self.proc = subprocess.Popen([sys.executable, "-I", "-S", str(COLD_START), str(launcher), str(self.log)],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     env=self.env, cwd=tmp_path)
        self.messages: queue.Queue = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            self.messages.put(json.loads(line))
        self.messages.put(None)

    def send(self, *messages: dict) -> None:
        self.proc.stdin.write(b"".join(json.dumps(m).encode() + b"\n" for m in messages))
        self.proc.stdin.flush()

    def build(self, outcome: str = "go") -> None:
        self.go.write_text(outcome)

    def next(self) -> dict:
        message = self.messages.get(timeout=WAIT_S)
        assert message is not None, f"the stand-in ended: {self.proc.stderr.read().decode()}"
        return message

    def answers(self, count: int) -> dict:
        """The next `count` answers by id (notifications skipped)."""
        found = {}
        while len(found) < count:
            message = self.next()
            if "id" in message:
                found[message["id"]] = message
        return found

    def rest(self) -> list[dict]:
        """Everything until the stand-in ends; then its exit code is checked by the caller."""
        self.proc.stdin.close()
        out = []
        while (message := self.messages.get(timeout=WAIT_S)) is not None:
            out.append(message)
        return out

    def exit_code(self) -> int:
        return self.proc.wait(timeout=WAIT_S)


@pytest.fixture
def proxy(tmp_path):
    started = Proxy(tmp_path)
    yield started
    if started.proc.poll() is None:
        started.proc.kill()
        started.proc.wait()
    if not started.go.exists():
        started.build("fail")  # the stand-in's build outlives it (as a real install should): end it


def text(answer: dict) -> str:
    return answer["result"]["content"][0]["text"]


def test_the_shipped_handshake_is_the_live_servers_byte_for_byte():
    check = subprocess.run([sys.executable, "-m", "backlog.mcp.handshake", "--check"], capture_output=True,
                           text=True, cwd=REPO, timeout=WAIT_S)
    assert check.returncode == 0, check.stderr


@pytest.mark.parametrize("version", ["2024-11-05", "2025-06-18", "2025-11-25", "2099-01-01"])
def test_probe_handshake_tools_and_ping_answer_at_once_as_the_real_server_would(proxy, version):
    probe = {"jsonrpc": "2.0", "id": "probe", "method": "server/discover",
             "params": {"_meta": {"io.modelcontextprotocol/protocolVersion": "2026-07-28"}}}
    proxy.send(probe, initialize(version), INITIALIZED, {"jsonrpc": "2.0", "id": 1, "method": "tools/list"},
               {"jsonrpc": "2.0", "id": 2, "method": "ping"})
    answers = proxy.answers(4)  # the build has not even been allowed to finish
    initialized, tools, refused = live_answers(version)
    assert answers["probe"]["error"] == refused, "Claude Code's probe refused at once: it falls back to initialize"
    assert answers[0]["result"] == initialized
    assert answers[1]["result"] == tools and len(tools["tools"]) == 27
    assert answers[2]["result"] == {}
    assert not proxy.go.exists()


def test_held_calls_reach_the_real_server_once_it_is_built(proxy):
    proxy.send(initialize(), INITIALIZED, call(1, "task_add", description="Held until ready"),
               {"jsonrpc": "2.0", "id": 2, "method": "ping"})
    assert sorted(proxy.answers(2)) == [0, 2], "the ping is answered while the call is held"
    proxy.build()
    added = proxy.answers(1)[1]
    assert json.loads(text(added))["task"]["description"] == "Held until ready"
    proxy.send(call(3, "task_list"))
    listed = proxy.answers(1)[3]
    assert [t["description"] for t in json.loads(text(listed))["tasks"]] == ["Held until ready"]
    assert proxy.rest() == [] and proxy.exit_code() == 0


def test_a_cancelled_held_call_is_dropped_unanswered(proxy):
    proxy.send(initialize(), INITIALIZED, call(1, "task_add", description="Cancelled"), cancel(1),
               call(2, "task_add", description="Kept"))
    assert list(proxy.answers(1)) == [0]
    proxy.build()
    assert list(proxy.answers(1)) == [2]
    proxy.send(call(3, "task_list"))
    listed = proxy.answers(1)[3]
    assert [t["description"] for t in json.loads(text(listed))["tasks"]] == ["Kept"]
    assert proxy.rest() == [] and proxy.exit_code() == 0


def test_a_failed_build_answers_every_call_with_one_line_naming_the_log(proxy):
    proxy.send(initialize(), INITIALIZED, call(1, "task_list"))
    assert list(proxy.answers(1)) == [0]
    proxy.build("fail")
    held = proxy.answers(1)[1]
    assert held["result"]["isError"] and str(proxy.log) in text(held) and "\n" not in text(held)
    proxy.send(call(2, "task_count"), {"jsonrpc": "2.0", "id": 3, "method": "tools/list"})
    later = proxy.answers(2)
    assert later[2]["result"]["isError"] and str(proxy.log) in text(later[2])
    assert len(later[3]["result"]["tools"]) == 27, "the tools stay listed"
    assert proxy.rest() == [] and proxy.exit_code() == 1
    assert proxy.proc.stderr.read().decode() == f"backlog: {text(held)}\n"


def test_end_of_file_while_holding_still_answers_what_was_received(proxy):
    proxy.send(initialize(), INITIALIZED, call(1, "task_add", description="Sent before end-of-file"))
    proxy.proc.stdin.close()
    assert list(proxy.answers(1)) == [0]
    proxy.build()
    rest = [m for m in iter(lambda: proxy.messages.get(timeout=WAIT_S), None)]
    assert [m["id"] for m in rest] == [1]
    assert json.loads(text(rest[0]))["task"]["description"] == "Sent before end-of-file"
    assert proxy.exit_code() == 0


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_signal_while_holding_answers_the_held_calls_and_exits_0(proxy, signum):
    proxy.send(initialize(), INITIALIZED, call(1, "task_add", description="Never written"),
               {"jsonrpc": "2.0", "id": 2, "method": "ping"})
    assert sorted(proxy.answers(2)) == [0, 2]  # the held call has been read
    proxy.proc.send_signal(signum)
    held = proxy.answers(1)[1]
    assert held["result"]["isError"] and "nothing was changed" in text(held)
    assert proxy.exit_code() == 0 and proxy.proc.stderr.read() == b""


def test_a_signal_after_the_handover_reaches_the_real_server(proxy):
    proxy.send(initialize(), INITIALIZED, call(1, "task_count"))
    proxy.build()
    assert sorted(proxy.answers(2)) == [0, 1]
    proxy.proc.send_signal(signal.SIGTERM)
    assert proxy.exit_code() == 0


@pytest.mark.wallclock  # the first beat comes after PROGRESS_EVERY_S of real time
def test_progress_goes_only_to_held_calls_that_asked_for_it(proxy):
    proxy.send(initialize(), INITIALIZED, call(1, "task_count", token="tok-1"), call(2, "task_count"))
    assert list(proxy.answers(1)) == [0]
    progress = proxy.next()  # the first beat, a few seconds in
    assert progress["method"] == "notifications/progress"
    assert progress["params"]["progressToken"] == "tok-1"
    proxy.build()
    after = [m for m in [proxy.next(), proxy.next()] if "id" not in m]
    assert all(m["params"]["progressToken"] == "tok-1" for m in after)


def test_the_stand_in_is_the_launchers_cold_serve_path():
    launcher = (REPO / "hooks" / "launch").read_text()
    assert 'exec "$py" "$root/hooks/cold_start.py" "$0" "$log"' in launcher
    assert SHIPPED == REPO / "server" / "backlog" / "mcp" / "handshake.json" and SHIPPED.exists()


def test_claude_codes_own_first_messages_get_the_handshake_era_at_once(proxy):
    """Claude Code 2.1.330 sends its stateless-protocol probe and `initialize` back to back (the
    fixture is its exact first two lines): the probe is refused as a server in the handshake era
    refuses it, so the client goes on with `initialize`, which is answered from the shipped copy."""
    first = (REPO / "tests" / "fixtures" / "claude_code_2.1.330_first_messages.jsonl").read_bytes()
    proxy.proc.stdin.write(first)
    proxy.proc.stdin.flush()
    answers = proxy.answers(2)
    shipped = json.loads(SHIPPED.read_text())
    assert answers["server-discover-probe-1"]["error"] == shipped["server/discover"]
    assert answers[0]["result"] == {**shipped["initialize"], "protocolVersion": "2025-11-25"}
