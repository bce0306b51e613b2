"""Who may talk to the board (pure): the Host check, the token → cookie exchange, same-origin writes.

The safety model (README "Live board"): the server binds 127.0.0.1 only; a request whose Host
is not 127.0.0.1:<port> or localhost:<port> is refused (DNS rebinding); the per-run token of
the printed URL is exchanged once for an HttpOnly SameSite=Strict cookie and stripped from
the URL; every request needs that cookie; a write (any method but GET/HEAD) also needs an
Origin of this board, or Sec-Fetch-Site: same-origin when the browser sends no Origin.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from http.cookies import CookieError, SimpleCookie
from urllib.parse import parse_qsl, urlencode

COOKIE = "backlog_board"
READS = ("GET", "HEAD")


@dataclass(frozen=True)
class Verdict:
    """What to answer instead of the app: a status, a one-line reason and headers (empty: let it through)."""

    status: int = 0
    reason: str = ""
    headers: tuple[tuple[str, str], ...] = ()


PASS = Verdict()


def hosts(port: int) -> tuple[str, ...]:
    return (f"127.0.0.1:{port}", f"localhost:{port}")


def cookie_value(header: str, name: str = COOKIE) -> str:
    jar = SimpleCookie()
    try:
        jar.load(header)
    except CookieError:  # a malformed Cookie header is no cookie
        return ""
    return jar[name].value if name in jar else ""


def check(method: str, path: str, query: str, headers: dict[str, str], *, port: int, token: str) -> Verdict:
    """The verdict on one request; `headers` have lower-case names."""
    if headers.get("host", "") not in hosts(port):
        return Verdict(421, "host: this board answers only to 127.0.0.1:%d or localhost:%d" % (port, port))
    pairs = parse_qsl(query, keep_blank_values=True)
    given = [v for k, v in pairs if k == "token"]
    if given and method in READS:
        if not secrets.compare_digest(given[-1].encode(), token.encode()):
            return Verdict(403, "token: wrong token; open the URL `backlog board` printed")
        rest = urlencode([(k, v) for k, v in pairs if k != "token"])
        cookie = f"{COOKIE}={token}; HttpOnly; SameSite=Strict; Path=/"
        return Verdict(303, "", (("location", path + ("?" + rest if rest else "")), ("set-cookie", cookie)))
    if not secrets.compare_digest(cookie_value(headers.get("cookie", "")).encode(), token.encode()):
        return Verdict(403, "token: missing; open the URL `backlog board` printed (it carries the token)")
    if method not in READS and not same_origin(headers, port):
        return Verdict(403, "origin: a write must come from this board's own page; reload it and try again")
    return PASS


def same_origin(headers: dict[str, str], port: int) -> bool:
    """True when Origin names this board, or, with no Origin, Sec-Fetch-Site says same-origin."""
    origin = headers.get("origin")
    if origin is not None:
        return origin in tuple("http://" + h for h in hosts(port))
    return headers.get("sec-fetch-site") == "same-origin"
