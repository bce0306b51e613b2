"""The container image, built from the repository's Dockerfile with podman and run for real.

There is no Docker daemon and no registry here: the base is `localhost/py-base:bookworm`, made
once per machine by `.ci/base-image` (debootstrap) and kept in podman's store. podman runs with
a private containers.conf (runc, ulimits this VM allows); the build sees the host's CA bundle
through a read-only bind mount. Each test module run builds one image and removes it after.
"""

from __future__ import annotations

import json
import os
import select
import subprocess
import time
import uuid
from pathlib import Path

import pytest

from tests.conftest import NOW_ISO, REPO, require_tool
from s3_support import BUCKET, CREDENTIALS, client, moto_server

pytestmark = pytest.mark.needs_tools

BASE = "localhost/py-base:bookworm"
CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"
MAX_IMAGE_BYTES = 260 * 1000 * 1000  # the 260 MB, as podman counts (10^6)
STOP_GRACE_S = 2  # `podman stop -t 2`: SIGTERM, then SIGKILL (exit 137) 2 s later
TIMEOUT_S = 600
CONTAINERS_CONF = """\
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]

[engine]
runtime = "runc"
"""


def request(rid: int | None, method: str, params: dict | None = None) -> str:
    """One JSON-RPC line; `rid=None` makes it a notification."""
    message: dict = {"jsonrpc": "2.0", "method": method}
    if rid is not None:
        message["id"] = rid
    if params is not None:
        message["params"] = params
    return json.dumps(message) + "\n"


INITIALIZE = request(1, "initialize", {"protocolVersion": "2025-06-18", "capabilities": {},
                                       "clientInfo": {"name": "smoke", "version": "1"}})
INITIALIZED = request(None, "notifications/initialized")


def call(rid: int, tool: str, arguments: dict) -> str:
    return request(rid, "tools/call", {"name": tool, "arguments": arguments})


def answer(ran: subprocess.CompletedProcess, rid: int) -> dict:
    """The result of request `rid` among the JSON-RPC lines on stdout."""
    found = [json.loads(line) for line in ran.stdout.splitlines() if line.strip()]
    by_id = {message["id"]: message for message in found if "id" in message}
    assert rid in by_id, f"no answer to request {rid} before the server exited: {ran.stderr[-2000:]}"
    return by_id[rid]["result"]


@pytest.fixture(scope="module")
def podman(tmp_path_factory) -> dict:
    """The environment podman runs in: CONTAINERS_CONF pointing at a private file."""
    require_tool("podman")
    require_tool("runc")
    conf = tmp_path_factory.mktemp("podman") / "containers.conf"
    conf.write_text(CONTAINERS_CONF, encoding="utf-8")
    return {**os.environ, "CONTAINERS_CONF": str(conf)}


def run(args: list[str], env: dict, stdin: str | None = None, timeout: float = TIMEOUT_S) -> subprocess.CompletedProcess:
    return subprocess.run(args, input=stdin, capture_output=True, text=True, env=env, timeout=timeout)


def image_bytes(name: str, env: dict) -> int:
    return int(run(["podman", "image", "inspect", "--format", "{{.Size}}", name], env).stdout)


@pytest.fixture(scope="module")
def base(podman) -> str:
    """The base image: reused from podman's store, or made by .ci/base-image (needs debootstrap)."""
    if run(["podman", "image", "exists", BASE], podman).returncode != 0:
        require_tool("debootstrap")
        made = run(["bash", str(REPO / ".ci" / "base-image"), BASE], podman, timeout=1200)
        assert made.returncode == 0, made.stdout + made.stderr
    return BASE


@pytest.fixture(scope="module")
def image(podman, base):
    """The repository's image, built on `base` (no layer cache: nothing is left behind), then removed."""
    name = f"localhost/backlog-test-{uuid.uuid4().hex[:12]}"
    args = ["podman", "build", "--layers=false", "--build-arg", f"BASE={base}", "-t", name]
    if Path(CA_BUNDLE).exists():  # downloads may go through a TLS-re-signing proxy only the host trusts
        args += ["--build-arg", f"PIP_CERT={CA_BUNDLE}", "-v", f"{CA_BUNDLE}:{CA_BUNDLE}:ro"]
    start = time.monotonic()
    built = run([*args, str(REPO)], podman, timeout=1200)
    seconds = time.monotonic() - start
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
    yield {"name": name, "build_s": seconds}
    run(["podman", "rmi", "-f", name], podman)


def podman_run(image: dict, env: dict, *options: str, stdin: str = "") -> subprocess.CompletedProcess:
    """`podman run --rm -i [options] image` with `stdin` piped in, as an MCP registry checks a server."""
    return run(["podman", "run", "--rm", "-i", "-e", f"BACKLOG_NOW={NOW_ISO}", *options, image["name"]],
               env, stdin=stdin)


