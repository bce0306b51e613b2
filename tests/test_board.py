"""`backlog board` over plain HTTP (no browser): the guard, the views, actions, the push channel.

A real board process on a real data dir, driven with http.client; the clock is pinned with
BACKLOG_NOW for the board and for every CLI call beside it.
"""

from __future__ import annotations

import http.client
import re
import socket
import subprocess
import sys
from html.parser import HTMLParser
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import orjson
import pytest

from board_support import Board, start_board
from conftest import NOW, REPO, run_backlog
from backlog.board import graph, guard, markdown


@pytest.fixture
def env(clean_env: dict, store_dir: Path) -> dict:
    return {**clean_env, "TASKDATA": str(store_dir), "USER": "tester"}


@pytest.fixture
def board(env: dict):
    for args in (["add", "write the spec", "priority:H"], ["add", "build it", "depends:1"]):
        assert run_backlog(args, env).returncode == 0
    running = start_board(env)
    yield running
    running.stop()


# --- the guard ------------------------------------------------------------------------

def test_no_token_is_refused(board: Board):
    status, _, body = board.request("GET", "/", cookie=False)
    assert status == 403
    assert body.startswith("token: missing;")


def test_wrong_token_is_refused(board: Board):
    assert board.request("GET", "/?token=nope", cookie=False)[0] == 403
    assert board.request("GET", "/", headers={"Cookie": "backlog_board=nope"}, cookie=False)[0] == 403


def test_token_becomes_a_strict_httponly_cookie_and_leaves_the_url(board: Board):
    status, headers, _ = board.request("GET", f"/activity?token={board.token}&x=1", cookie=False)
    assert status == 303
    assert headers["location"] == "/activity?x=1"
    cookie = headers["set-cookie"]
    assert cookie.startswith(f"backlog_board={board.token};")
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie


@pytest.mark.parametrize("host", ["evil.example", "evil.example:{port}", "127.0.0.1:1", "localhost", "0.0.0.0:{port}"])
def test_a_foreign_host_header_is_refused(board: Board, host: str):
    status, _, body = board.request("GET", "/", headers={"Host": host.format(port=board.port)})
    assert status in (400, 403, 421)
    assert "host:" in body


def test_localhost_by_name_is_served(board: Board):
    assert board.request("GET", "/", headers={"Host": f"localhost:{board.port}"})[0] == 200


@pytest.mark.parametrize("headers", [
    {"Origin": "http://evil.example"},
    {"Origin": "null"},
    {"Sec-Fetch-Site": "cross-site"},
    {},  # neither Origin nor Sec-Fetch-Site: not provably same-origin
])
def test_a_cross_site_write_is_refused(board: Board, env: dict, headers: dict):
    status, _, body = board.request("POST", "/task/1/done", headers=headers, body="")
    assert status == 403
    assert body.startswith("origin:")
    assert "completed" not in run_backlog(["1", "info", "--json"], env).stdout


def test_a_write_without_the_cookie_is_refused(board: Board, env: dict):
    status, _, _ = board.request("POST", "/task/1/done", headers={"Origin": board.origin}, body="", cookie=False)
    assert status == 403
    assert '"status":"pending"' in run_backlog(["1", "info", "--json"], env).stdout


def test_every_answer_carries_a_strict_content_security_policy(board: Board):
    for status, headers, _ in (board.request("GET", "/"), board.request("GET", "/", cookie=False),
                               board.request("GET", "/static/board.js")):
        csp = headers["content-security-policy"]
        assert "default-src 'none'" in csp and "script-src 'self'" in csp and "unsafe-inline" not in csp
        assert headers["x-content-type-options"] == "nosniff"


def loopback_only(port: int) -> bool:
    """True when the only TCP sockets listening on `port` are bound to 127.0.0.1 (/proc/net/tcp*)."""
    found = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, hex_port = local.rsplit(":", 1)
            if state == "0A" and int(hex_port, 16) == port:  # 0A: LISTEN
                found.append(address)
    return found == ["0100007F"]


def other_addresses() -> list[str]:
    """This machine's IPv4 addresses that are not loopback (from the routing of a UDP socket)."""
    out = set()
    for target in ("10.255.255.255", "192.0.2.1"):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            try:
                probe.connect((target, 9))
                out.add(probe.getsockname()[0])
            except OSError:
                pass
    return sorted(a for a in out if not a.startswith("127.") and a != "0.0.0.0")


def test_nothing_listens_beyond_loopback(board: Board):
    assert loopback_only(board.port)
    for address in other_addresses():
        with pytest.raises(OSError):
            socket.create_connection((address, board.port), timeout=5).close()


# --- views and actions -----------------------------------------------------------------

