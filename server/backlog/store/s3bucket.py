"""Requests to one prefix of one bucket: the client, its settings, one-line errors, the server's clock.

`settings` reads an entry point's S3 variables; `make_client` makes a boto3 client with
bounded retries and timeouts (or s3light's, for hooks). `Bucket` sends every request of an
S3 backend (s3.py) under its prefix: each failure that is not an answer the caller expects
becomes one StoreError line naming the bucket, the request and the fix; credentials and
object bodies never appear. Every answer's Date header sets `server_now()`.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator, Mapping
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime

from backlog.errors import BacklogError, StoreError

ATTEMPTS = 5  # botocore's standard retry mode: tries per request (backoff grows to ~20 s in all)
CONNECT_TIMEOUT_S, READ_TIMEOUT_S = 5, 15
_CREDENTIALS = {"AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch", "ExpiredToken",
                "InvalidToken", "AllAccessDisabled", "403"}
_CONFLICT = ("PreconditionFailed", "412", "ConditionalRequestConflict", "409")


def settings(env: Mapping[str, str], prefix: str | None) -> dict:
    """The S3 settings of an entry point's environment and the key prefix it resolved
    (paths.s3_prefix); BacklogError names a missing or bad variable."""
    bucket = env.get("BACKLOG_S3_BUCKET", "")
    if not bucket:
        raise BacklogError("BACKLOG_S3_BUCKET", "is not set but BACKLOG_BACKEND is 's3'",
                           "set it to the bucket that holds the shared backlog")
    if not prefix:
        raise BacklogError("BACKLOG_S3_PREFIX", "is not set and the repository has no origin remote to name "
                           "this backlog by", "set it to a name the team shares, e.g. 'backlogs/shop'")
    sse = env.get("BACKLOG_S3_SSE", "")
    if sse not in ("", "AES256", "aws:kms"):
        raise BacklogError("BACKLOG_S3_SSE", f"'{sse}' is not a server-side encryption", "use AES256 or aws:kms, or unset it")
    return {"bucket": bucket, "prefix": prefix.strip("/") + "/", "region": env.get("BACKLOG_S3_REGION") or None,
            "endpoint": env.get("BACKLOG_S3_ENDPOINT") or None, "sse": sse, "kms_key": env.get("BACKLOG_S3_KMS_KEY", "")}


def make_client(region: str | None, endpoint: str | None, light: tuple[str, str, str] | None = None) -> object:
    """A boto3 S3 client with bounded retries and timeouts; BacklogError when boto3 is missing.

    With `light` credentials (s3light.credentials), the standard-library client instead (hooks).
    """
    if light is not None:
        from backlog.store.s3light import LightClient

        return LightClient(light, region or "us-east-1", endpoint)
    try:
        import boto3
        from botocore.config import Config
    except ImportError:
        raise BacklogError("BACKLOG_BACKEND", "'s3' needs boto3, which is not installed",
                           "pip install 'backlog[s3]'") from None
    config = Config(retries={"max_attempts": ATTEMPTS, "mode": "standard"}, connect_timeout=CONNECT_TIMEOUT_S,
                    read_timeout=READ_TIMEOUT_S, s3={"addressing_style": "path"} if endpoint else {})
    return boto3.session.Session().client("s3", region_name=region, endpoint_url=endpoint, config=config)


class Bucket:
    """The requests of one store under `prefix` (ending in '/') of `bucket`."""

    def __init__(self, client: object, bucket: str, prefix: str, *, sse: str = "", kms_key: str = "") -> None:
        self.client, self.bucket, self.prefix = client, bucket, prefix
        self.root = f"s3://{bucket}/{prefix.rstrip('/')}"
        self._put_extra = {"ServerSideEncryption": sse, **({"SSEKMSKeyId": kms_key} if kms_key else {})} if sse else {}
        self._probed = False
        self.requests = 0  # requests sent (for measurements and tests)
        self._server_at: tuple[datetime, float] | None = None  # the last answer's Date, and our monotonic time then
        events = getattr(getattr(client, "meta", None), "events", None)
        if events is not None:
            events.register("after-call.s3", self._note_date)

    def _note_date(self, http_response: object = None, **_: object) -> None:
        date = getattr(http_response, "headers", {}).get("Date")
        try:
            self._server_at = (parsedate_to_datetime(date), time.monotonic()) if date else self._server_at
        except (TypeError, ValueError):
            pass  # no usable Date header: keep the last one

    def server_now(self) -> datetime | None:
        """The server's time (its last answer's Date plus the time elapsed here since), or None before any answer.

        Leases expire by this clock, so machines whose clocks disagree still agree on them.
        """
        if self._server_at is None:
            return None
        date, at = self._server_at
        return (date + timedelta(seconds=time.monotonic() - at)).replace(microsecond=0)

    # -- requests --------------------------------------------------------------------------
    def _call(self, op: str, what: str, **params: object) -> dict:
        """One S3 request; StoreError naming the bucket and the fix when it fails for good."""
        self.requests += 1
        try:
            return getattr(self.client, op)(Bucket=self.bucket, **params)
        except Exception as err:  # botocore's errors, raised after its bounded retries
            raise self._error(what, err) from None

    def _error(self, what: str, err: Exception) -> StoreError:
        code = _code(err)
        if code in ("NoSuchBucket",):
            fix = "check BACKLOG_S3_BUCKET (the bucket must exist)"
        elif code in _CREDENTIALS or type(err).__name__ in ("NoCredentialsError", "PartialCredentialsError"):
            fix = "check the AWS credentials (AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY) and the bucket policy"
        elif type(err).__name__ in ("EndpointConnectionError", "ConnectTimeoutError", "ReadTimeoutError",
                                    "ConnectionClosedError") or code.startswith("5") or code in (
                                        "SlowDown", "Throttling", "ConnectionError"):
            fix = "the server did not answer after retries; check BACKLOG_S3_ENDPOINT or the network and retry"
        else:
            fix = "check BACKLOG_S3_BUCKET, BACKLOG_S3_REGION and BACKLOG_S3_ENDPOINT"
        return StoreError(f"{self.root}: {what} failed ({code or type(err).__name__}); {fix}")

    def _get(self, key: str, what: str) -> dict | None:
        """GET `key` (None when absent)."""
        return self._read("get_object", key, what)

    def _head(self, key: str, what: str) -> dict | None:
        """HEAD `key` (None when absent)."""
        return self._read("head_object", key, what)

    def _read(self, method: str, key: str, what: str) -> dict | None:
        try:
            self.requests += 1
            return getattr(self.client, method)(Bucket=self.bucket, Key=self.prefix + key)
        except Exception as err:
            if _code(err) in ("NoSuchKey", "404"):
                return None
            raise self._error(what, err) from None

    def _put_new(self, key: str, data: bytes, what: str, **extra: object) -> dict | None:
        """Create `key` only if it does not exist: the answer, or None when it did (412)."""
        try:
            self.requests += 1
            return self.client.put_object(Bucket=self.bucket, Key=self.prefix + key, Body=data, IfNoneMatch="*",
                                          **self._put_extra, **extra)
        except Exception as err:
            if conflicted(err):
                return None
            raise self._error(what, err) from None

    def _list(self, sub: str, start_after: str = "") -> Iterator[dict]:
        """Every object under `sub/`, in key order, after `start_after` (a key under `sub/`)."""
        params = {"Prefix": self.prefix + sub + "/"}
        if start_after:
            params["StartAfter"] = self.prefix + start_after
        while True:
            page = self._call("list_objects_v2", f"listing {sub}/", **params)
            for item in page.get("Contents", ()):
                yield {**item, "Key": item["Key"][len(self.prefix):]}
            if not page.get("IsTruncated"):
                return
            params["ContinuationToken"] = page["NextContinuationToken"]

    # -- the conditional-write probe -------------------------------------------------------
    def probe(self) -> None:
        """Refuse a server that ignores If-None-Match (its silent last-writer-wins would lose data).

        Puts the probe key conditionally until a put is refused: the first put may create it,
        the second must answer 412. Done once per backend, before its first write.
        """
        if self._probed:
            return
        for _ in range(2):
            if self._put_new("probe", b"If-None-Match probe", "the conditional-write probe") is None:
                self._probed = True
                return
        raise StoreError(f"{self.root}: the server accepted a second put of the same key with If-None-Match: *, "
                         "so concurrent writers would overwrite each other; use an S3 server that enforces "
                         "conditional writes (AWS S3, MinIO, moto) via BACKLOG_S3_ENDPOINT")

    def keep_damaged(self, name: str, data: bytes, stamp: str) -> str:
        """Keep a damaged item's bytes as `damaged/<stamp>/<name>` (never read back); returns that key."""
        key = f"damaged/{stamp}/" + re.sub(r"[^A-Za-z0-9._/-]+", "-", name).strip("-")
        self._call("put_object", f"keeping a copy of {name}", Key=self.prefix + key, Body=data, **self._put_extra)
        return key


def _code(err: Exception) -> str:
    """The S3 error code of a botocore ClientError ('' for other errors)."""
    response = getattr(err, "response", None)
    return str(response.get("Error", {}).get("Code", "")) if isinstance(response, dict) else ""


def conflicted(err: Exception) -> bool:
    """True for the answer of a conditional request whose condition did not hold (412, or 409 under a race)."""
    return _code(err) in _CONFLICT
