"""A small S3 client for hooks: SigV4 over the standard library, without importing boto3.

Importing boto3 and making its client costs a hook about a second; this client answers the
five calls S3Backend makes (get, head, put, list v2, delete) in botocore's shapes (response
dicts; errors with `.response["Error"]["Code"]`), signs them with AWS Signature Version 4
from credentials in the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
AWS_SESSION_TOKEN), and retries 5xx, throttling and connection failures with backoff for a
bounded time, as botocore's standard mode does. Anything else (profiles, instance roles)
is boto3's job: the runtime uses this client only when the environment holds the keys.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import io
import random
import time
import urllib.parse
from collections.abc import Callable, Mapping
from datetime import datetime
from email.utils import parsedate_to_datetime

ATTEMPTS = 5
TIMEOUT_S = 15
_RETRY = {500, 502, 503, 504, 429}


class LightError(Exception):
    """An S3 error answer, or a connection failure (code `ConnectionError`), shaped like botocore's."""

    def __init__(self, code: str, status: int, message: str = "") -> None:
        super().__init__(f"{code}: {message}" if message else code)
        self.response = {"Error": {"Code": code, "Message": message}, "ResponseMetadata": {"HTTPStatusCode": status}}


class _Events:
    """The one botocore event S3Backend listens to: `after-call.s3`, with the HTTP answer."""

    def __init__(self) -> None:
        self.after_call: list[Callable[..., None]] = []

    def register(self, name: str, handler: Callable[..., None]) -> None:
        if name == "after-call.s3":
            self.after_call.append(handler)


class _Meta:
    def __init__(self) -> None:
        self.events = _Events()


class _Answer:
    def __init__(self, status: int, headers: Mapping[str, str], body: bytes) -> None:
        self.status_code, self.headers, self.content = status, headers, body


def credentials(env: Mapping[str, str]) -> tuple[str, str, str] | None:
    """(key id, secret, session token or '') from the environment, or None when not both keys are there."""
    key, secret = env.get("AWS_ACCESS_KEY_ID", ""), env.get("AWS_SECRET_ACCESS_KEY", "")
    return (key, secret, env.get("AWS_SESSION_TOKEN", "")) if key and secret else None


def sign(method: str, url: str, headers: dict[str, str], payload_hash: str, *, key: str, secret: str,
         region: str, amz_date: str) -> str:
    """The SigV4 Authorization header of a request to S3 (`headers` must hold host and every x-amz-* sent)."""
    parts = urllib.parse.urlsplit(url)
    query = sorted(urllib.parse.parse_qsl(parts.query, keep_blank_values=True))
    canonical_query = "&".join(f"{_quote(k)}={_quote(v)}" for k, v in query)
    names = sorted(name.lower() for name in headers)
    canonical_headers = "".join(f"{name}:{' '.join(str(headers[_find(headers, name)]).split())}\n" for name in names)
    signed = ";".join(names)
    request = "\n".join([method, parts.path or "/", canonical_query, canonical_headers, signed, payload_hash])
    scope = f"{amz_date[:8]}/{region}/s3/aws4_request"
    to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(request.encode()).hexdigest()])
    signing_key = ("AWS4" + secret).encode()
    for part in (amz_date[:8], region, "s3", "aws4_request"):
        signing_key = hmac.new(signing_key, part.encode(), hashlib.sha256).digest()
    signature = hmac.new(signing_key, to_sign.encode(), hashlib.sha256).hexdigest()
    return f"AWS4-HMAC-SHA256 Credential={key}/{scope}, SignedHeaders={signed}, Signature={signature}"


def _quote(text: str, safe: str = "-_.~") -> str:
    return urllib.parse.quote(text, safe=safe)


def _find(headers: Mapping[str, str], lower: str) -> str:
    return next(name for name in headers if name.lower() == lower)


