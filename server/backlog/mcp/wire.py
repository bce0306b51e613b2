"""Tool answers encoded once, by orjson, straight into the JSON-RPC line (issue 14: big answers).

Through the SDK, a `CallToolResult` is copied into plain dicts (`model_dump`), checked and
copied again (the result sieve), serialized by pydantic to a str, copied with its newline and
encoded. Here a tool answers a stand-in instead
(`Wire.hold`: a one-member `structuredContent` naming the held result, and a short text), which
the SDK's pipeline copies for nothing; when its JSON-RPC answer reaches our write stream
(`backlog.mcp.stdio.Answers`), `Wire.line` puts the result back: the result object as orjson
bytes once, written verbatim as `structuredContent` and, escaped, as the text content, beside
whatever else the SDK put in the answer (`isError`, `_meta`, …), in parts straight to the
client's pipe (`backlog.mcp.stdio.WireOut`): no str of the whole line, no encoded copy of it.
The answer on the wire is the same JSON the SDK would have written. At 100k tasks a `limit=0`
list (75k rows, 10 MB of JSON) cost ~190 MB and 3.7 s of CPU through the SDK, ~30 MB and 1.3 s here.

A held result is taken when its answer is written. A cancelled call's answer is never written:
its result is dropped once it was held STALE_S (no live call waits that long for its answer to
be written), so at most that long's cancelled results are kept, and no count of calls in flight
can push a live result out.
"""

from __future__ import annotations

import itertools
import threading
import time
from typing import Any, Callable

import orjson
from mcp.types import CallToolResult, JSONRPCResponse, TextContent

MARK = "backlog:held"
STALE_S = 600.0


class Wire:
    """Results held by the tools until their answers are written; `clock` is monotonic seconds."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._held: dict[int, tuple[float, dict]] = {}  # in the order held: the oldest first
        self._numbers = itertools.count()
        self._lock = threading.Lock()  # tools hold on worker threads, answers are written on the loop's
        self._clock = clock

    def hold(self, result: dict) -> CallToolResult:
        """The stand-in the SDK carries for `result` (taken back by `line`)."""
        now = self._clock()
        with self._lock:
            while self._held:
                oldest = next(iter(self._held))
                if now - self._held[oldest][0] <= STALE_S:
                    break
                del self._held[oldest]
            number = next(self._numbers)
            self._held[number] = (now, result)
        return CallToolResult(content=[TextContent(type="text", text=MARK)], structured_content={MARK: number})

    def line(self, message: Any) -> Encoded | None:
        """The answer `message` with its held result put back, or None when it holds none."""
        if not isinstance(message, JSONRPCResponse) or not isinstance(message.result, dict):
            return None
        stand_in = message.result.get("structuredContent")
        if not isinstance(stand_in, dict) or len(stand_in) != 1 or MARK not in stand_in:
            return None
        with self._lock:
            held = self._held.pop(stand_in[MARK], None)
        return None if held is None else Encoded(message.id, message.result, held[1])


class Encoded:
    """A JSON-RPC answer for the SDK's stdio writer, which asks it for `model_dump_json` once."""

    def __init__(self, request_id: Any, envelope: dict, result: dict) -> None:
        self.id, self._envelope, self._result = request_id, envelope, result

    def model_dump_json(self, **_: Any) -> Line:
        """The answer's line as byte parts: the result object serialized once and let go of first,
        then its text form made from those bytes (orjson's compact output has no raw control
        characters: as a JSON string it needs only backslashes and quotes escaped)."""
        body, self._result = orjson.dumps(self._result), None
        text = body.replace(b"\\", b"\\\\").replace(b'"', b'\\"')
        rest = orjson.dumps({k: v for k, v in self._envelope.items() if k not in ("content", "structuredContent")})
        head = orjson.dumps({"jsonrpc": "2.0", "id": self.id})[:-1]
        return Line([head, b',"result":{"content":[{"type":"text","text":"', text, b'"}],"structuredContent":',
                     body, b"," + rest[1:] + b"}" if len(rest) > 2 else b"}}"])


class Line:
    """A line to write as the byte parts it is made of (`backlog.mcp.stdio.WireOut` writes them one
    after the other: no copy of the whole); the SDK's writer appends the newline with `+`."""

    def __init__(self, parts: list[bytes]) -> None:
        self.parts = parts

    def __add__(self, end: str) -> Line:
        return Line([*self.parts, end.encode()])
