"""Tool answers encoded once by orjson (backlog.mcp.wire): the same JSON the SDK would write."""

from __future__ import annotations

import json

from mcp.types import JSONRPCResponse

from backlog.mcp.wire import MARK, STALE_S, Wire
from tests.server_support import McpServer, server_env


def sdk_answer(wire: Wire, result: dict, request_id: int = 7, **envelope: object) -> JSONRPCResponse:
    """The JSON-RPC answer the SDK makes of the stand-in `wire.hold` gives for `result`."""
    dumped = wire.hold(result).model_dump(by_alias=True, mode="json", exclude_none=True)
    return JSONRPCResponse(jsonrpc="2.0", id=request_id, result={**dumped, **envelope})


def test_the_held_result_is_put_back_as_structured_content_and_text():
    wire = Wire()
    result = {"tasks": [{"id": 1, "description": 'héllo "q" \\ \\" \n\x01\x7f \u2028 ✓', "urgency": 0.9}], "total": 1, "truncated": False}
    line = wire.line(sdk_answer(wire, result, _meta={"k": "v"}, resultType="complete"))
    assert line is not None
    sent = json.loads(b"".join(line.model_dump_json(by_alias=True, exclude_unset=True).parts))
    assert sent == {"jsonrpc": "2.0", "id": 7, "result": {
        "content": [{"type": "text", "text": json.dumps(result, separators=(",", ":"), ensure_ascii=False)}],
        "structuredContent": result, "isError": False, "_meta": {"k": "v"}, "resultType": "complete"}}
    assert wire.line(sdk_answer(Wire(), result)) is None  # a stand-in this wire does not hold: left to the SDK
    stand_in = wire.hold({}).structured_content
    bare = wire.line(JSONRPCResponse(jsonrpc="2.0", id="s", result={"structuredContent": stand_in}))
    assert json.loads(b"".join(bare.model_dump_json().parts)) == {"jsonrpc": "2.0", "id": "s", "result": {
        "content": [{"type": "text", "text": "{}"}], "structuredContent": {}}}


def test_answers_holding_nothing_are_left_to_the_sdk():
    wire = Wire()
    plain = JSONRPCResponse(jsonrpc="2.0", id=1, result={"structuredContent": {"count": 0}, "content": []})
    assert wire.line(plain) is None
    assert wire.line(JSONRPCResponse(jsonrpc="2.0", id=2, result={"tools": []})) is None


def test_results_whose_answers_were_never_written_are_dropped_once_stale():
    now = [0.0]
    wire = Wire(clock=lambda: now[0])
    answers = [sdk_answer(wire, {"n": n}, request_id=n) for n in range(200)]  # no count pushes one out
    now[0] = STALE_S + 0.5
    later = sdk_answer(wire, {"n": "later"})  # holding drops what was held longer than STALE_S
    assert [wire.line(answer) for answer in answers] == [None] * 200
    assert json.loads(b"".join(wire.line(later).model_dump_json().parts))["result"]["structuredContent"] == {"n": "later"}
    assert wire.line(later) is None  # taken once


def test_big_and_failing_answers_over_stdio(tmp_path):
    with McpServer(server_env(tmp_path)) as server:
        server.ok("task_import", {"tasks": json.dumps([{"description": f"row {n} ✓ \"x\"", "project": "wire"}
                                                         for n in range(300)])})
        listed = server.ok("task_list", {"filter": "project:wire", "limit": 0})  # ok() compares text and structure
        assert listed["total"] == 300 and len(listed["tasks"]) == 300
        assert MARK not in json.dumps(listed)
        assert server.fail("task_info", {"id": "999"}).startswith("id: ")
