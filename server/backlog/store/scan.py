"""Doctor's reading of the whole journal: every line of every generation, classified.

`scan` reads each generation; `plan` walks the lines in order and decides, without
touching a file, what a repair writes: readable checksum-valid records stay as they are,
a repeated record is removed, an unreadable line or a run of missing transactions
(a deleted generation, lost lines) becomes `doctor:lost` placeholders carrying the
missing sequence numbers, a torn tail is cut and a kept record without its newline gets
one. Transactions that `head` says were acknowledged but that the journal no longer holds
(a cut or replaced current generation) become placeholders too, named as lost. Nothing
readable is ever dropped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from backlog.errors import StoreError
from backlog.store.backend import Backend
from backlog.store.sealed import is_sealed, seal
from backlog.store.store import parse_record, split_lines

_UUID = re.compile(rb"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


@dataclass
class Line:
    gen: int
    n: int  # 1-based line number in its generation
    raw: bytes
    rec: dict | None  # None: unreadable or checksum-invalid
    why: str = ""


@dataclass
class Scan:
    gens: list[int]
    lines: list[Line]
    torn: dict[int, int] = field(default_factory=dict)  # gen → bytes of a torn (checksum-invalid) tail
    unterminated: set[int] = field(default_factory=set)  # gens whose last record lacks its newline


@dataclass
class Finding:
    problem: str  # what `doctor` reports
    action: str  # what `doctor --repair` did about it
    seqs: list[int] = field(default_factory=list)  # transactions dropped
    uuids: set[str] = field(default_factory=set)  # tasks those transactions touched (as far as readable)


@dataclass
class Plan:
    findings: list[Finding]
    rewrites: dict[int, list[bytes]]  # gen → its new lines (without newlines)

    @property
    def lost(self) -> bool:
        return any(f.seqs for f in self.findings)


def scan(backend: Backend, since: int | None) -> Scan:
    """Every line of every journal generation; `since`: the first generation that must be sealed."""
    gens = backend.journal_generations()
    result = Scan(gens, [])
    for gen in gens:
        sealed = since is not None and gen >= since
        data = backend.read_journal(gen)
        lines, used = split_lines(data)
        tail = data[used:]
        if tail:
            kept = tail if is_sealed(tail) else tail[:-1] if is_sealed(tail[:-1]) else None
            if kept is None:
                result.torn[gen] = len(tail)
            else:
                lines.append(kept)
                result.unterminated.add(gen)
        for n, raw in enumerate(lines, 1):
            try:
                result.lines.append(Line(gen, n, raw, parse_record(raw, "", sealed)))
            except StoreError as err:
                result.lines.append(Line(gen, n, raw, None, str(err).split("(", 1)[-1].split(")")[0]))
    return result


def line_name(backend: Backend, gen: int, n: int) -> str:
    """`journal/000001.jsonl line 3`, or on S3 the object that holds that line (`txn/000000000012`)."""
    of_object = getattr(backend, "line_name", None)
    return of_object(gen, n) if of_object else f"{backend.journal_name(gen)} line {n}"


def lost_record(seq: int, at: str) -> bytes:
    return seal({"seq": seq, "at": at, "agent": "doctor", "tool": "doctor:lost", "ops": []})


def plan(found: Scan, backend: Backend, at: str, head: tuple[int, int, int] | None = None) -> Plan:
    """What a repair does to the journal, and each problem in one line; `head`: (gen, seq, size)
    of the newest acknowledged transaction, when known."""
    findings: list[Finding] = []
    out: dict[int, list[bytes]] = {gen: [] for gen in found.gens}
    changed: set[int] = set(found.torn) | found.unterminated
    seen: dict[int, dict] = {}
    last, run = 0, []  # last good seq; the unreadable lines since it

    def fill(upto: int, gen: int, first_of_gen: bool) -> None:
        """Placeholders for seqs last+1 … upto-1: where the unreadable `run` was, else before `gen`."""
        missing = list(range(last + 1, upto))
        for k, line in enumerate(run):
            seqs = missing[k:k + 1] if k < len(run) - 1 else missing[k:]
            name = line_name(backend, line.gen, line.n)
            where = f"{name}, {len(line.raw)} unreadable bytes"
            findings.append(Finding(
                f"{backend.describe(name)} is damaged ({line.why})",
                f"dropped transaction #{seqs[0]}" + (f"–#{seqs[-1]}" if len(seqs) > 1 else "") + f" ({where})"
                if seqs else f"dropped {where} (no transaction is missing there)",
                seqs, {u.decode() for u in _UUID.findall(line.raw)}))
            out[line.gen].extend(lost_record(s, at) for s in seqs)
            changed.add(line.gen)
        if missing and not run:
            where = gen - 1 if first_of_gen and gen > 0 and gen - 1 not in out else gen
            shown = f"#{missing[0]}–#{missing[-1]}"
            findings.append(Finding(
                f"transactions {shown} are missing before {backend.describe(backend.journal_name(gen))} "
                "(a deleted generation or lost lines)",
                f"recorded transactions {shown} as lost in {backend.journal_name(where)} (their history is gone)",
                missing))
            out.setdefault(where, []).extend(lost_record(s, at) for s in missing)
            changed.add(where)
        run.clear()

    for index, line in enumerate(found.lines):
        first_of_gen = index == 0 or found.lines[index - 1].gen != line.gen
        if line.rec is None:
            run.append(line)
            continue
        seq = line.rec["seq"]
        if seq <= last:
            name = line_name(backend, line.gen, line.n)
            fill(last + 1, line.gen, False)
            same = seen.get(seq) == line.rec
            findings.append(Finding(
                f"{backend.describe(name)} repeats transaction #{seq}"
                + ("" if same else " with different content"),
                f"removed {name}, a " + ("copy" if same else "conflicting repeat")
                + f" of transaction #{seq}" + ("" if same else " (the first one is kept)"),
                [] if same else [seq], {u.decode() for u in _UUID.findall(line.raw)}))
            changed.add(line.gen)
            continue
        fill(seq, line.gen, first_of_gen and not run)
        out[line.gen].append(line.raw)
        seen[seq], last = line.rec, seq
    if run:
        fill(last + 1 + len(run), run[-1].gen, False)
        last += len(run)  # now placeholders
    if head is not None and last < head[1]:
        gen = max([head[0], *found.gens])  # a deleted current generation is made anew
        name = backend.journal_name(gen)
        missing = list(range(last + 1, head[1] + 1))
        shown = f"#{missing[0]}" + (f"–#{missing[-1]}" if len(missing) > 1 else "")
        findings.append(Finding(
            f"{backend.describe(name)} ends at transaction #{last}, but transactions up to #{head[1]} were "
            "acknowledged (the file was cut or replaced underneath backlog)",
            f"recorded transactions {shown} as lost in {name} (cut from the journal: their changes are gone)",
            missing))
        out.setdefault(gen, []).extend(lost_record(s, at) for s in missing)
        changed.add(gen)
    for gen, size in found.torn.items():
        name = backend.journal_name(gen)
        findings.append(Finding(f"{backend.describe(name)} ends in a torn line ({size} bytes)",
                                f"cut a torn final line of {name} ({size} bytes, never acknowledged)"))
    for gen in found.unterminated:
        name = backend.journal_name(gen)
        findings.append(Finding(f"{backend.describe(name)}: its last record lacks its newline (the record is intact)",
                                f"ended the line of the last record of {name} (kept)"))
    return Plan(findings, {gen: lines for gen, lines in out.items() if gen in changed})
