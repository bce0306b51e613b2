"""The MCP server on stdio with a clean process life (SIGINT, SIGTERM, end-of-file).

The SDK's own stdio loop cancels the calls still running when stdin ends (a `tools/call`
piped in right before end-of-file is never answered) and leaves SIGINT to Python. Here:
- stdin is read by a daemon thread from the process's start (`backlog.mcp.early`: the handshake is
  answered before the SDK is even imported), so a read that never returns cannot hold the process;
- on SIGINT or SIGTERM reading stops at once; at end-of-file, or after such a signal, the
  SDK sees its read stream end only once every request received has been answered (a
  cancelled request needs no answer), so the SDK flushes every answer and returns;
- a call still running GRACE_S after that point is abandoned: the process exits 1 with one
  line on stderr (the store's journal makes an interrupted write safe);
- answers go out through `WireOut`, which writes the answers `backlog.mcp.wire` encoded as
  their byte parts (the SDK's own stdout would want one str of the whole line).
A signal ends the process with 0 when nothing was abandoned, the same as PID 1 in a container.
"""

from __future__ import annotations

import fcntl
import json
import math
import os
import signal
import sys
import threading
from collections import deque
from contextlib import suppress
from typing import Any, BinaryIO

import anyio
import anyio.from_thread
import anyio.lowlevel
import anyio.to_thread
from mcp.server.lowlevel import Server
from mcp.server.stdio import stdio_server
from mcp.shared.message import SessionMessage
from mcp_types import INVALID_PARAMS, INVALID_REQUEST, ErrorData, JSONRPCError, JSONRPCNotification, JSONRPCRequest, JSONRPCResponse

from backlog.mcp.early import EarlyStdin
from backlog.mcp.wire import Line, Wire

GRACE_S = 10.0


async def run_stdio(server: Server, early: EarlyStdin, wire: Wire | None = None) -> None:
    """Serve `server` on stdin/stdout until end-of-file or SIGINT/SIGTERM, answering every request
    received (but the handshake `early` answered already); answers holding a result for `wire`
    are written by it."""
    inflight = InFlight()
    lines = StdinLines(inflight, early)
    out = WireOut.claim()
    try:
        async with anyio.create_task_group() as tg:
            tg.start_soon(_stop_on_signal, lines, early)
            async with stdio_server(stdin=lines, stdout=out) as (read, write):  # type: ignore[arg-type]
                answers = Answers(write, inflight, early, wire)
                await server.run(HeldReads(read, inflight, lines, answers), answers,
                                 server.create_initialization_options())
            tg.cancel_scope.cancel()
    finally:
        out.restore()


async def _stop_on_signal(lines: StdinLines, early: EarlyStdin) -> None:
    with anyio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
        if early.signalled:  # it came after the hand-over, before this receiver
            lines.stop(early.signalled)
        async for signum in signals:
            lines.stop(signal.Signals(signum).name)


class InFlight:
    """Ids of the requests received and not answered yet; starts the abandon timer on closing."""

    def __init__(self) -> None:
        self.ids: set[Any] = set()
        self.idle = anyio.Event()
        self.idle.set()
        self.closing = False

    def received(self, message: Any) -> None:
        if isinstance(message, JSONRPCRequest):
            self.ids.add(message.id)
            if self.idle.is_set():
                self.idle = anyio.Event()
        elif isinstance(message, JSONRPCNotification) and message.method == "notifications/cancelled":
            self._settle((message.params or {}).get("requestId"))

    def answered(self, message: Any) -> None:
        if isinstance(message, (JSONRPCResponse, JSONRPCError)):
            self._settle(message.id)

    def _settle(self, request_id: Any) -> None:
        self.ids.discard(request_id)
        if not self.ids:
            self.idle.set()

    def close(self, why: str) -> None:
        """Reading is over (`why`): abandon whatever still runs GRACE_S from now."""
        if self.closing:
            return
        self.closing = True
        timer = threading.Timer(GRACE_S, self._abandon, (why,))
        timer.daemon = True
        timer.start()

    def _abandon(self, why: str) -> None:
        print(f"backlog: {len(self.ids)} call(s) still running {GRACE_S:.0f} s after {why}; abandoned",
              file=sys.stderr, flush=True)
        os._exit(1)