def column(html: str, key: str) -> list[int]:
    """Short ids of the cards in one column of the board page."""
    section = re.search(rf'<section class="column" id="col-{key}".*?</section>', html, re.S).group(0)
    return [int(n) for n in re.findall(r'class="card" data-id="(\d+)"', section)]


def test_tasks_sit_in_their_columns(board: Board, env: dict):
    for args in (["add", "later", "wait:2026-12-24"], ["add", "shipped"], ["add", "doing", "agent:claude"],
                 ["add", "next week", "scheduled:2026-12-01"], ["add", "waits and blocked", "wait:2026-12-24", "depends:1"],
                 ["5", "start"], ["4", "done"]):
        assert run_backlog(args, env).returncode == 0
    status, _, html = board.request("GET", "/")
    assert status == 200
    got = {key: column(html, key) for key in ("ready", "active", "blocked", "waiting", "done")}
    assert got == {"ready": [1], "active": [5], "blocked": [2, 7], "waiting": [6, 3], "done": [4]}
    assert "held by claude" in html
    assert "blocked by 1" in html


def test_the_filter_box_narrows_and_reports_errors_in_one_line(board: Board):
    _, _, html = board.request("GET", "/?filter=priority:H")
    assert column(html, "ready") == [1] and column(html, "blocked") == []
    status, _, html = board.request("GET", "/?filter=due.befor:friday")
    assert status == 400
    assert "filter: unknown modifier &#x27;befor&#x27;" in html and "did you mean &#x27;before&#x27;?" in html


def test_the_board_groups_by_project(board: Board, env: dict):
    for args in (["add", "web one", "project:web"], ["add", "web two", "project:web", "priority:H"]):
        run_backlog(args, env)
    _, _, html = board.request("GET", "/?group=project")
    ready = re.search(r'<section class="column" id="col-ready".*?</section>', html, re.S).group(0)
    assert re.findall(r"<h3>([^<]+)</h3>", ready) == ["no project", "web"]
    assert column(html, "ready") == [1, 4, 3]
    assert 'name="group" value="project" checked' in html


def test_a_task_page_shows_fields_doc_and_history(board: Board, env: dict):
    run_backlog(["1", "annotate", "first note"], env)
    from backlog.runtime import open_backlog
    open_backlog(env, str(Path.cwd()), channel="cli").doc_write(1, "# Plan\n\n* **one** step\n")
    status, _, html = board.request("GET", "/task/1")
    assert status == 200
    assert "write the spec" in html and "first note" in html
    assert "<h1>Plan</h1>" in html and "<strong>one</strong>" in html
    assert "S3:" not in html  # a data dir is watched with stats; only a bucket's polling is said
    assert "cli:add" in html and "cli:annotate" in html


def test_a_board_action_is_recorded_as_the_boards_writer(board: Board, env: dict):
    status, headers, _ = board.request("POST", "/task/1/start", headers={"Origin": board.origin}, body="")
    assert status == 303 and headers["location"].startswith("/task/")
    status, _, _ = board.request("POST", "/task/1/annotate", headers={"Sec-Fetch-Site": "same-origin"},
                                 body="text=seen+on+the+board")
    assert status == 303
    listed = run_backlog(["+ACTIVE", "list", "--json"], env).stdout
    assert '"id":1' in listed
    history = run_backlog(["1", "history", "--json"], env).stdout
    assert '"agent":"board:tester","tool":"board:start"' in history
    assert "seen on the board" in history


def test_a_refused_action_shows_the_one_line_error(board: Board):
    status, _, html = board.request("POST", "/task/2/annotate", headers={"Origin": board.origin}, body="text=")
    assert status == 400
    assert 'class="error"' in html


def test_read_only_refuses_actions_and_shows_none(env: dict):
    run_backlog(["add", "look only"], env)
    running = start_board(env, "--read-only")
    try:
        status, _, body = running.request("POST", "/task/1/done", headers={"Origin": running.origin}, body="")
        assert status == 403 and "read-only" in body
        _, _, html = running.request("GET", "/task/1")
        assert "<form method=\"post\"" not in html and "read-only" in html
    finally:
        running.stop()
    assert '"status":"pending"' in run_backlog(["1", "info", "--json"], env).stdout


def test_activity_lists_every_writer_newest_first(board: Board, env: dict):
    run_backlog(["2", "modify", "priority:L"], env)
    _, _, html = board.request("GET", "/activity")
    entries = re.findall(r'<span class="tool">([^<]+)</span>', html)
    assert entries[:3] == ["cli:modify", "cli:add", "cli:add"]


