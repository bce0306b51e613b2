"""Date expressions and durations (SPEC §7): pure, relative to a given `now` and zone.

Public API (the clock and the zone are always parameters; nothing here reads them):
- `parse_date(text, now, tz, field)`: one date expression → aware datetime in `tz`
  (`later`/`someday` → 9999-12-30T00:00:00Z, returned in UTC). BacklogError on anything
  unreadable: one line quoting the input with three examples that work.
- `parse_duration(text, field)`: `3d`, `2wk`, `3 months`, `1h30min`, `P1DT2H`, `-2w` → `Duration`.
- `Duration(months, days, seconds)`: calendar months, calendar days, exact seconds.
- `shift(moment, duration, tz)`: months and days move local wall time (09:00 stays 09:00
  across DST), seconds are elapsed time; months clamp the day (Jan 31 + 1mo = Feb 28).
- `localize(wall, tz)`: naive local wall time → aware. Ambiguous times (DST fall-back) take
  the first occurrence (fold=0); nonexistent ones (spring-forward gap) move forward by the
  gap (02:30 on a 02:00→03:00 night is 03:30).
- `add_months(wall, n)`: naive wall time n months on, day clamped to the month's length.
- `start_of_day(moment, tz)`, `same_local_day(a, b, tz)`.
- `period_bounds(unit, moment, tz)`: half-open `[start, next start)` of the `day`, `week`
  (Mon–Sun), `month`, `quarter` or `year` holding `moment` (virtual tags TODAY … YEAR).
- `local_zone(env)`: the zone of the entry points (TZ, else /etc/localtime, else tzlocal).

Decisions where SPEC §7 is silent: a duration alone is a date relative to now, as in
Taskwarrior (`3d` = `+3d` = `in 3d` = now + 3 days, time kept); `next day|week|month|
quarter|year` = the start of the next such period; `next <weekday|month>` = `<weekday|month>`;
date math takes one or more `±duration` suffixes (`eom-1d`, `today + 2w - 1d`); a naive
ISO time is local wall time; an ISO time with an offset is that instant. Bare numbers, `m`,
`YYYY-MM` and epoch seconds are errors, never guesses. Numbers are whole.
"""

from __future__ import annotations

import os
from datetime import date, datetime, time, timedelta, timezone, tzinfo
from collections.abc import Callable, Mapping

from backlog.core.limits import EARLIEST, LATEST
from backlog.core.patterns import Pattern
from backlog.core.value import Value
from backlog.errors import BacklogError

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing: hooks start fast
if TYPE_CHECKING:
    import re

SOMEDAY = LATEST
PERIOD_UNITS = ("day", "week", "month", "quarter", "year")

# Duration unit word → (canonical short unit, Duration field, factor).
UNITS: Mapping[str, tuple[str, str, int]] = {
    **dict.fromkeys(("s", "sec", "secs", "second", "seconds"), ("s", "seconds", 1)),
    **dict.fromkeys(("min", "mins", "minute", "minutes"), ("min", "seconds", 60)),
    **dict.fromkeys(("h", "hr", "hrs", "hour", "hours"), ("h", "seconds", 3600)),
    **dict.fromkeys(("d", "day", "days"), ("d", "days", 1)),
    **dict.fromkeys(("w", "wk", "wks", "week", "weeks"), ("w", "days", 7)),
    **dict.fromkeys(("mo", "mos", "mth", "mths", "month", "months"), ("mo", "months", 1)),
    **dict.fromkeys(("q", "qtr", "qtrs", "quarter", "quarters"), ("q", "months", 3)),
    **dict.fromkeys(("y", "yr", "yrs", "year", "years"), ("y", "months", 12)),
}
_DAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_MONTH_NAMES = (
    "january", "february", "march", "april", "may", "june",
    "july", "august", "september", "october", "november", "december",
)
WEEKDAYS: Mapping[str, int] = {
    **{name: i for i, name in enumerate(_DAY_NAMES)},
    **{name[:3]: i for i, name in enumerate(_DAY_NAMES)},
    "tues": 1, "thur": 3, "thurs": 3,
}
MONTHS: Mapping[str, int] = {
    **{name: i for i, name in enumerate(_MONTH_NAMES, 1)},
    **{name[:3]: i for i, name in enumerate(_MONTH_NAMES, 1)},
    "sept": 9,
}

