"""`backlog board`: bind 127.0.0.1, print the URL with its token, open it, serve until Ctrl-C."""

from __future__ import annotations

import getpass
import secrets
import socket
import sys
import webbrowser
from collections.abc import Callable, Mapping

import uvicorn

from backlog.board.app import build
from backlog.errors import BacklogError
from backlog.runtime import open_backlog

HOST = "127.0.0.1"


def user_name(env: Mapping[str, str]) -> str:
    """Who sits at the board: $USER (or the login name), for the writer name `board:<user>`."""
    name = env.get("USER") or env.get("LOGNAME")
    if not name:
        try:
            name = getpass.getuser()
        except (KeyError, OSError):  # no passwd entry (containers): still a writer name
            name = "user"
    return name


def listen(port: int) -> socket.socket:
    """A socket listening on 127.0.0.1:`port` (0: a free port); BacklogError when it is taken."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.bind((HOST, port))
    except OSError as err:
        sock.close()
        raise BacklogError("--port", f"cannot listen on {HOST}:{port} ({err.strerror})",
                           "pick another port or leave --port out for a free one") from None
    sock.listen(128)
    return sock


def serve_board(env: Mapping[str, str], cwd: str, *, port: int, open_page: bool, read_only: bool,
                out: Callable[[str], None]) -> int:
    """Serve the board of the project at `cwd` until interrupted; the URL is the first line of `out`."""
    run_id = secrets.token_hex(4)  # the board's writer key: its undo reverts only this run's changes
    backlog = open_backlog(env, cwd, channel="board", agent=f"board:{user_name(env)}", writer=f"board:{run_id}")
    sock = listen(port)
    bound = sock.getsockname()[1]
    token = secrets.token_urlsafe(24)
    url = f"http://{HOST}:{bound}/?token={token}"
    app = build(backlog, token=token, port=lambda: bound, read_only=read_only)
    out(url)
    sys.stdout.flush()
    if open_page:
        webbrowser.open(url)
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on",
                            timeout_graceful_shutdown=1, server_header=False)
    try:
        uvicorn.Server(config).run(sockets=[sock])
    except KeyboardInterrupt:
        pass  # Ctrl-C is how a board ends
    finally:
        sock.close()
        backlog.store.close()
    return 0