def test_a_change_by_another_process_is_pushed(board: Board, env: dict):
    conn = http.client.HTTPConnection("127.0.0.1", board.port, timeout=30)
    conn.request("GET", "/events", headers={"Host": f"127.0.0.1:{board.port}",
                                            "Cookie": f"backlog_board={board.token}"})
    response = conn.getresponse()
    assert response.status == 200 and response.getheader("content-type").startswith("text/event-stream")

    def next_data() -> str:
        while True:
            line = response.readline().decode()
            assert line, "the event stream ended"
            if line.startswith("data: "):
                return line[6:].strip()

    first = next_data()
    assert run_backlog(["add", "pushed"], env).returncode == 0
    assert int(next_data()) > int(first)
    conn.close()


def test_ctrl_c_ends_the_board_quietly(env: dict):
    running = start_board(env)
    assert running.request("GET", "/")[0] == 200
    code, stderr = running.stop()
    assert (code, stderr) == (0, "")


def test_a_taken_port_is_a_one_line_error(board: Board, env: dict):
    result = run_backlog(["board", "--no-open", "--port", str(board.port)], env)
    assert result.returncode == 1
    assert result.stderr.startswith(f"backlog: --port: cannot listen on 127.0.0.1:{board.port}")


# --- pure parts ---------------------------------------------------------------------------

def test_guard_verdicts():
    token, port = "t0k", 8000
    ok = {"host": "127.0.0.1:8000", "cookie": "backlog_board=t0k"}
    assert guard.check("GET", "/", "", ok, port=port, token=token) == guard.PASS
    assert guard.check("GET", "/", "", {**ok, "host": "127.0.0.1:8001"}, port=port, token=token).status == 421
    assert guard.check("POST", "/x", "", ok, port=port, token=token).status == 403
    assert guard.check("POST", "/x", "", {**ok, "origin": "http://localhost:8000"}, port=port, token=token) == guard.PASS
    assert guard.check("POST", "/x", "token=t0k", {"host": "127.0.0.1:8000", "origin": "http://127.0.0.1:8000"},
                       port=port, token=token).status == 403  # a token never authorizes a write
    assert guard.check("GET", "/", "", {**ok, "cookie": "garbage;;=\x00"}, port=port, token=token).status == 403


@pytest.mark.parametrize("doc", [
    "<script>alert(1)</script>",
    '<img src=x onerror="alert(1)">',
    "[click](javascript:alert(1))",
    '<a href="#" onclick="alert(1)">x</a>',
    "<iframe src=//evil.example></iframe>",
    "![x](x \"a\" onerror=alert(1))",
])
def test_markdown_keeps_nothing_active(doc: str):
    assert active_parts(markdown.render(doc)) == []
    assert active_parts(markdown.render_inline(doc)) == []


def active_parts(html: str) -> list[str]:
    """Elements and attributes of `html` that could run code: script, iframe, on*=, javascript: URLs."""
    found: list[str] = []

    class Parser(HTMLParser):
        def handle_starttag(self, tag: str, attrs: list) -> None:
            if tag in ("script", "iframe", "object", "embed", "style"):
                found.append(tag)
            for name, value in attrs:
                if name.startswith("on") or (value or "").strip().lower().startswith("javascript:"):
                    found.append(f"{tag} {name}={value}")

    Parser().feed(html)
    return found


def test_markdown_keeps_the_formatting():
    html = markdown.render("# T\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n[link](https://example.org) `code`\n")
    assert "<h1>T</h1>" in html and "<table>" in html and 'href="https://example.org"' in html and "<code>code</code>" in html


def test_inline_markdown_keeps_emphasis_and_code_but_makes_no_link():
    html = markdown.render_inline("**fix** the `parser` ~~today~~ [see](https://example.org) <b>raw</b>")
    assert "<strong>fix</strong>" in html and "<code>parser</code>" in html and "<s>today</s>" in html
    assert "<a" not in html and "<b>" not in html and "&lt;b&gt;raw&lt;/b&gt;" in html


def test_descriptions_and_annotations_render_as_safe_inline_markdown(board: Board, env: dict):
    run_backlog(["add", "ship **now** <img src=x onerror=alert(1)>"], env)
    run_backlog(["3", "annotate", "see `log.txt` <script>alert(2)</script>"], env)
    for path in ("/", "/task/3", "/activity"):
        status, _, html = board.request("GET", path)
        assert status == 200 and "ship <strong>now</strong>" in html, path
        assert active_parts(html) == ["script"], path  # the page's own /static/board.js only
    _, _, html = board.request("GET", "/task/3")
    assert "see <code>log.txt</code> &lt;script&gt;" in html


