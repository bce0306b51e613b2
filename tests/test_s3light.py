"""The hooks' standard-library S3 client signs exactly as botocore does (SigV4), so what moto
accepts without checking signatures, AWS accepts too; and hooks on S3 never import boto3."""

from __future__ import annotations

import hashlib
import subprocess
import sys

import pytest

from conftest import REPO

from backlog.store.s3light import credentials, sign

AMZ_DATE = "20261124T101453Z"


@pytest.mark.parametrize("method, url, extra, body", [
    ("GET", "https://s3.eu-central-1.amazonaws.com/acme/backlogs/shop/txn/000000000001", {}, b""),
    ("PUT", "https://s3.eu-central-1.amazonaws.com/acme/backlogs/shop/txn/000000000002",  # a conditional commit
     {"If-None-Match": "*", "x-amz-meta-txn": "0f3c", "x-amz-security-token": "tok"}, b'{"seq":2}'),
    ("GET", "https://s3.eu-central-1.amazonaws.com/acme?continuation-token=a%2Fb%3D&list-type=2&prefix=p%2Ftxn%2F"
            "&start-after=p%2Ftxn%2F000000000007", {}, b""),  # a listing page, query sorted and escaped
    ("PUT", "http://127.0.0.1:9000/acme/odd%20name/%C3%BC", {"If-Match": '"abc"'}, b"x"),  # an escaped key
])
def test_signatures_match_botocores(method, url, extra, body):
    botocore = pytest.importorskip("botocore")
    from botocore.auth import S3SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    payload = hashlib.sha256(body).hexdigest()
    host = url.split("/")[2]
    headers = {"host": host, "x-amz-date": AMZ_DATE, "x-amz-content-sha256": payload, **extra}
    mine = sign(method, url, headers, payload, key="AKID", secret="SECRET", region="eu-central-1", amz_date=AMZ_DATE)

    request = AWSRequest(method=method, url=url, data=body,
                         headers={"X-Amz-Date": AMZ_DATE, "X-Amz-Content-SHA256": payload, **extra})
    request.context["timestamp"] = AMZ_DATE
    auth = S3SigV4Auth(Credentials("AKID", "SECRET", "tok" if "x-amz-security-token" in extra else None),
                       "s3", "eu-central-1")
    canonical = auth.canonical_request(request)
    theirs = auth.signature(auth.string_to_sign(request, canonical), request)
    assert botocore and mine.endswith(f"Signature={theirs}")


def test_the_light_client_needs_both_keys():
    assert credentials({"AWS_ACCESS_KEY_ID": "a"}) is None
    assert credentials({"AWS_ACCESS_KEY_ID": "a", "AWS_SECRET_ACCESS_KEY": "b"}) == ("a", "b", "")


def test_a_hook_on_s3_does_not_import_boto3():
    code = ("import sys; from backlog.store.s3bucket import make_client; "
            "make_client('us-east-1', 'http://127.0.0.1:9', ('a', 'b', '')); "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('boto3', 'botocore')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=60)
    assert out.stdout.strip() == "[]", out.stderr