class LightClient:
    """The calls S3Backend makes, signed with `creds` for `region`, at `endpoint` (path style) or AWS."""

    def __init__(self, creds: tuple[str, str, str], region: str, endpoint: str | None) -> None:
        self.key, self.secret, self.token = creds
        self.region = region
        self.endpoint = (endpoint or f"https://s3.{region}.amazonaws.com").rstrip("/")
        self.meta = _Meta()

    # -- the five calls --------------------------------------------------------------------
    def get_object(self, *, Bucket: str, Key: str) -> dict:
        answer = self._request("GET", Bucket, Key)
        return {"Body": io.BytesIO(answer.content), **self._object_headers(answer)}

    def head_object(self, *, Bucket: str, Key: str) -> dict:
        return self._object_headers(self._request("HEAD", Bucket, Key))

    def put_object(self, *, Bucket: str, Key: str, Body: bytes, IfNoneMatch: str | None = None,
                   IfMatch: str | None = None, Metadata: Mapping[str, str] | None = None,
                   ServerSideEncryption: str | None = None, SSEKMSKeyId: str | None = None) -> dict:
        headers = {f"x-amz-meta-{k}": v for k, v in (Metadata or {}).items()}
        for name, value in (("If-None-Match", IfNoneMatch), ("If-Match", IfMatch),
                            ("x-amz-server-side-encryption", ServerSideEncryption),
                            ("x-amz-server-side-encryption-aws-kms-key-id", SSEKMSKeyId)):
            if value:
                headers[name] = value
        answer = self._request("PUT", Bucket, Key, body=Body, headers=headers)
        return {"ETag": answer.headers.get("ETag", "")}

    def delete_object(self, *, Bucket: str, Key: str) -> dict:
        self._request("DELETE", Bucket, Key)
        return {}

    def list_objects_v2(self, *, Bucket: str, Prefix: str = "", StartAfter: str = "",
                        ContinuationToken: str = "") -> dict:
        from xml.etree import ElementTree  # only listing pays for it

        query = {"list-type": "2", "prefix": Prefix, **({"start-after": StartAfter} if StartAfter else {}),
                 **({"continuation-token": ContinuationToken} if ContinuationToken else {})}
        root = ElementTree.fromstring(self._request("GET", Bucket, "", query=query).content)
        ns = root.tag[: root.tag.index("}") + 1] if root.tag.startswith("{") else ""
        contents = [{"Key": item.findtext(f"{ns}Key"), "Size": int(item.findtext(f"{ns}Size") or 0),
                     "ETag": item.findtext(f"{ns}ETag") or "",
                     "LastModified": _iso_time(item.findtext(f"{ns}LastModified") or "")}
                    for item in root.iter(f"{ns}Contents")]
        page = {"Contents": contents, "IsTruncated": root.findtext(f"{ns}IsTruncated") == "true"}
        if page["IsTruncated"]:
            page["NextContinuationToken"] = root.findtext(f"{ns}NextContinuationToken")
        return page

    # -- transport -----------------------------------------------------------------------
    @staticmethod
    def _object_headers(answer: _Answer) -> dict:
        metadata = {k[11:].lower(): v for k, v in answer.headers.items() if k.lower().startswith("x-amz-meta-")}
        modified = answer.headers.get("Last-Modified")
        return {"ETag": answer.headers.get("ETag", ""), "Metadata": metadata,
                "ContentLength": int(answer.headers.get("Content-Length", 0) or 0),
                **({"LastModified": parsedate_to_datetime(modified)} if modified else {})}

    def _request(self, method: str, bucket: str, key: str, *, body: bytes = b"", headers: dict | None = None,
                 query: Mapping[str, str] | None = None) -> _Answer:
        path = f"/{_quote(bucket)}/{_quote(key, safe='/-_.~')}" if key else f"/{_quote(bucket)}"
        url = self.endpoint + path + ("?" + "&".join(f"{_quote(k)}={_quote(v)}" for k, v in sorted(query.items()))
                                      if query else "")
        for attempt in range(ATTEMPTS):
            try:
                answer = self._send(method, url, body, dict(headers or {}))
            except OSError as err:
                failure: LightError = LightError("ConnectionError", 0, str(err))
            else:
                for handler in self.meta.events.after_call:
                    handler(http_response=answer)
                if answer.status_code < 300:
                    return answer
                failure = _error(answer)
                if answer.status_code not in _RETRY and failure.response["Error"]["Code"] not in ("SlowDown", "Throttling"):
                    raise failure
            if attempt + 1 < ATTEMPTS:
                time.sleep(random.uniform(0, min(8.0, 0.5 * 2 ** attempt)))
        raise failure

    def _send(self, method: str, url: str, body: bytes, headers: dict[str, str]) -> _Answer:
        parts = urllib.parse.urlsplit(url)
        payload_hash = hashlib.sha256(body).hexdigest()
        amz_date = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
        headers.update({"host": parts.netloc, "x-amz-date": amz_date, "x-amz-content-sha256": payload_hash})
        if self.token:
            headers["x-amz-security-token"] = self.token
        headers["Authorization"] = sign(method, url, headers, payload_hash, key=self.key, secret=self.secret,
                                        region=self.region, amz_date=amz_date)
        connection = (http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection)(
            parts.netloc, timeout=TIMEOUT_S)
        try:
            connection.request(method, parts.path + (f"?{parts.query}" if parts.query else ""), body=body or None,
                               headers={**headers, "Content-Length": str(len(body))})
            response = connection.getresponse()
            data = response.read()
            return _Answer(response.status, response.headers, data)  # headers: case-insensitive, as botocore's
        finally:
            connection.close()


def _iso_time(text: str) -> datetime | None:
    """A listing's `2026-12-02T01:50:00.000Z` as an aware datetime (None when unreadable)."""
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None


def _error(answer: _Answer) -> LightError:
    code, message = str(answer.status_code), ""
    if answer.content.lstrip().startswith(b"<"):
        from xml.etree import ElementTree

        try:
            root = ElementTree.fromstring(answer.content)
            code, message = root.findtext("Code") or code, root.findtext("Message") or ""
        except ElementTree.ParseError:
            pass
    return LightError(code, answer.status_code, message)
