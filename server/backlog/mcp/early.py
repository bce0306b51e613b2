"""The handshake answered before the SDK is imported (standard library only, Python ≥ 3.7).

Claude Code gives a plugin's server one to two seconds on a loaded machine to list its tools
(bench/startup_window.py); importing the MCP SDK alone took 2.6–2.9 s there. So `backlog
serve` first starts `EarlyStdin`: a thread reads stdin and answers `initialize`, `tools/list`,
`ping` and the `server/discover` probe at once from the shipped copy of the server's own
answers (`handshake.json` beside this file, made by `backlog.mcp.handshake`; a test keeps it
byte for byte equal to the live server's), and queues every other line. When the SDK server
runs, it reads the queue (`lines`): the client's `initialize` first, so the SDK sets up its
session as usual, and then everything else in order; its own answer to that `initialize`
is dropped (`consume_answer`), since the client has had it. A SIGINT or SIGTERM that arrives
before the server reads ends the process at once (status 0) when no request waits for an
answer (as PID 1 in a container, `podman stop` allows 2 s, less than the import may take);
otherwise reading stops there (`ended_by`) and the server answers what came before it. One that
arrives after, but before the server's own handlers, is noted (`signalled`). The launcher's cold-start
stand-in (hooks/cold_start.py) answers from the same copy with `answer`.
"""

from __future__ import annotations

import json
import os
import queue
import signal
import sys
import threading
from pathlib import Path

SHIPPED = Path(__file__).resolve().with_name("handshake.json")
ANSWERED_EARLY = ("initialize", "tools/list", "ping", "server/discover")
_END = None  # the queue's end-of-file mark


def load_shipped() -> dict:
    """The shipped answers: handshake versions, `initialize`, `tools/list`, `server/discover`."""
    return json.loads(SHIPPED.read_text(encoding="utf-8"))


def answer(message: dict, shipped: dict) -> dict:
    """What the real server answers to one ANSWERED_EARLY request, from the shipped copy."""
    method, request_id = message["method"], message.get("id")
    if method == "server/discover":  # the stateless protocol's probe: refused, as the server does
        return {"jsonrpc": "2.0", "id": request_id, "error": shipped["server/discover"]}
    if method == "initialize":
        result = dict(shipped["initialize"])
        asked = (message.get("params") or {}).get("protocolVersion")
        result["protocolVersion"] = asked if asked in shipped["versions"] else shipped["versions"][-1]
    else:
        result = shipped["tools/list"] if method == "tools/list" else {}
    return {"jsonrpc": "2.0", "id": request_id, "result": result}


class EarlyStdin:
    """stdin read by a daemon thread from the start: the handshake answered at once, the rest queued.

    fd 0 is moved to a private descriptor and pointed at /dev/null, as the SDK does, so nothing
    else in the process reads the client's bytes.
    """

    def __init__(self, shipped: dict | None) -> None:
        self.shipped = shipped
        self.state = threading.Lock()  # guards handed_over and early_ids
        self.handed_over = False
        self.early_ids: set = set()  # ids of the initialize requests answered here (the SDK's answer is dropped)
        self.queue: queue.Queue = queue.Queue()
        self.ended_by: str | None = None  # the signal that ended the lines before the server read them
        self.signalled: str | None = None  # a signal caught after that, before the server's own handlers
        self.waiting = 0  # requests queued before the hand-over and not answered here

    def start(self) -> EarlyStdin:
        """Read stdin from now on, and note SIGINT/SIGTERM until the server takes them over."""
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, self._note_signal)
        wire = os.dup(0)
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        os.close(devnull)
        threading.Thread(target=self._read, args=(wire,), name="backlog-stdin", daemon=True).start()
        return self

    def _note_signal(self, signum: int, _frame: object) -> None:
        # no lock here: the interrupted main thread may hold one; before the hand-over it holds none
        name = signal.Signals(signum).name
        if self.handed_over:
            self.signalled = name
        elif not self.waiting:
            os._exit(0)  # nothing to answer and no tool has run: nothing to finish or release
        elif self.ended_by is None:
            self.ended_by = name
            self.queue.put(_END)  # lines after the signal are not read

    def _read(self, wire: int) -> None:
        with os.fdopen(wire, "rb") as stdin:
            try:
                for raw in stdin:
                    self._take(raw)
            finally:
                self.queue.put(_END)

    def _take(self, raw: bytes) -> None:
        with self.state:
            message = None if self.handed_over else _request(raw)
            if message is not None and self.shipped is not None and message["method"] in ANSWERED_EARLY:
                sys.stdout.buffer.write(json.dumps(answer(message, self.shipped), ensure_ascii=False,
                                                   separators=(",", ":")).encode() + b"\n")
                sys.stdout.buffer.flush()
                if message["method"] != "initialize":
                    return
                self.early_ids.add(message["id"])  # the SDK still needs it, to set up its session
            elif message is not None:
                self.waiting += 1
        self.queue.put(raw)

    def lines(self):
        """Every line received, in order, until end-of-file; from here on nothing is answered early."""
        with self.state:
            self.handed_over = True
        while True:
            raw = self.queue.get()
            if raw is _END:
                return
            yield raw

    def consume_answer(self, request_id: object) -> bool:
        """True (once) when the SDK's answer to `request_id` was already given here: drop it."""
        with self.state:
            if request_id in self.early_ids:
                self.early_ids.discard(request_id)
                return True
            return False


def _request(raw: bytes) -> dict | None:
    """`raw` as a JSON-RPC request (a dict with a method and an id), else None."""
    try:
        message = json.loads(raw)
    except ValueError:
        return None
    if isinstance(message, dict) and isinstance(message.get("method"), str) and "id" in message:
        return message
    return None
