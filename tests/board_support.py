"""A real `backlog board --no-open` process for the board tests, and a bare HTTP client for it."""

from __future__ import annotations

import http.client
import signal
import subprocess
import sys
import threading
from dataclasses import dataclass
from urllib.parse import urlsplit

from conftest import REPO

START_LIMIT_S = 120


@dataclass
class Board:
    """A running board: its process, the URL it printed (with the token), port and token."""

    proc: subprocess.Popen
    url: str

    @property
    def port(self) -> int:
        return urlsplit(self.url).port

    @property
    def token(self) -> str:
        return urlsplit(self.url).query.split("token=", 1)[1]

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def request(self, method: str, path: str, headers: dict | None = None, body: str | None = None,
                cookie: bool = True) -> tuple[int, dict[str, str], str]:
        """(status, lower-case headers, body) of one request; the cookie of a browser that opened the URL."""
        sent = {"Host": f"127.0.0.1:{self.port}"}
        if cookie:
            sent["Cookie"] = f"backlog_board={self.token}"
        if body is not None:
            sent["Content-Type"] = "application/x-www-form-urlencoded"
        sent.update(headers or {})
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            conn.putrequest(method, path, skip_host=True)
            for name, value in sent.items():
                conn.putheader(name, value)
            data = body.encode() if body is not None else None
            if data is not None:
                conn.putheader("Content-Length", str(len(data)))
            conn.endheaders(data)
            response = conn.getresponse()
            return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read().decode()
        finally:
            conn.close()

    def stop(self) -> tuple[int, str]:
        """Ctrl-C the board; (exit code, stderr)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        stderr = self.proc.stderr.read()
        self.proc.stdout.close()
        self.proc.stderr.close()
        return self.proc.returncode, stderr


def start_board(env: dict, *args: str) -> Board:
    """`backlog board --no-open ARGS` started; its first stdout line is the URL."""
    proc = subprocess.Popen([sys.executable, "-m", "backlog", "board", "--no-open", *args], env=env, cwd=REPO,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    watchdog = threading.Timer(START_LIMIT_S, proc.kill)  # a board that never prints its URL fails, not hangs
    watchdog.start()
    try:
        url = proc.stdout.readline().strip()
    finally:
        watchdog.cancel()
    if not url.startswith("http://127.0.0.1:"):
        proc.kill()
        proc.wait()
        raise AssertionError(f"board printed {url!r}; stderr: {proc.stderr.read()}")
    return Board(proc, url)
