#!/usr/bin/env python3
"""A scripted stand-in for the Anthropic Messages API, for end-to-end tests of the plugin
inside the real Claude Code CLI with no network and no API key.

Copied from ../shared/e2e/fake_anthropic.py (read-only there) and extended for subagents:
one scripted response may carry several tool_use blocks (Claude Code runs several `Agent`
calls of one response concurrently), and a step may be meant for one conversation only.

It listens on 127.0.0.1, answers POST /v1/messages (streaming or not) and count_tokens, and
logs every request body as one JSON line, so a test can assert what reached the model
(tool list, hook context, tool results).

Script: a JSON array of steps. A step is {"tool": NAME, "input": {...}} (one tool_use block)
or {"tools": [{"tool": NAME, "input": {...}}, ...]} (several blocks in one response), with
optional keys:
  "first": TEXT    the step is for a conversation whose first message contains TEXT (a
                   subagent's prompt); without it, for any conversation;
  "capture": {KEY: REGEX}  each REGEX's first group, searched in the request's messages,
                   replaces "{KEY}" in the step's input strings (a subagent's backlog name
                   and assigned task id, which only its SubagentStart context knows);
  "gather": true   on a step of several `Agent` calls: the first request of each of those
                   subagents (its first message holds the call's prompt) is answered only
                   once all of them have asked, or after GATHER_S seconds, so the subagents
                   overlap however loaded the machine is.
Each request gets the first unused step that applies to it: every tool it names is offered,
its "first" matches and every capture is found; no step applies -> the text "FAKE-REPLY".

usage: fake_anthropic_multi.py --script steps.json --log requests.jsonl [--port 0]
Prints "PORT <n>" on stdout once listening (port 0 picks a free one).

Claude Code settings that make a run work offline (seen with @anthropic-ai/claude-code
2.1.330 from the npm registry):
  HOME=<tmp> CLAUDE_CONFIG_DIR=<tmp>/.claude ANTHROPIC_BASE_URL=http://127.0.0.1:<port>
  ANTHROPIC_API_KEY=sk-ant-test CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1
  DISABLE_AUTOUPDATER=1 ENABLE_TOOL_SEARCH=false
  claude -p "go" --plugin-dir <repo> --allowedTools "<tool names>"
         --output-format stream-json --verbose --include-hook-events
MCP tools of the plugin are named mcp__plugin_backlog_backlog__<tool>.
"""
import argparse
import itertools
import json
import re
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

GATHER_S = 60


