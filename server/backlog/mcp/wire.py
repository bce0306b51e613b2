"""Tool answers encoded once, by orjson, straight into the JSON-RPC line (issue 14: big answers).

Through the SDK, a `CallToolResult` is copied into plain dicts (`model_dump`), checked and
copied again (the result sieve), then serialized by pydantic: a `limit=0` list of 75k rows
cost ~190 MB and twice the CPU of the engine call. Here a tool answers a stand-in instead
(`Wire.hold`: a one-member `structuredContent` naming the held result, and a short text), which
the SDK's pipeline copies for nothing; when its JSON-RPC answer reaches our write stream
(`backlog.mcp.stdio.Answers`), `Wire.line` puts the result back: the result object as orjson
bytes once, used verbatim as `structuredContent` (an `orjson.Fragment`) and, decoded, as the
text content, beside whatever else the SDK put in the answer (`isError`, `_meta`, …).
The answer on the wire is the same JSON the SDK would have written.

A held result is taken when its answer is written; one whose call was cancelled is never
written, so at most HELD results are kept (the oldest dropped).
"""

from __future__ import annotations

import itertools
from typing import Any

import orjson
from mcp.types import CallToolResult, JSONRPCResponse, TextContent

MARK = "backlog:held"
HELD = 64


class Wire:
    """Results held by the tools until their answers are written."""

    def __init__(self) -> None:
        self._held: dict[int, dict] = {}
        self._numbers = itertools.count()

    def hold(self, result: dict) -> CallToolResult:
        """The stand-in the SDK carries for `result` (taken back by `line`)."""
        number = next(self._numbers)
        self._held[number] = result
        while len(self._held) > HELD:
            self._held.pop(next(iter(self._held)), None)
        return CallToolResult(content=[TextContent(type="text", text=MARK)], structured_content={MARK: number})

    def line(self, message: Any) -> Encoded | None:
        """The answer `message` with its held result put back, or None when it holds none."""
        if not isinstance(message, JSONRPCResponse) or not isinstance(message.result, dict):
            return None
        stand_in = message.result.get("structuredContent")
        if not isinstance(stand_in, dict) or len(stand_in) != 1 or MARK not in stand_in:
            return None
        result = self._held.pop(stand_in[MARK], None)
        if result is None:
            return None
        return Encoded(message.id, message.result, result)


class Encoded:
    """A JSON-RPC answer the SDK's stdio writer writes as it is (it asks for `model_dump_json`)."""

    def __init__(self, request_id: Any, envelope: dict, result: dict) -> None:
        self.id, self._envelope, self._result = request_id, envelope, result

    def model_dump_json(self, **_: Any) -> str:
        body = orjson.dumps(self._result)
        answer = {**self._envelope, "content": [{"type": "text", "text": body.decode()}],
                  "structuredContent": orjson.Fragment(body)}
        return orjson.dumps({"jsonrpc": "2.0", "id": self.id, "result": answer}).decode()
