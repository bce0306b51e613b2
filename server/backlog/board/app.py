"""The board's web app: Starlette routes over one Backlog, the guard in front, a push channel.

Everything runs on the event loop (no thread touches the store): reads and writes are short
calls into the facade. A background task refreshes the store every `POLL_S` seconds (two
stats when nothing changed; on S3 every `REMOTE_POLL_S`, one request each, and the page says
so) and wakes the server-sent-event streams when its sequence moved, so a change by any
process reaches open pages without the page polling.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response, StreamingResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from backlog.board import columns, graph, guard, markdown, pages
from backlog.engine.backlog import Backlog
from backlog.errors import BacklogError, StoreError

POLL_S = 0.5
REMOTE_POLL_S = 1.0  # S3: one freshness request a second
KEEPALIVE_S = 15.0
STATIC = Path(__file__).with_name("static")
SECURITY_HEADERS = (
    ("content-security-policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
                                "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"),
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "same-origin"),  # no-referrer would make Chrome send Origin: null on our own forms
    ("x-frame-options", "DENY"),
    ("cache-control", "no-store"),
)
ACTIONS = ("start", "stop", "done", "priority", "annotate", "release")


class Hub:
    """The store's sequence number as last seen, and an event set each time it moves."""

    def __init__(self, backlog: Backlog) -> None:
        self.backlog = backlog
        self.seq = backlog.store.seq
        self.changed = asyncio.Event()
        self.every = REMOTE_POLL_S if backlog.store.backend.remote else POLL_S

    def look(self) -> None:
        """Refresh the store; wake the waiters when a transaction landed since the last look."""
        self.backlog.store.refresh()
        if self.backlog.store.seq != self.seq:
            self.seq = self.backlog.store.seq
            self.changed.set()
            self.changed = asyncio.Event()

    async def poll(self) -> None:
        while True:
            try:
                self.look()
            except StoreError:
                pass  # a damaged store shows on the next page load; keep watching
            await asyncio.sleep(self.every)


def guarded(app: Callable, port: Callable[[], int], token: str) -> Callable:
    """ASGI middleware: the guard's verdict first, then the security headers on every answer."""

    async def middleware(scope: dict, receive: Callable, send: Callable[[dict], Awaitable[None]]) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        verdict = guard.check(scope["method"], scope["path"], scope.get("query_string", b"").decode("latin-1"),
                              headers, port=port(), token=token)

        async def send_secured(message: dict) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = list(message.get("headers", [])) + [
                    (k.encode(), v.encode()) for k, v in SECURITY_HEADERS]
            await send(message)

        if verdict.status:
            response = PlainTextResponse(verdict.reason + "\n" if verdict.reason else "", status_code=verdict.status,
                                         headers=dict(verdict.headers))
            await response(scope, receive, send_secured)
            return
        await app(scope, receive, send_secured)

    return middleware