def test_image_is_small_runs_as_non_root_and_serves_stdio(podman, base, image, capsys):
    size, base_size = image_bytes(image["name"], podman), image_bytes(base, podman)
    with capsys.disabled():
        print(f"\n[image] {size / 1e6:.0f} MB on {base} ({base_size / 1e6:.0f} MB); "
              f"built in {image['build_s']:.0f} s")
    assert size <= MAX_IMAGE_BYTES
    config = json.loads(run(["podman", "image", "inspect", "--format", "{{json .Config}}", image["name"]],
                            podman).stdout)
    assert config["Entrypoint"] == ["backlog", "serve"]
    assert config["User"] == "10001:10001"
    assert "TASKDATA=/data" in config["Env"]
    assert "/data" in config["Volumes"]
    whoami = podman_run(image, podman, "--entrypoint", "id")
    assert whoami.stdout.split()[:2] == ["uid=10001(backlog)", "gid=10001(backlog)"], whoami.stderr


def test_piped_initialize_is_answered(podman, image):
    ran = podman_run(image, podman, stdin=INITIALIZE)
    assert ran.returncode == 0, ran.stderr
    result = answer(ran, 1)
    assert result["serverInfo"]["name"] == "backlog"
    assert "tools" in result["capabilities"]


def test_tasks_persist_across_runs_on_a_volume(podman, image, tmp_path):
    """Piped tools/call answers arrive before the server exits on end-of-file; the data outlives the run."""
    volume = tmp_path / "tasks"
    volume.mkdir()
    mount = f"{volume}:/data:U"  # :U makes the directory the container user's (uid 10001)
    added = podman_run(image, podman, "-v", mount,
                       stdin=INITIALIZE + INITIALIZED + call(2, "task_add", {"description": "ship the image"}))
    assert added.returncode == 0, added.stderr
    task = answer(added, 2)["structuredContent"]["task"]
    assert task["description"] == "ship the image"
    assert {path.stat().st_uid for path in [volume, *volume.rglob("*")]} == {10001}
    listed = podman_run(image, podman, "-v", mount, stdin=INITIALIZE + INITIALIZED + call(2, "task_list", {}))
    assert listed.returncode == 0, listed.stderr
    tasks = answer(listed, 2)["structuredContent"]["tasks"]
    assert [(t["id"], t["description"]) for t in tasks] == [(task["id"], "ship the image")]


def test_podman_stop_ends_the_server_within_two_seconds(podman, image):
    """SIGTERM to the server as PID 1 ends it: `podman stop -t 2` never has to SIGKILL it (exit 137)."""
    name = f"backlog-stop-{uuid.uuid4().hex[:12]}"
    server = subprocess.Popen(["podman", "run", "--rm", "-i", "--name", name, image["name"]],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True, env=podman)
    try:
        assert server.stdin is not None and server.stdout is not None
        server.stdin.write(INITIALIZE)
        server.stdin.flush()
        assert select.select([server.stdout], [], [], TIMEOUT_S)[0], "no answer to initialize"
        assert json.loads(server.stdout.readline())["id"] == 1  # up, signal handlers in place
        stopped = run(["podman", "stop", "-t", str(STOP_GRACE_S), name], podman)
        assert stopped.returncode == 0, stopped.stderr
        assert server.wait(timeout=TIMEOUT_S) != 137, "the server ignored SIGTERM; podman killed it"
    finally:
        if server.poll() is None:
            run(["podman", "rm", "-f", name], podman)
            server.kill()
        server.wait()


def test_a_run_with_the_s3_variables_shares_its_tasks_through_the_bucket(podman, image):
    """The image carries the s3 extra: two runs (two "machines") with the README's S3 variables
    against moto on the host's loopback (`--network host`) share one backlog; nothing is kept in
    the container."""
    with moto_server() as endpoint:
        variables = {"BACKLOG_BACKEND": "s3", "BACKLOG_S3_BUCKET": BUCKET, "BACKLOG_S3_PREFIX": "team/shop",
                     "BACKLOG_S3_ENDPOINT": endpoint, "BACKLOG_S3_REGION": "us-east-1", **CREDENTIALS}
        options = ["--network", "host", *(arg for key, value in variables.items() for arg in ("-e", f"{key}={value}"))]
        added = podman_run(image, podman, *options,
                           stdin=INITIALIZE + INITIALIZED + call(2, "task_add", {"description": "shared from a container"}))
        assert added.returncode == 0, added.stderr
        assert answer(added, 2)["structuredContent"]["task"]["description"] == "shared from a container"
        keys = [o["Key"] for o in client(endpoint).list_objects_v2(Bucket=BUCKET, Prefix="team/shop/txn/")["Contents"]]
        assert keys == ["team/shop/txn/000000000001"]
        listed = podman_run(image, podman, *options, stdin=INITIALIZE + INITIALIZED + call(2, "task_list", {}))
        assert listed.returncode == 0, listed.stderr
        assert [t["description"] for t in answer(listed, 2)["structuredContent"]["tasks"]] == ["shared from a container"]