def flatten(content):
    """All text inside a message or content structure."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(flatten(c) for c in content)
    if isinstance(content, dict):
        return "\n".join(flatten(v) for k, v in content.items() if k in ("content", "text", "input"))
    return ""


def fill(value, found):
    """`value` with every "{KEY}" in its strings replaced by found[KEY]."""
    if isinstance(value, str):
        for key, text in found.items():
            value = value.replace("{" + key + "}", text)
        return value
    if isinstance(value, dict):
        return {k: fill(v, found) for k, v in value.items()}
    if isinstance(value, list):
        return [fill(v, found) for v in value]
    return value


def applies(step, req):
    """The captures of `step` for request `req` when the step applies to it, else None."""
    offered = {t.get("name") for t in req.get("tools", [])}
    calls = step.get("tools") or [step]
    if not all(call["tool"] in offered for call in calls):
        return None
    messages = req.get("messages") or [{}]
    if "first" in step and step["first"] not in flatten(messages[0]):
        return None
    text = flatten(messages)
    found = {}
    for key, pattern in step.get("capture", {}).items():
        match = re.search(pattern, text)
        if match is None:
            return None
        found[key] = match.group(1)
    return found


def take_step(steps, req, lock):
    """The first unused step that applies to `req` (marked used) and its tool calls ({tool, input})."""
    with lock:
        for step in steps:
            if step.get("_used"):
                continue
            found = applies(step, req)
            if found is not None:
                step["_used"] = True
                return step, [{"tool": c["tool"], "input": fill(c.get("input", {}), found)}
                              for c in step.get("tools") or [step]]
    return {}, []


class Gathering:
    """Groups of subagent prompts whose first requests wait for each other."""

    def __init__(self):
        self.groups = []  # (prompts, prompts that have asked)
        self.changed = threading.Condition()

    def add(self, calls):
        with self.changed:
            self.groups.append(({c["input"]["prompt"] for c in calls}, set()))

    def wait(self, req):
        """Until every subagent of the group `req` opens has asked (at most GATHER_S seconds)."""
        first = flatten((req.get("messages") or [{}])[0])
        with self.changed:
            for prompts, asked in self.groups:
                mine = {p for p in prompts if p in first}
                if mine - asked:  # this subagent's first request
                    asked |= mine
                    self.changed.notify_all()
                    self.changed.wait_for(lambda: asked == prompts, timeout=GATHER_S)


def make_handler(steps, log_path):
    ids = itertools.count(1)
    lock = threading.Lock()
    gathering = Gathering()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def _json(self, obj, code=200):
            body = json.dumps(obj).encode()
            self.send_response(code)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self):
            self._json({})

        do_HEAD = do_GET

        def do_POST(self):
            raw = self.rfile.read(int(self.headers.get("content-length", 0)))
            try:
                req = json.loads(raw)
            except ValueError:
                req = {"unparsed": raw[:200].decode("latin1")}
            with lock, open(log_path, "a") as log:
                log.write(json.dumps({"path": self.path, "body": req}) + "\n")
            if "count_tokens" in self.path:
                return self._json({"input_tokens": 10})
            if not self.path.startswith("/v1/messages"):
                return self._json({"error": "not found"}, 404)
            gathering.wait(req)
            step, calls = take_step(steps, req, lock)
            if step.get("gather"):
                gathering.add(calls)
            blocks = [{"type": "tool_use", "id": f"toolu_{next(ids)}", "name": call["tool"], "input": call["input"]}
                      for call in calls]
            stop = "tool_use" if blocks else "end_turn"
            blocks = blocks or [{"type": "text", "text": "FAKE-REPLY"}]
            model = req.get("model", "claude-test")
            if not req.get("stream"):
                return self._json({"id": "msg_1", "type": "message", "role": "assistant",
                                   "model": model, "content": blocks, "stop_reason": stop,
                                   "stop_sequence": None,
                                   "usage": {"input_tokens": 10, "output_tokens": 5}})
            self.send_response(200)
            self.send_header("content-type", "text/event-stream")
            self.end_headers()

            def event(kind, data):
                self.wfile.write(f"event: {kind}\ndata: {json.dumps(data)}\n\n".encode())

            event("message_start", {"type": "message_start", "message": {
                "id": "msg_1", "type": "message", "role": "assistant", "model": model,
                "content": [], "stop_reason": None, "stop_sequence": None,
                "usage": {"input_tokens": 10, "output_tokens": 1}}})
            for i, b in enumerate(blocks):
                if b["type"] == "text":
                    start = {"type": "text", "text": ""}
                    delta = {"type": "text_delta", "text": b["text"]}
                else:
                    start = {"type": "tool_use", "id": b["id"], "name": b["name"], "input": {}}
                    delta = {"type": "input_json_delta", "partial_json": json.dumps(b["input"])}
                event("content_block_start", {"type": "content_block_start", "index": i,
                                              "content_block": start})
                event("content_block_delta", {"type": "content_block_delta", "index": i,
                                              "delta": delta})
                event("content_block_stop", {"type": "content_block_stop", "index": i})
            event("message_delta", {"type": "message_delta",
                                    "delta": {"stop_reason": stop, "stop_sequence": None},
                                    "usage": {"output_tokens": 5}})
            event("message_stop", {"type": "message_stop"})

    return Handler


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--script", help="JSON file: array of steps")
    ap.add_argument("--log", required=True, help="where to append request bodies (JSONL)")
    ap.add_argument("--port", type=int, default=0)
    a = ap.parse_args()
    steps = json.load(open(a.script)) if a.script else []
    server = ThreadingHTTPServer(("127.0.0.1", a.port), make_handler(steps, a.log))
    print(f"PORT {server.server_address[1]}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