def build(backlog: Backlog, *, token: str, port: Callable[[], int], read_only: bool) -> Callable:
    """The ASGI app of one board run."""
    hub = Hub(backlog)

    def html(title: str, body: str, view: str, filter: str = "", status: int = 200, grouped: bool = False) -> HTMLResponse:
        """The page around `body`, stamped with the sequence its data was read at."""
        return HTMLResponse(pages.page(title, body, seq=hub.seq, view=view, filter=filter, read_only=read_only,
                                       grouped=grouped, polled=hub.every if backlog.store.backend.remote else None),
                            status_code=status)

    def moment() -> pages.Moment:
        return pages.Moment(backlog.clock(), backlog.tz)

    def more(request: Request) -> dict[str, int]:
        out = {}
        for col in columns.COLUMNS:
            value = request.query_params.get(f"more_{col.key}", "1")
            out[col.key] = min(int(value), 1000) if value.isdigit() else 1
        return out

    async def board_view(request: Request) -> Response:
        hub.look()
        user = request.query_params.get("filter", "")
        wanted = more(request)
        grouped = request.query_params.get("group") == "project"
        try:
            body = pages.board(columns.board(backlog, user, wanted), user, wanted, moment(), grouped)
        except BacklogError as err:
            return html("Board", pages.error_line(str(err)), "/", user, 400, grouped)
        return html("Board", body, "/", user, grouped=grouped)

    async def graph_view(request: Request) -> Response:
        hub.look()
        user = request.query_params.get("filter", "")
        try:
            body = graph.view(backlog, user)
        except BacklogError as err:
            return html("Graph", pages.error_line(str(err)), "/graph", user, 400)
        return html("Graph", body, "/graph", user)

    def task_response(ref: str, error: str = "", status: int = 200) -> Response:
        try:
            data = columns.task_page(backlog, ref)
        except BacklogError as err:
            return html("Task", pages.error_line(str(err)), "/task", status=404)
        doc = markdown.render(data["doc"]) if data["doc"] is not None else None
        return html(f"Task {data['task']['id']}", pages.task(data, doc, moment(), read_only=read_only, error=error),
                    "/task", status=status)

    async def task_view(request: Request) -> Response:
        hub.look()
        return task_response(request.path_params["ref"])

    async def act(request: Request) -> Response:
        ref, action = request.path_params["ref"], request.path_params["action"]
        if read_only:
            return PlainTextResponse("board: this board is read-only; run `backlog board` without --read-only\n", 403)
        if action not in ACTIONS:
            return PlainTextResponse(f"action: '{action}' is not one; use one of {', '.join(ACTIONS)}\n", 404)
        form = await request.form()
        try:
            uuid = backlog.info(ref)["task"]["uuid"]
            if action == "priority":
                value = str(form.get("priority", ""))
                backlog.modify(uuid, extra=f"priority:{value}" if value else "priority:")
            elif action == "annotate":
                backlog.annotate(uuid, str(form.get("text", "")))
            elif action == "release":
                backlog.release_task(uuid, "released on the board")
            else:
                getattr(backlog, action)(uuid)
        except BacklogError as err:
            return task_response(ref, str(err), 400)
        hub.look()
        return RedirectResponse(f"/task/{uuid}", status_code=303)

    def activity_response(note: str = "", error: str = "", status: int = 200) -> Response:
        body = pages.activity(backlog.activity(100)["entries"], moment(), read_only=read_only, note=note, error=error)
        return html("Activity", body, "/activity", status=status)

    async def activity_view(request: Request) -> Response:
        hub.look()
        return activity_response()

    async def undo(request: Request) -> Response:
        """Revert this board run's own newest change (never another writer's)."""
        if read_only:
            return PlainTextResponse("board: this board is read-only; run `backlog board` without --read-only\n", 403)
        try:
            done = backlog.undo()
        except BacklogError as err:
            return activity_response(error=str(err), status=400)
        hub.look()
        return activity_response(note=done["message"])

    async def events(request: Request) -> Response:
        async def stream() -> AsyncIterator[str]:
            yield f"retry: 1000\ndata: {hub.seq}\n\n"
            while True:
                changed = hub.changed
                try:
                    await asyncio.wait_for(changed.wait(), KEEPALIVE_S)
                    yield f"data: {hub.seq}\n\n"
                except asyncio.TimeoutError:
                    yield ": keep-alive\n\n"
        return StreamingResponse(stream(), media_type="text/event-stream")

    async def store_problem(request: Request, err: Exception) -> Response:
        return html("Store problem", pages.error_line(str(err)), "/", status=500)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        watcher = asyncio.create_task(hub.poll())
        try:
            yield
        finally:
            watcher.cancel()

    routes = [
        Route("/", board_view), Route("/graph", graph_view), Route("/activity", activity_view),
        Route("/events", events), Route("/task/{ref}", task_view),
        Route("/task/{ref}/{action}", act, methods=["POST"]), Route("/undo", undo, methods=["POST"]),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]
    app = Starlette(routes=routes, lifespan=lifespan, exception_handlers={StoreError: store_problem})
    return guarded(app, port, token)