class StdinLines:
    """stdin's lines for the SDK's stdio reader, taken from `EarlyStdin` by a daemon thread; `stop`
    ends them at once."""

    def __init__(self, inflight: InFlight, early: EarlyStdin) -> None:
        self.inflight, self.early = inflight, early
        # unbounded: the thread hands a line over without waiting, so no hand-over is left
        # pending in the event loop when a signal stops the reading
        self._send, self._receive = anyio.create_memory_object_stream[str](math.inf)
        self._scope: anyio.CancelScope | None = None
        self._stopped: str | None = None
        self._started = False
        self.given: deque[str] = deque()  # lines handed to the SDK whose message it has not passed on yet

    def _read(self, token: Any) -> None:
        try:
            for raw in self.early.lines():
                anyio.from_thread.run_sync(self._send.send_nowait, raw.decode("utf-8", "replace"), token=token)
            anyio.from_thread.run_sync(self._send.close, token=token)
        except BaseException:  # noqa: BLE001, S110 - the loop is gone or stopped reading: nothing to tell
            pass

    def _start(self) -> None:
        token = anyio.lowlevel.current_token()
        threading.Thread(target=self._read, args=(token,), name="backlog-lines", daemon=True).start()
        self._started = True

    def stop(self, why: str) -> None:
        """Read nothing more (a signal `why`)."""
        self._stopped = why
        if self._scope is not None:
            self._scope.cancel()

    def __aiter__(self) -> StdinLines:
        if not self._started:
            self._start()
        return self

    async def __anext__(self) -> str:
        if self._stopped is None:
            with anyio.CancelScope() as self._scope:
                try:
                    line = await self._receive.receive()
                    self.given.append(line)
                    return line
                except anyio.EndOfStream:
                    self._stopped = self.early.ended_by or "end-of-file"
        self.inflight.close(self._stopped or "a signal")
        raise StopAsyncIteration


class HeldReads:
    """The SDK's read stream, noting requests; its end waits until every request is answered.

    The SDK's reader passes on one item per line, in order: the message, or the exception its
    parser raised, after which it answers nothing. A request the standard library can read
    (an id, a method) is answered here with a JSON-RPC error instead of never (`refusal`).
    """

    def __init__(self, inner: Any, inflight: InFlight, lines: StdinLines, answers: Answers) -> None:
        self.inner, self.inflight, self.lines, self.answers = inner, inflight, lines, answers

    @property
    def last_context(self) -> Any:  # the SDK reads the sender's context from here
        return getattr(self.inner, "last_context", None)

    async def receive(self) -> Any:
        try:
            item = await self.inner.receive()
        except anyio.EndOfStream:
            await self.inflight.idle.wait()
            raise
        line = self.lines.given.popleft() if self.lines.given else None
        if isinstance(item, SessionMessage):
            self.inflight.received(item.message)
        elif isinstance(item, Exception) and line is not None:
            error = refusal(line, item)
            if error is not None:
                await self.answers.send(SessionMessage(error))
        return item

    def __aiter__(self) -> HeldReads:
        return self

    async def __anext__(self) -> Any:
        try:
            return await self.receive()
        except anyio.EndOfStream:
            raise StopAsyncIteration from None

    def close(self) -> None:
        self.inner.close()

    async def aclose(self) -> None:
        await self.inner.aclose()

    async def __aenter__(self) -> HeldReads:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()