def test_dates_read_as_the_cli_shows_them_in_the_boards_zone(env: dict):
    """A card: states as words, dates as distances (local time on hover); the task page: local times."""
    env = {**env, "TZ": "Asia/Tokyo"}
    due = (NOW - timedelta(days=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert run_backlog(["add", "late one", f"due:{due}"], env).returncode == 0
    local = (NOW - timedelta(days=2)).astimezone(ZoneInfo("Asia/Tokyo")).strftime("%Y-%m-%d %H:%M:%S +0900")
    running = start_board(env)
    try:
        _, _, html = running.request("GET", "/")
        assert '<span class="state overdue">overdue</span>' in html
        assert f'due <time datetime="{due}" title="{local}">2d ago</time>' in html
        _, _, page = running.request("GET", "/task/1")
        assert f'<th>due</th><td><time datetime="{due}" title="2d ago">{local}</time></td>' in page
    finally:
        running.stop()


def test_graph_layout_has_no_overlap_and_edges_point_right():
    # 300 tasks: chains, fans and diamonds mixed, deterministic
    tasks = [{"id": n, "depends": sorted({d for d in (n - 1, n // 2, n - 7) if 1 <= d < n and n % 5})}
             for n in range(1, 301)]
    places = graph.layout(tasks)
    assert len(places) == 300 and len(set(places.values())) == 300
    for t in tasks:
        for dep in t["depends"]:
            assert places[dep][0] < places[t["id"]][0]


def test_graph_layout_takes_a_long_chain():
    tasks = [{"id": n, "depends": [n - 1] if n > 1 else []} for n in range(1, 5001)]
    assert graph.layout(tasks)[5000] == (4999, 0)


def test_the_screenshots_exist_and_the_readme_shows_them():
    readme = (REPO / "README.md").read_text()
    for view in ("board", "task", "graph", "activity"):
        shot = REPO / "docs" / f"board-{view}.png"
        assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", f"{shot} is missing; run python bench/board_screens.py"
        assert f"](docs/board-{view}.png)" in readme


def test_a_damaged_store_shows_the_stores_one_line_error(board: Board, store_dir: Path):
    journal = sorted((store_dir / "journal").glob("*.jsonl"))[-1]
    with journal.open("ab") as out:
        out.write(b"not json\n")
    status, _, html = board.request("GET", "/")
    assert status == 500
    assert re.search(r'<p class="error" role="alert">[^<]*journal[^<]*doctor', html), html


def test_only_the_board_command_imports_the_web_stack(clean_env: dict):
    code = ("import sys, backlog.cli.commands, backlog.cli.grammar; "
            "print(sorted(m for m in ('starlette', 'uvicorn', 'nh3', 'markdown_it', 'backlog.board.app') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], env=clean_env, capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == "[]", done.stderr


def test_activity_entries_name_each_task_once_newest_first(env: dict, store_dir: Path):
    from backlog.runtime import open_backlog
    facade = open_backlog(env, str(store_dir), channel="cli", agent="claude")
    facade.add("first")
    facade.doc_write(1, "# notes")
    facade.annotate(1, "seen")
    entries = facade.activity(2)["entries"]
    assert [(e["agent"], e["tool"], e["tasks"]) for e in entries] == [
        ("claude", "cli:annotate", [{"uuid": entries[0]["tasks"][0]["uuid"], "id": 1, "description": "first",
                                     "fields": ["annotations"]}]),
        ("claude", "cli:doc_write", [{"uuid": entries[0]["tasks"][0]["uuid"], "id": 1, "description": "first",
                                      "fields": ["doc", "has_doc", "tags"]}]),
    ]


def test_undo_on_the_board_reverts_only_the_boards_own_change(board: Board, env: dict):
    assert board.request("POST", "/task/1/start", headers={"Origin": board.origin}, body="")[0] == 303
    assert run_backlog(["add", "noted from the CLI"], env).returncode == 0  # another writer's change, later
    status, _, html = board.request("POST", "/undo", headers={"Origin": board.origin}, body="")
    assert status == 200 and "undid board:start by board:tester" in html
    assert "start" not in orjson.loads(run_backlog(["1", "info", "--json"], env).stdout)["task"]
    assert "noted from the CLI" in run_backlog(["3", "info"], env).stdout, "the CLI's change stays"
    status, _, html = board.request("POST", "/undo", headers={"Origin": board.origin}, body="")
    assert status == 400 and 'class="error"' in html and "nothing to undo" in html


def test_the_board_releases_a_lease_and_says_so_in_history(board: Board, env: dict):
    assert run_backlog(["claim", "1", "--agent", "worker#a1b2c3"], env).returncode == 0
    _, _, page = board.request("GET", "/task/1")
    assert 'id="act-release"' in page
    assert board.request("POST", "/task/1/release", headers={"Origin": board.origin}, body="")[0] == 303
    task = orjson.loads(run_backlog(["1", "info", "--json"], env).stdout)["task"]
    assert "lease" not in task and "start" not in task
    assert task["annotations"][-1]["description"] == "stopped by worker#a1b2c3 without finishing: released on the board"
    status, _, html = board.request("POST", "/task/1/release", headers={"Origin": board.origin}, body="")
    assert status == 400 and "task 1 has no lease" in html