_MAX_LENGTH = 100
_DEFAULT_EXAMPLES = ("tomorrow", "2026-12-01", "+3d")
_ISO = Pattern(
    r"(\d{4})-(\d\d)-(\d\d)(?:[t ](\d\d):(\d\d)(?::(\d\d)(?:[.,]\d+)?)?(z|[+-]\d\d(?::?\d\d)?)?)?"
)
_COMPACT = Pattern(r"(\d{4})(\d\d)(\d\d)t(\d\d)(\d\d)(\d\d)(z?)")
_TERM = Pattern(r"(\d+) ?([a-z]+) ?")
_TERMS = Pattern(r"(?:\d+ ?[a-z]+ ?)+")
_ISO_DURATION = Pattern(
    r"p(?:(\d+)y)?(?:(\d+)m)?(?:(\d+)w)?(?:(\d+)d)?(?:t(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?)?"
)
_ORDINAL = Pattern(r"(\d\d?)(st|nd|rd|th)")
_MATH = Pattern(r"(.+?) ?([+-]) ?([^+-]+)")
_M_UNIT = Pattern(r"(?<![a-z])([+-]?)(\d*) ?m$")
_UNKNOWN_UNIT = Pattern(r"(?<![a-z\d])([+-]?\d+) ?([a-z]+)$")
_NUMBER = Pattern(r"[+-]?\d+")
_DECIMAL = Pattern(r"\d[.,]\d")
_YEAR_MONTH = Pattern(r"(\d{4})-(\d\d)")
_POSIX_TZ = Pattern(  # e.g. 'CET-1CEST,M3.5.0,M10.5.0/3', 'JST-9'
    r"[a-z]{3,}[+-]?\d{1,2}(?::\d\d){0,2}(?:[a-z]{3,}(?:[+-]?\d{1,2}(?::\d\d){0,2})?"
    r"(?:,[mj]?[\d.]+(?:/[+-]?\d+(?::\d\d){0,2})?){2})?",
    "IGNORECASE",
)


class Duration(Value):
    """A span: calendar `months`, calendar `days` and exact `seconds` (each may be negative)."""

    months: int = 0
    days: int = 0
    seconds: int = 0

    def __neg__(self) -> Duration:
        return Duration(-self.months, -self.days, -self.seconds)


def _month_days(year: int, month: int) -> int:
    """How many days `month` of `year` has (`calendar.monthrange`'s second value, without its import)."""
    return 31 if month == 12 else (date(year, month + 1, 1) - date(year, month, 1)).days  # to year 9999


class _Unreadable(Exception):
    """Internal: the input is recognisably malformed; carries the reason and examples."""

    def __init__(self, reason: str, examples: tuple[str, ...]) -> None:
        super().__init__(reason)
        self.reason, self.examples = reason, examples


def localize(wall: datetime, tz: tzinfo) -> datetime:
    """The aware time of naive local `wall` in `tz` (fold=0; gaps move forward)."""
    return wall.replace(tzinfo=tz, fold=0).astimezone(timezone.utc).astimezone(tz)


def add_months(wall: datetime, n: int) -> datetime:
    """`wall` n months on (or back), its day clamped to the target month's length."""
    year, month = divmod(wall.month - 1 + n, 12)
    year += wall.year
    return wall.replace(year=year, month=month + 1, day=min(wall.day, _month_days(year, month + 1)))


def shift(moment: datetime, duration: Duration, tz: tzinfo) -> datetime:
    """`moment` + `duration`: months/days on local wall time in `tz`, seconds elapsed."""
    if duration.months or duration.days:
        wall = moment.astimezone(tz).replace(tzinfo=None)
        moment = localize(add_months(wall, duration.months) + timedelta(days=duration.days), tz)
    if duration.seconds:
        moment = (moment.astimezone(timezone.utc) + timedelta(seconds=duration.seconds)).astimezone(tz)
    return moment