def refusal(line: str, failure: Exception) -> JSONRPCError | None:
    """The error answer to a request the SDK could not read (`failure`), or None when `line` is
    not a request with an id even to the standard library (nothing to answer)."""
    try:
        message = json.loads(line)
    except ValueError:
        return None
    if not isinstance(message, dict) or "method" not in message:
        return None
    request_id = message.get("id")
    if isinstance(request_id, bool) or not isinstance(request_id, (str, int)):
        return None
    code = _lone_surrogate(message)
    if code is not None:
        error = ErrorData(code=INVALID_PARAMS, message=f"params: holds U+{code:04X}, which is not a character (half of a "
                                                       "surrogate pair); send the text as UTF-8")
    else:
        problem = str(failure).splitlines()[0] if str(failure) else type(failure).__name__
        error = ErrorData(code=INVALID_REQUEST, message=f"request: cannot be read ({problem}); check it against the MCP schema")
    return JSONRPCError(jsonrpc="2.0", id=request_id, error=error)


def _lone_surrogate(value: Any) -> int | None:
    """The code point of the first lone surrogate in the strings (keys too) of `value`, or None."""
    if isinstance(value, str):
        try:
            value.encode()
        except UnicodeEncodeError as err:
            return ord(value[err.start])
        return None
    parts = [*value, *value.values()] if isinstance(value, dict) else value if isinstance(value, list) else ()
    return next((code for code in map(_lone_surrogate, parts) if code is not None), None)


class WireOut:
    """The client's pipe for the SDK's stdio writer: its text lines are encoded, `Line`s (answers
    `Wire` encoded) are written as the byte parts they are. As the SDK's own stdout, fd 1 is
    moved to a private descriptor and pointed at stderr while serving, so a stray print cannot
    corrupt the protocol."""

    def __init__(self, pipe: BinaryIO, private: int | None) -> None:
        self.pipe, self.private = pipe, private

    @classmethod
    def claim(cls) -> WireOut:
        """fd 1 for the protocol alone (stdout's own buffer when it cannot be moved)."""
        sys.stdout.flush()
        try:
            private = fcntl.fcntl(1, fcntl.F_DUPFD_CLOEXEC, 3)
        except OSError:
            return cls(sys.stdout.buffer, None)
        try:
            os.dup2(2, 1)
        except OSError:
            os.close(private)
            return cls(sys.stdout.buffer, None)
        return cls(os.fdopen(private, "wb"), private)

    def restore(self) -> None:
        """fd 1 back on the client's pipe (what is written after serving reaches it again)."""
        if self.private is not None:
            with suppress(OSError):  # the client is gone: nothing reaches it any more
                self.pipe.flush()
            with suppress(OSError):
                os.dup2(self.private, 1)
            with suppress(OSError):
                self.pipe.close()  # and the private descriptor with it: nothing left to flush later
            self.private = None

    def _write(self, data: str | Line) -> None:
        if isinstance(data, Line):
            for part in data.parts:
                self.pipe.write(part)
        else:
            self.pipe.write(data.encode())

    async def write(self, data: str | Line) -> None:
        await anyio.to_thread.run_sync(self._write, data)

    async def flush(self) -> None:
        await anyio.to_thread.run_sync(self.pipe.flush)


class Answers:
    """The SDK's write stream, settling each request as its answer goes out; its answer to an
    `initialize` that `early` answered already is dropped; an answer holding a result for
    `wire` goes out as `wire` encodes it."""

    def __init__(self, inner: Any, inflight: InFlight, early: EarlyStdin, wire: Wire | None = None) -> None:
        self.inner, self.inflight, self.early, self.wire = inner, inflight, early, wire

    async def send(self, item: SessionMessage) -> None:
        message = item.message
        if not (isinstance(message, JSONRPCResponse) and self.early.consume_answer(message.id)):
            encoded = self.wire.line(message) if self.wire is not None else None
            await self.inner.send(item if encoded is None else SessionMessage(encoded, item.metadata))  # type: ignore[arg-type]
        self.inflight.answered(message)

    def close(self) -> None:
        self.inner.close()

    async def aclose(self) -> None:
        await self.inner.aclose()

    async def __aenter__(self) -> Answers:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()
