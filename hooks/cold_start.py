"""The MCP server's stand-in while the plugin's environment is built (the launcher's cold start).

    python3 cold_start.py LAUNCHER LOG

Claude Code waits only a few seconds for a server's tools; building the environment takes
longer. So this stdlib-only proxy (any python3 from 3.7 on) answers `initialize`, `tools/list`,
`ping` and the `server/discover` probe at once from the shipped copy of the real server's
answers (`backlog.mcp.early.answer`, imported from the plugin's own `server/`), holds every
other message, and meanwhile runs `LAUNCHER --prepare` (which builds the environment and prints
its path). Then it starts the real server, replays the client's handshake, forwards the held
messages in order, and relays both ways until the server ends.

While holding: a `notifications/cancelled` drops its held request (no answer, as MCP says);
a held call carrying a `progressToken` gets progress notifications; if the build fails, every
held and later tool call answers one `isError` line naming LOG (and stderr says it once; the exit
code at end-of-file is 1); SIGINT/SIGTERM answer the held
calls with one line and exit 0; end-of-file waits for the build, then lets the real server
answer everything received. Once the server runs, signals are passed on and its exit code is ours.
"""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "server"))
from backlog.mcp.early import ANSWERED_EARLY, answer, load_shipped  # noqa: E402 - standard library only

REPLAY_ID = "backlog-cold-start-initialize"
PROGRESS_EVERY_S = 5.0