def start_of_day(moment: datetime, tz: tzinfo) -> datetime:
    """Local midnight (00:00:00 in `tz`) of the day holding `moment`."""
    return localize(datetime.combine(moment.astimezone(tz).date(), time()), tz)


def same_local_day(a: datetime, b: datetime, tz: tzinfo) -> bool:
    """True when `a` and `b` fall on the same calendar day in `tz`."""
    return a.astimezone(tz).date() == b.astimezone(tz).date()


def _period_start(wall: datetime, unit: str) -> datetime:
    day = datetime(wall.year, wall.month, wall.day)
    if unit == "week":
        return day - timedelta(days=day.weekday())
    month = {"month": day.month, "quarter": (day.month - 1) // 3 * 3 + 1, "year": 1}.get(unit)
    return day if month is None else day.replace(month=month, day=1)


def _period_step(start: datetime, unit: str, n: int) -> datetime:
    if unit in ("day", "week"):
        return start + timedelta(days=n * (7 if unit == "week" else 1))
    return add_months(start, n * {"month": 1, "quarter": 3, "year": 12}[unit])


def period_bounds(unit: str, moment: datetime, tz: tzinfo) -> tuple[datetime, datetime]:
    """`[start, next start)` in `tz` of the day/week/month/quarter/year holding `moment`."""
    if unit not in PERIOD_UNITS:
        raise ValueError(f"unit must be one of {PERIOD_UNITS}, got {unit!r}")
    start = _period_start(moment.astimezone(tz).replace(tzinfo=None), unit)
    return localize(start, tz), localize(_period_step(start, unit, 1), tz)


def _start(unit: str, n: int = 0) -> Callable[[datetime], datetime]:
    return lambda wall: _period_step(_period_start(wall, unit), unit, n)


def _end(unit: str, span: timedelta | None = None) -> Callable[[datetime], datetime]:
    def end(wall: datetime) -> datetime:
        start = _period_start(wall, unit)
        return (start + span if span else _period_step(start, unit, 1)) - timedelta(seconds=1)
    return end


# Named date → function of the naive local wall-clock now → naive local result.
_NAMED: Mapping[str, Callable[[datetime], datetime]] = {
    "today": _start("day"), "sod": _start("day"), "eod": _end("day"),
    "yesterday": _start("day", -1), "tomorrow": _start("day", 1),
    "sow": _start("week"), "eow": _end("week"),
    "soww": _start("week"), "eoww": _end("week", timedelta(days=5)),
    "som": _start("month"), "eom": _end("month"),
    "soq": _start("quarter"), "eoq": _end("quarter"),
    "soy": _start("year"), "eoy": _end("year"),
    **{f"next {unit}": _start(unit, 1) for unit in PERIOD_UNITS},
}
_VOCABULARY = (
    "now", "later", "someday", *_NAMED, *WEEKDAYS, *MONTHS, "in 3 days", "in 2 weeks",
    *(f"next {name}" for name in (*_DAY_NAMES, *_MONTH_NAMES)),
)


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _duration(norm: str) -> Duration | None:
    """The Duration of unsigned, normalised `norm`, or None when it is not one."""
    if _TERMS.fullmatch(norm):
        totals = {"months": 0, "days": 0, "seconds": 0}
        for number, word in _TERM.findall(norm):
            unit = UNITS.get(word)
            if unit is None:
                return None
            totals[unit[1]] += int(number) * unit[2]
        return Duration(**totals)
    match = _ISO_DURATION.fullmatch(norm)
    if match and norm not in ("p", "pt") and not norm.endswith("t"):
        y, mo, w, d, h, mi, s = (int(g or 0) for g in match.groups())
        return Duration(12 * y + mo, 7 * w + d, 3600 * h + 60 * mi + s)
    return None


def _signed_duration(norm: str) -> Duration | None:
    if norm[:1] in ("+", "-"):
        found = _duration(norm[1:].lstrip())
        return -found if found is not None and norm[0] == "-" else found
    return _duration(norm)


def _normalise(text: str) -> str:
    return " ".join(text.lower().split())


def _quote(text: str) -> str:
    """`text` safe to show inside one line of an error message."""
    shown = text if len(text) <= 60 else text[:57] + "..."
    return shown.encode("unicode_escape").decode("ascii") if not shown.isprintable() else shown


def _hints(norm: str, signed: bool) -> _Unreadable | None:
    """A specific reason and examples for common near misses (units, bare numbers)."""
    if not norm:
        return _Unreadable("empty", ())
    match = _M_UNIT.search(norm)
    if match:
        head, sign, n = norm[: match.start()], match.group(1), match.group(2) or "1"
        sign = sign or ("+" if signed and not head else "")
        return _Unreadable(
            "'m' could be minutes or months", tuple(f"{head}{sign}{n}{unit}" for unit in ("min", "mo", "w"))
        )
    if _NUMBER.fullmatch(norm):
        n, sign = int(norm.lstrip("+-")), "-" if norm[0] == "-" else "+"
        if not signed:
            return _Unreadable("a number needs a unit", (f"{n}d", f"{n}h", f"{n}w"))
        third = _ordinal(n) if 1 <= n <= 31 and sign == "+" else "tomorrow"
        return _Unreadable("a number alone is not a date", (f"{sign}{n}d", f"{sign}{n}w", third))
    if _YEAR_MONTH.fullmatch(norm):
        return _Unreadable("a date needs its day", (f"{norm}-01", f"{norm}-15", "som"))
    if _DECIMAL.search(norm):
        return _Unreadable("use whole numbers", ("90min", "36h", "10d"))
    match = _UNKNOWN_UNIT.search(norm)
    if match and match.group(2) not in UNITS:
        head, number = norm[: match.start()], match.group(1)
        import difflib  # only for a mistake (here and below): most processes never need it

        close = difflib.get_close_matches(match.group(2), UNITS, n=1, cutoff=0.6)
        return _Unreadable(f"unknown unit '{match.group(2)}'", tuple(f"{head}{number}{unit}" for unit in close))
    return None


def _error(
    field: str, text: str, hint: _Unreadable, works: Callable[[str], bool], defaults: tuple[str, ...]
) -> BacklogError:
    """One line: the quoted input, the reason, and three examples that `works` accepts."""
    examples = [e for e in dict.fromkeys(hint.examples) if works(e)]
    examples = list(dict.fromkeys(examples + list(defaults)))[:3]
    reason = f" ({hint.reason})" if hint.reason else ""
    fix = "try " + ", ".join(f"'{e}'" for e in examples[:-1]) + f" or '{examples[-1]}'"
    return BacklogError(field, f"cannot read '{_quote(text)}'{reason}", fix)


def parse_duration(text: str, field: str = "duration") -> Duration:
    """The Duration of `3d`, `-2wk`, `1h30min`, `3 months` or ISO `P1Y2M3DT4H5M6S`; BacklogError otherwise."""
    norm = _normalise(text)
    found = _signed_duration(norm) if 0 < len(norm) <= _MAX_LENGTH else None
    if found is not None:
        return found
    hint = _hints(norm, signed=False) or _Unreadable("", ())
    raise _error(field, text, hint, _is_duration, ("3d", "2w", "PT2H"))


def _is_duration(example: str) -> bool:
    return _signed_duration(_normalise(example)) is not None


def _iso(match: re.Match[str], tz: tzinfo) -> datetime:
    year, month, day, hour, minute, second, offset = match.groups()
    y, mo, d = int(year), int(month), int(day)
    if not 1 <= mo <= 12:
        raise _Unreadable(f"there is no month {month}", (f"{year}-12-{day}", f"{year}-01-{day}", "som"))
    last = _month_days(y, mo)
    if not 1 <= d <= last:
        name = _MONTH_NAMES[mo - 1].capitalize()
        raise _Unreadable(
            f"{name} {year} has {last} days", (f"{year}-{month}-{last:02}", f"{year}-{month}-01", "eom")
        )
    h, mi, s = int(hour or 0), int(minute or 0), int(second or 0)
    if h > 23 or mi > 59 or s > 59:
        stamp = f"{year}-{month}-{day}"
        raise _Unreadable("no such time of day", (f"{stamp}T23:59:59", f"{stamp}T09:00", stamp))
    wall = datetime(y, mo, d, h, mi, s)
    if not offset:
        return localize(wall, tz)
    if offset == "z":
        return wall.replace(tzinfo=timezone.utc).astimezone(tz)
    digits = offset[1:].replace(":", "")
    minutes = int(digits[:2]) * 60 + int(digits[2:] or 0)
    if int(digits[2:] or 0) > 59 or minutes >= 24 * 60:
        stamp = f"{year}-{month}-{day}T{hour}:{minute}"
        raise _Unreadable(f"'{offset}' is not a UTC offset", (f"{stamp}+02:00", f"{stamp}Z", stamp))
    zone = timezone(timedelta(minutes=minutes if offset[0] == "+" else -minutes))
    return wall.replace(tzinfo=zone).astimezone(tz)


def _next_ordinal(wall: datetime, day: int) -> datetime:
    """Midnight of the next `day` of month strictly after `wall`'s day, clamped to short months."""
    this = datetime(wall.year, wall.month, 1)
    candidate = this.replace(day=min(day, _month_days(this.year, this.month)))
    if candidate.date() > wall.date():
        return candidate
    after = add_months(this, 1)
    return after.replace(day=min(day, _month_days(after.year, after.month)))


def _resolve(norm: str, now: datetime, tz: tzinfo) -> datetime | None:
    """The datetime of normalised `norm`, None when unrecognised; _Unreadable when malformed."""
    match = _ISO.fullmatch(norm)
    if match:
        return _iso(match, tz)
    if norm == "now":
        return now.astimezone(tz)
    if norm in ("later", "someday"):
        return SOMEDAY
    wall = now.astimezone(tz).replace(tzinfo=None)
    named = _NAMED.get(norm)
    if named:
        return localize(named(wall), tz)
    if norm.startswith("next ") and (norm[5:] in WEEKDAYS or norm[5:] in MONTHS):
        norm = norm[5:]
    if norm in WEEKDAYS:
        ahead = (WEEKDAYS[norm] - wall.weekday() - 1) % 7 + 1
        return localize(_period_start(wall, "day") + timedelta(days=ahead), tz)
    if norm in MONTHS:
        ahead = (MONTHS[norm] - wall.month - 1) % 12 + 1
        return localize(add_months(_period_start(wall, "month"), ahead), tz)
    match = _ORDINAL.fullmatch(norm)
    if match:
        day = int(match.group(1))
        if not 1 <= day <= 31:
            raise _Unreadable("no month has that day", ("1st", "31st", "eom"))
        if _ordinal(day) != norm:
            raise _Unreadable(f"the ordinal is '{_ordinal(day)}'", (_ordinal(day), "eom", "1st"))
        return localize(_next_ordinal(wall, day), tz)
    match = _COMPACT.fullmatch(norm)
    if match:
        y, mo, d, h, mi, s, z = match.groups()
        return _iso(_ISO.fullmatch(f"{y}-{mo}-{d}t{h}:{mi}:{s}{z}"), tz)  # type: ignore[arg-type]
    duration = _signed_duration(norm[3:] if norm.startswith("in ") else norm)
    if duration is not None:
        return shift(now.astimezone(tz), duration, tz)
    match = _MATH.fullmatch(norm)
    if match:
        step = _duration(match.group(3).strip())
        base = _resolve(match.group(1), now, tz) if step is not None else None
        if base is not None and step is not None:
            return shift(base, step if match.group(2) == "+" else -step, tz)
    return None


def parse_date(text: str, now: datetime, tz: tzinfo, field: str = "date") -> datetime:
    """The aware datetime of date expression `text` (SPEC §7); BacklogError naming `field` if unreadable."""
    if now.tzinfo is None:
        raise ValueError("now must be an aware datetime")
    norm = _normalise(text)
    try:
        found = _resolve(norm, now, tz) if len(norm) <= _MAX_LENGTH else None
        hint = None if found is not None else _hints(norm, signed=True)
    except _Unreadable as unreadable:
        found, hint = None, unreadable
    except (OverflowError, ValueError):
        found, hint = None, _Unreadable("out of range", ("someday", "eoy", "+1y"))
    if found is not None and not EARLIEST <= found <= LATEST:  # storable in every zone (core.limits)
        found, hint = None, _Unreadable("out of range", ("someday", "eoy", "+1y"))
    if found is not None:
        return found
    if hint is None:
        import difflib

        hint = _Unreadable("", tuple(difflib.get_close_matches(norm, _VOCABULARY, n=2, cutoff=0.6)))
    raise _error(field, text, hint, lambda e: _readable(e, now, tz), _DEFAULT_EXAMPLES)


def _readable(example: str, now: datetime, tz: tzinfo) -> bool:
    try:
        return _resolve(_normalise(example), now, tz) is not None
    except (_Unreadable, OverflowError, ValueError):
        return False


def local_zone(env: Mapping[str, str], localtime: str = "/etc/localtime") -> tzinfo:
    """`TZ` from `env` (IANA name, `:name`, file path or POSIX rule), else the machine zone; DST-aware.

    An empty TZ means UTC (as in libc). Raises BacklogError("TZ", …) for an unknown zone.
    """
    value = env.get("TZ")
    if value is None:
        return _machine_zone(localtime)
    name = value[1:] if value.startswith(":") else value
    if not name:
        return timezone.utc
    try:
        from zoneinfo import ZoneInfo  # here: a hook that shows no local time never loads it

        if name.startswith("/"):
            with open(name, "rb") as handle:
                return ZoneInfo.from_file(handle, key=name)
        return ZoneInfo(name)
    except (KeyError, ValueError, OSError):
        pass
    try:
        if _POSIX_TZ.fullmatch(name):
            from dateutil import tz as dateutil_tz  # only for POSIX rules: its import costs hooks ~10 ms

            return dateutil_tz.tzstr(name, posix_offset=True)
    except ValueError:
        pass
    raise BacklogError("TZ", f"'{_quote(value)}' is not a known time zone", "use an IANA name like 'Europe/Berlin'")


class LazyZone(tzinfo):
    """`local_zone(env)`, found at its first use: a process that shows no local time (a writing
    hook) never loads zoneinfo (~2.5 ms). A datetime in it behaves as one in the zone itself;
    an unknown TZ is the BacklogError of that first use."""

    def __init__(self, env: Mapping[str, str]) -> None:
        self._env, self._zone = {"TZ": env["TZ"]} if "TZ" in env else {}, None

    def zone(self) -> tzinfo:
        if self._zone is None:
            self._zone = local_zone(self._env)
        return self._zone

    def utcoffset(self, dt: datetime | None) -> timedelta | None:
        return self.zone().utcoffset(dt)

    def dst(self, dt: datetime | None) -> timedelta | None:
        return self.zone().dst(dt)

    def tzname(self, dt: datetime | None) -> str | None:
        return self.zone().tzname(dt)

    def fromutc(self, dt: datetime) -> datetime:
        zone = self.zone()
        return zone.fromutc(dt.replace(tzinfo=zone)).replace(tzinfo=self)

    def __repr__(self) -> str:
        return repr(self.zone())


def _machine_zone(localtime: str) -> tzinfo:
    """The zone named by the `localtime` symlink, else read from that file, else libc's."""
    from zoneinfo import ZoneInfo

    try:
        key = os.readlink(localtime).partition("zoneinfo/")[2]
        return ZoneInfo(key[6:] if key.startswith(("posix/", "right/")) else key)
    except (OSError, KeyError, ValueError):
        pass
    try:
        with open(localtime, "rb") as handle:
            return ZoneInfo.from_file(handle)
    except (OSError, ValueError):
        from dateutil import tz as dateutil_tz  # only without /etc/localtime: its import costs hooks ~10 ms

        return dateutil_tz.tzlocal()
