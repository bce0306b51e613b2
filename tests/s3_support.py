"""A real S3 for the tests: moto's server in its own process on 127.0.0.1, and the places in it.

`moto_server()` starts one (skipped without moto, failed under CI=true); `Place` is where
one store lives — a data dir or a bucket prefix — with what a test needs to open it in
this process (`open`), in a subprocess (`env`) and to damage it on purpose.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from conftest import REPO, missing

from backlog.store.store import Store

TYPE_CHECKING = False
if TYPE_CHECKING:
    from backlog.store.s3 import S3Backend

BUCKET = "backlog-tests"
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1"}
START_TIMEOUT_S = 60


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def moto_server(env: dict | None = None, port: int | None = None) -> Iterator[str]:
    """The endpoint URL of a fresh moto server process with BUCKET in it (on `port`, else a free
    one), its conditional puts atomic as S3's (tests/moto_atomic.py); stopped afterwards."""
    try:
        import boto3  # noqa: F401
        import moto  # noqa: F401
    except ImportError:
        missing("boto3/moto are not installed; pip install -e '.[s3,s3-test]' (bash .ci/run does)")
    port = port or free_port()
    proc = subprocess.Popen([sys.executable, "-m", "tests.moto_atomic", "-H", "127.0.0.1", "-p", str(port)],
                            env={**os.environ, "PYTHONPATH": str(REPO), **(env or {})}, cwd=REPO,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    endpoint = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            try:
                urllib.request.urlopen(endpoint + "/moto-api/", timeout=2).close()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"moto server on port {port} did not start") from None
                time.sleep(0.1)
        client(endpoint).create_bucket(Bucket=BUCKET)
        yield endpoint
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def client(endpoint: str) -> object:
    import boto3

    return boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                        aws_access_key_id="testing", aws_secret_access_key="testing")


class Place:
    """Where one store lives: `kind` 'files' (a data dir), 's3' (a fresh prefix of BUCKET) or
    's3-light' (the same, opened through the standard-library client hooks use)."""

    def __init__(self, kind: str, tmp_path: Path, endpoint: str | None = None) -> None:
        self.kind, self.endpoint = kind, endpoint
        if kind == "files":
            self.root = tmp_path / "data"
            self.env = {"TASKDATA": str(self.root)}
        else:
            self.prefix = f"t/{uuid.uuid4().hex[:12]}"
            self.env = {"BACKLOG_BACKEND": "s3", "BACKLOG_S3_BUCKET": BUCKET, "BACKLOG_S3_PREFIX": self.prefix,
                        "BACKLOG_S3_ENDPOINT": endpoint, "BACKLOG_S3_REGION": "us-east-1",
                        "XDG_CACHE_HOME": str(tmp_path / "cache"), **CREDENTIALS}

    def open(self, **options: int) -> Store:
        """The store, opened afresh (its own backend: another 'machine' for S3)."""
        if self.kind == "files":
            return Store.open(self.root, **options)
        from backlog.runtime import open_s3

        saved = {k: os.environ.get(k) for k in CREDENTIALS}
        os.environ.update(CREDENTIALS)  # boto3 reads credentials from the environment, the standard way
        try:
            return open_s3({**self.env, **CREDENTIALS}, self.prefix, light=self.kind == "s3-light", **options)
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value

    def open_at(self, prefix: str, **options: int) -> Store:
        """The store under another place's `prefix`, through this place's endpoint (e.g. a proxy)."""
        self.prefix = prefix
        self.env = {**self.env, "BACKLOG_S3_PREFIX": prefix}
        return self.open(**options)

    def read(self, name: str) -> bytes:
        """The raw bytes of item `name` (`format.json`, `txn/000000000001`, `journal/000000.jsonl`)."""
        if self.kind == "files":
            return (self.root / name).read_bytes()
        return client(self.endpoint).get_object(Bucket=BUCKET, Key=f"{self.prefix}/{name}")["Body"].read()

    def write(self, name: str, data: bytes) -> None:
        """Overwrite item `name` behind the store's back (damage, a newer format)."""
        if self.kind == "files":
            (self.root / name).write_bytes(data)
        else:
            client(self.endpoint).put_object(Bucket=BUCKET, Key=f"{self.prefix}/{name}", Body=data)

    def first_record(self) -> str:
        """The name of the item holding the first committed record."""
        return "journal/000000.jsonl" if self.kind == "files" else "txn/000000000001"


class Bucket(Place):
    """An S3 place whose stores share one client: each `backend()` is another machine without a cache."""

    def __init__(self, endpoint: str, tmp_path: Path, s3: object) -> None:
        super().__init__("s3", tmp_path, endpoint)
        self.s3 = s3

    def backend(self) -> S3Backend:
        """A fresh backend, nothing read yet (a damaged store cannot be opened)."""
        from backlog.store.s3 import S3Backend

        return S3Backend(self.s3, BUCKET, self.prefix + "/")

    def open(self, **options: int) -> Store:
        store = Store(self.backend(), **options)
        store.load()
        return store


class Proxy:
    """A loopback HTTP proxy in front of an S3 endpoint that misbehaves on purpose.

    `fault(method, path)` decides each request's fate: "pass"; "slow" (forwarded after 0.3 s);
    "503" (answered 503, never
    forwarded); "reset" (connection closed, never forwarded); "503-after" (forwarded, so it
    lands, then answered 503); "drop-after" (forwarded, then the connection closed: the
    answer is lost). `strip_if_none_match`: puts go on without If-None-Match (a server that
    ignores it). `before_txn_put`: called once, before the first put of a `txn/` key is
    forwarded (another machine commits first). `faults` counts the requests not passed.
    """

    def __init__(self, endpoint: str, *, fault: Callable[[str, str], str] | None = None,
                 strip_if_none_match: bool = False, before_txn_put: Callable[[], object] | None = None) -> None:
        import http.client
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        target = endpoint.removeprefix("http://")
        proxy = self
        self.fault, self.strip, self.before, self.faults = fault or (lambda m, p: "pass"), strip_if_none_match, before_txn_put, 0
        self.mutex = threading.Lock()

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                return None

            def _forward(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0) or 0))
                with proxy.mutex:
                    fate = proxy.fault(self.command, self.path)
                    proxy.faults += fate != "pass"
                    before = proxy.before if self.command == "PUT" and "/txn/" in self.path else None
                    if before:
                        proxy.before = None
                if before:
                    before()
                if fate == "slow":
                    time.sleep(0.3)
                if fate in ("503", "reset"):
                    return self._answer(503, [], b"<Error><Code>ServiceUnavailable</Code></Error>", fate == "reset")
                headers = {k: v for k, v in self.headers.items() if not (proxy.strip and k.lower() == "if-none-match")}
                conn = http.client.HTTPConnection(target, timeout=30)
                conn.request(self.command, self.path, body=body, headers=headers)
                answer = conn.getresponse()
                data = answer.read()
                conn.close()
                if fate == "503-after":
                    return self._answer(503, [], b"<Error><Code>ServiceUnavailable</Code></Error>", False)
                self._answer(answer.status, answer.getheaders(), data, fate == "drop-after")

            def _answer(self, status: int, headers: list, data: bytes, drop: bool) -> None:
                if drop:
                    self.close_connection = True
                    return
                self.send_response(status)
                for key, value in headers:
                    if key.lower() not in ("transfer-encoding", "connection", "content-length"):
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)

            do_GET = do_PUT = do_HEAD = do_DELETE = do_POST = _forward

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.endpoint = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Proxy:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