class ColdStart:
    """One client connection: holding, then relaying to the real server (or failed)."""

    def __init__(self, launcher: str, log: str, shipped: dict) -> None:
        self.launcher, self.log, self.shipped = launcher, log, shipped
        self.state = threading.RLock()  # guards the fields below
        self.out = threading.Lock()  # one message at a time on stdout
        self.held: list[dict] = []
        self.handshake: list[dict] = []  # the client's initialize and initialized, for the replay
        self.server: subprocess.Popen | None = None
        self.failed = False
        self.settled = threading.Event()  # the server runs, or the build failed

    # -- talking to the client --------------------------------------------------------------

    def send(self, message: dict) -> None:
        self.write(json.dumps(message, ensure_ascii=False).encode() + b"\n")

    def write(self, line: bytes) -> None:
        with self.out:
            sys.stdout.buffer.write(line)
            sys.stdout.buffer.flush()

    def answer_here(self, message: dict) -> None:
        if message["method"] == "initialize":
            self.handshake.append(message)
        self.send(answer(message, self.shipped))

    def refuse(self, message: dict, text: str) -> None:
        """Answer a held request: a tool call gets an isError result, anything else an error."""
        if "id" not in message or "method" not in message:
            return  # a notification, or the client's answer to a server request: nothing to say
        if message["method"] == "tools/call":
            self.send({"jsonrpc": "2.0", "id": message["id"],
                       "result": {"content": [{"type": "text", "text": text}], "isError": True}})
        else:
            self.send({"jsonrpc": "2.0", "id": message["id"], "error": {"code": -32603, "message": text}})

    # -- the client's messages ---------------------------------------------------------------

    def receive(self, message: dict) -> None:
        with self.state:
            if self.server is not None:
                self.forward(message)
            elif message.get("method") in ANSWERED_EARLY and "id" in message:
                self.answer_here(message)
            elif self.failed:
                self.refuse(message, self.failure_line())
            elif message.get("method") == "notifications/initialized":
                self.handshake.append(message)
            elif message.get("method") == "notifications/cancelled":
                cancelled = (message.get("params") or {}).get("requestId")
                self.held = [m for m in self.held if m.get("id") != cancelled or "method" not in m]
            else:
                self.held.append(message)

    def forward(self, message: dict) -> None:
        try:
            self.server.stdin.write(json.dumps(message, ensure_ascii=False).encode() + b"\n")
            self.server.stdin.flush()
        except (BrokenPipeError, OSError):
            pass  # the server ended; its exit ends us

    def end_of_input(self) -> None:
        """End-of-file from the client: once settled, close the server's input (it answers what it has)."""
        self.settled.wait()
        with self.state:
            if self.server is not None:
                self.server.stdin.close()
        if self.failed:
            os._exit(1)

    # -- the environment and the real server -------------------------------------------------

    def build(self) -> None:
        """Run the launcher's build; then start the real server, or fail every held call."""
        done = subprocess.run(["sh", self.launcher, "--prepare"], stdin=subprocess.DEVNULL,
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        venv = done.stdout.decode(errors="replace").strip()
        backlog = os.path.join(venv, "bin", "backlog")
        with self.state:
            if done.returncode == 0 and venv and os.access(backlog, os.X_OK):
                self.start(backlog)
            else:
                self.failed = True
                print(f"backlog: {self.failure_line()}", file=sys.stderr, flush=True)
                for message in self.held:
                    self.refuse(message, self.failure_line())
                self.held = []
            self.settled.set()

    def start(self, backlog: str) -> None:
        self.server = subprocess.Popen([backlog, "serve"], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        threading.Thread(target=self.relay, daemon=True).start()
        for message in self.handshake:
            self.forward({**message, "id": REPLAY_ID} if "id" in message else message)
        for message in self.held:
            self.forward(message)
        self.held = []

    def relay(self) -> None:
        """The server's output to the client (its answer to the replayed handshake kept back); its exit is ours."""
        for line in self.server.stdout:
            try:
                if json.loads(line).get("id") == REPLAY_ID:
                    continue
            except (ValueError, AttributeError):
                pass  # not ours to judge: pass it on
            self.write(line)
        code = self.server.wait()
        os._exit(code if code >= 0 else 128 - code)  # killed by signal N: 128 + N, as a shell says

    def failure_line(self) -> str:
        return f"backlog could not set up its Python environment, so its tools are unavailable; see {self.log}"

    def report_progress(self) -> None:
        """Every few seconds while holding: progress for each held call that asked for it."""
        beat = 0
        while not self.settled.wait(PROGRESS_EVERY_S):
            beat += 1
            with self.state:
                for message in self.held:
                    token = ((message.get("params") or {}).get("_meta") or {}).get("progressToken")
                    if token is not None and not self.settled.is_set():
                        self.send({"jsonrpc": "2.0", "method": "notifications/progress",
                                   "params": {"progressToken": token, "progress": beat,
                                              "message": "backlog is setting up its Python environment"}})

    def on_signal(self, signum: int, _frame: object) -> None:
        """SIGINT/SIGTERM: handled on a thread of its own, since the handler may interrupt a write."""
        threading.Thread(target=self.stop, args=(signum,), daemon=True).start()

    def stop(self, signum: int) -> None:
        """Pass the signal to the real server, or answer what is held and exit."""
        with self.state:
            if self.server is not None:
                self.server.send_signal(signum)
                return
            for message in self.held:
                self.refuse(message, "backlog stopped before its Python environment was ready; nothing was changed")
            os._exit(0)


def lines(fd: int) -> Iterator[bytes]:
    """The lines read from `fd` until end-of-file. The wait is a select that also watches the
    signal wakeup pipe: the kernel may hand SIGINT/SIGTERM to any thread, and only a main thread
    that wakes up runs Python's handlers."""
    wake_read, wake_write = os.pipe()
    for end in (wake_read, wake_write):
        os.set_blocking(end, False)
    signal.set_wakeup_fd(wake_write)
    pending = b""
    while True:
        ready, _, _ = select.select([fd, wake_read], [], [])
        if wake_read in ready:
            os.read(wake_read, 512)  # the handlers run as this frame goes on
        if fd in ready:
            chunk = os.read(fd, 1 << 16)
            if not chunk:
                break
            *complete, pending = (pending + chunk).split(b"\n")
            yield from complete
    if pending:
        yield pending


def main(launcher: str, log: str) -> None:
    proxy = ColdStart(launcher, log, load_shipped())
    signal.signal(signal.SIGINT, proxy.on_signal)
    signal.signal(signal.SIGTERM, proxy.on_signal)
    threading.Thread(target=proxy.build, daemon=True).start()
    threading.Thread(target=proxy.report_progress, daemon=True).start()
    for line in lines(sys.stdin.fileno()):
        try:
            message = json.loads(line)
        except ValueError:
            message = None
        if isinstance(message, dict):
            proxy.receive(message)
        elif line.strip():
            proxy.send(  # what the real server would answer to a line that is not JSON-RPC
                {"jsonrpc": "2.0", "id": None, "error": {"code": -32700, "message": "Parse error"}})
    proxy.end_of_input()
    threading.Event().wait()  # the relay ends the process when the server exits


if __name__ == "__main__":
    main(*sys.argv[1:3])
