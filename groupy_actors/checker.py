"""Judge a run's event records (see `trace`) against the group's guarantees.

Messages and views are both *items* of the one ordered stream, so every
property becomes a statement about each member's list of items:

  integrity       no member delivers an item twice, nor a message nobody sent;
  view agreement  a view id means the same membership everywhere;
  total order     the lists of members that stayed are slices of one sequence;
  view synchrony  members that install views v and w deliver the same between;
  agreement       members that stayed end at the same item (once quiet);
  validity        every multicast of a member that stayed was delivered.

Only members that stayed (not crashed, not stopped, not rejoined since) are
held to agreement and order: that is what the protocol promises. A member
put out of the group and joining again counts as a new life ("w3#2"). One
that ends the run halted (quorum mode: in a minority, not back yet) is held
to integrity, view agreement, total order and view synchrony (delivery is
uniform there: what it delivered, a majority held), not to ending where the
others end nor to having its multicasts delivered.
"""
from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Iterable, Optional

PROPERTIES = ("integrity", "view agreement", "total order", "view synchrony",
              "agreement", "validity")

# gms1-gms3 lose what was sent to a leader that crashed: no validity.
PROMISED = {"gms1": PROPERTIES[:-1], "gms2": PROPERTIES[:-1],
            "gms3": PROPERTIES[:-1], "gms4": PROPERTIES}


@dataclass
class Life:
    """One incarnation of a member, as its records tell it."""

    name: str
    items: list[str] = field(default_factory=list)
    views: list[tuple[int, tuple[str, ...], bool]] = field(default_factory=list)
    after: Optional[str] = None     # last item covered by a state transfer
    source: Optional[str] = None    # the member that sent that state
    mcasts: list[str] = field(default_factory=list)
    submitted: list[str] = field(default_factory=list)  # payloads asked of it (the oracle)
    fate: str = "stayed"
    started: float = 0.0            # time of its first record
    state_at: float = 0.0           # time of its state transfer

    @property
    def stayed(self) -> bool:
        return self.fate == "stayed"


@dataclass
class Violation:
    prop: str
    text: str


@dataclass
class Report:
    violations: list[Violation]     # every property, required or not
    stats: dict[str, Any]
    required: tuple[str, ...] = PROPERTIES
    unjudged: tuple[str, ...] = ()  # properties this check could not judge

    @property
    def ok(self) -> bool:
        return not self.failures

    @property
    def failures(self) -> list[Violation]:
        return [v for v in self.violations if v.prop in self.required]

    def broken(self) -> set[str]:
        return {v.prop for v in self.violations}

    def lines(self, most: int = 5) -> list[str]:
        s = self.stats
        head = (f"{s['lives']} member lives ({s['stayed']} stayed), {s['messages']} messages, "
                f"{s['views']} views, {s['deliveries']} deliveries")
        judged = [p for p in self.required if p not in self.unjudged]
        skipped = [p for p in self.required if p in self.unjudged]
        if skipped:
            head += f"; not judged: {', '.join(skipped)} (the run did not settle)"
        if self.ok:
            out = [f"OK: {', '.join(judged)} hold; {head}"]
            spare = sorted(self.broken())
            if spare:
                out[0] += f" (not promised, and broken: {', '.join(spare)})"
            return out
        bad = self.failures
        failed = [p for p in PROPERTIES if p in self.broken() and p in self.required]
        spare = [p for p in PROPERTIES if p in self.broken() and p not in self.required]
        also = f" (not promised, and broken: {', '.join(spare)})" if spare else ""
        out = [f"VIOLATED: {', '.join(failed)}{also}; {head}"]
        out += [f"  {v.prop}: {v.text}" for v in bad[:most]]
        if len(bad) > most:
            out.append(f"  ... and {len(bad) - most} more")
        return out


def lives_of(records: Iterable[dict[str, Any]]) -> list[Life]:
    current: dict[str, Life] = {}
    count: dict[str, int] = {}
    every: list[Life] = []

    def new_life(member: str, t: float) -> Life:
        count[member] = count.get(member, 0) + 1
        life = Life(member if count[member] == 1 else f"{member}#{count[member]}", started=t)
        current[member] = life
        every.append(life)
        return life

    for r in records:
        member, kind, t = str(r["member"]), r["kind"], float(r.get("t", 0.0))
        life = current.get(member) or new_life(member, t)
        if life.fate == "halted" and kind in ("deliver", "view"):
            life.fate = "stayed"        # it went on with its history: judged whole
        if kind == "deliver":
            life.items.append(r["item"])
        elif kind == "view":
            life.views.append((int(r["view"]), tuple(r["members"]), bool(r.get("restored"))))
            if not r.get("restored"):
                life.items.append(r["item"])
        elif kind == "state":
            life.after, life.source, life.state_at = r.get("after"), r.get("source"), t
        elif kind == "mcast":
            if r.get("replaces") in life.mcasts:
                life.mcasts.remove(r["replaces"])   # numbered again: judged by its new id
            life.mcasts.append(r["id"])
        elif kind == "submit":
            life.submitted.append(_payload_key(r.get("payload")))
        elif kind == "rejoin":
            life.fate = "rejoined"
            new_life(member, t)
        elif kind == "crash":
            life.fate = "crashed"
        elif kind == "halt" and life.fate == "stayed":
            life.fate = "halted"
        elif kind == "stopped" and life.fate == "stayed":
            life.fate = "stopped: " + str(r.get("reason", ""))
    return every


def _slices_agree(a: list[str], b: list[str]) -> Optional[str]:
    """None if a and b can both be slices of one sequence, else why not."""
    pos_b = {x: j for j, x in enumerate(b)}
    pairs = [(i, pos_b[x]) for i, x in enumerate(a) if x in pos_b]
    if not pairs:
        return None
    (i0, j0), (i1, j1) = pairs[0], pairs[-1]
    if i0 != 0 and j0 != 0:
        return f"both delivered something the other did not before {a[i0]}"
    for k, (i, j) in enumerate(pairs):
        if i != i0 + k or j != j0 + k:
            before = a[i - 1] if i - 1 >= 0 else "the start"
            return (f"after {before} one delivered {a[i0 + k] if i0 + k < len(a) else '-'} "
                    f"and the other {b[j0 + k] if j0 + k < len(b) else '-'}")
    if i1 != len(a) - 1 and j1 != len(b) - 1:
        return f"after {a[i1]} one delivered {a[i1 + 1]} and the other {b[j1 + 1]}"
    return None


def _between_views(items: list[str]) -> dict[tuple[str, str], list[str]]:
    """Items delivered between each pair of consecutive views (a member's
    list starts at a view or right after a state transfer, so every span
    counted here is whole)."""
    out: dict[tuple[str, str], list[str]] = {}
    last: Optional[str] = None
    run: list[str] = []
    for x in items:
        if x.startswith("v:"):
            if last is not None:
                out[(last, x)] = run
            last, run = x, []
        else:
            run.append(x)
    return out


def _payload_key(payload: Any) -> str:
    return json.dumps(payload, sort_keys=True, default=repr)


def check(records: Iterable[dict[str, Any]], quiesced: bool = True,
          required: tuple[str, ...] = PROPERTIES, uniform: bool = False,
          group_lost: bool = False) -> Report:
    """Judge `records`. `quiesced`: the run settled, so agreement and
    validity can be judged (else they are reported as not judged).
    `uniform` (quorum mode): every life is held to integrity, view
    agreement, total order and view synchrony, whatever became of it -
    what any member delivered, a majority held. `group_lost`: crashes
    took every member that held the group's state, so a run in which
    nobody stayed is no failure (otherwise it is: it shows nothing)."""
    records = list(records)
    every = lives_of(records)
    stayed = [life for life in every if life.stayed]
    # Held to order too: a member that ended the run halted (what it
    # delivered, a majority held), but not to ending with the others.
    judged = every if uniform else [life for life in every if life.stayed or life.fate == "halted"]
    bad: list[Violation] = []
    sent = {m for life in every for m in life.mcasts}
    # A killed member's last records may die with it: its messages can be
    # delivered without its own record of sending them.
    cut_short = {life.name.split("#")[0] for life in every if life.fate == "crashed"}

    for life in every:
        seen: set[str] = set()
        for x in life.items:
            if x in seen:
                bad.append(Violation("integrity", f"{life.name} delivered {x} twice"))
            seen.add(x)
            if sent and x.startswith("m:") and x[2:] not in sent \
                    and x[2:].split(":")[0] not in cut_short:
                bad.append(Violation("integrity", f"{life.name} delivered {x}, which nobody multicast"))

    # The oracle, for integrity: no payload delivered (as distinct
    # messages) more often than it was asked for.
    asked_all = Counter(p for life in every for p in life.submitted)
    if asked_all:
        items_of: dict[str, set[str]] = {}
        for r in records:
            if r["kind"] == "deliver":
                items_of.setdefault(_payload_key(r.get("payload")), set()).add(r["item"])
        for p, items in sorted(items_of.items()):
            if len(items) > asked_all[p]:
                bad.append(Violation("integrity", f"{p} was asked {asked_all[p]} time(s) and "
                                                  f"delivered as {len(items)} messages: "
                                                  f"{', '.join(sorted(items))}"))

    meaning: dict[int, tuple[tuple[str, ...], str]] = {}
    for life in judged:
        ids = [v for v, _, _ in life.views]
        for a, b in zip(ids, ids[1:]):
            if b <= a:
                bad.append(Violation("view agreement", f"{life.name} installed view {b} after view {a}"))
        for vid, members, _ in life.views:
            if vid in meaning and meaning[vid][0] != members:
                bad.append(Violation("view agreement",
                                     f"view {vid} is {list(members)} at {life.name} "
                                     f"but {list(meaning[vid][0])} at {meaning[vid][1]}"))
            meaning.setdefault(vid, (members, life.name))

    for i, a in enumerate(judged):
        for b in judged[i + 1:]:
            why = _slices_agree(a.items, b.items)
            if why:
                bad.append(Violation("total order", f"{a.name} and {b.name}: {why}"))
            va, vb = _between_views(a.items), _between_views(b.items)
            for span in sorted(va.keys() & vb.keys()):
                if va[span] != vb[span]:
                    bad.append(Violation("view synchrony",
                                         f"{a.name} and {b.name} delivered different messages "
                                         f"between {span[0]} and {span[1]}"))
        if a.after is not None:
            # Its own list may begin before the state point (an application
            # that fetched its state itself keeps delivering until then).
            rest = a.items[a.items.index(a.after) + 1:] if a.after in a.items else a.items
            for b in every:
                if b is a or a.after not in b.items or not rest or b not in judged:
                    continue
                k = b.items.index(a.after)
                if k + 1 < len(b.items) and b.items[k + 1] != rest[0]:
                    bad.append(Violation("total order",
                                         f"{a.name}'s state covers up to {a.after}, then it delivered "
                                         f"{rest[0]}, but {b.name} delivered {b.items[k + 1]} next"))

    known = Known(every)
    full = {life.name: known.history(life) for life in judged}
    whole = [(n, h) for n, h in full.items() if h is not None]
    for i, (na, ha) in enumerate(whole):
        for nb, hb in whole[i + 1:]:
            k = next((j for j, (x, y) in enumerate(zip(ha, hb)) if x != y), None)
            if k is not None:
                bad.append(Violation("total order",
                                     f"{na} and {nb}, counting what their state transfers carried: "
                                     f"after {ha[k - 1] if k else 'the start'} one has {ha[k]} "
                                     f"and the other {hb[k]}"))

    if quiesced and not stayed and every and not group_lost:
        bad.append(Violation("agreement", "no member stayed to the end: nothing was shown "
                                          "to agree or to be delivered"))
    if quiesced:
        ends = {life.name: life.items[-1] for life in stayed if life.items}
        if len(set(ends.values())) > 1:
            detail = ", ".join(f"{n} at {x}" for n, x in ends.items())
            bad.append(Violation("agreement", f"members that stayed end apart: {detail}"))
        delivered = {x for life in stayed for x in life.items}
        for life in stayed:
            delivered |= known.inherited(life)
        for life in stayed:
            for mid in life.mcasts:
                key = "m:" + mid
                if key not in delivered:
                    bad.append(Violation("validity", f"{life.name} multicast {mid}; it was never delivered"))
        # The oracle: payloads the run asked of members that stayed, against
        # the payloads of what was delivered (a payload the core dropped
        # before numbering it has no id to miss).
        payload_of = {r["item"]: _payload_key(r.get("payload")) for r in records
                      if r["kind"] == "deliver"}
        got = Counter(payload_of[x] for x in delivered if x in payload_of)
        asked = Counter(p for life in stayed for p in life.submitted)
        for p, n in sorted(asked.items()):
            if got[p] < n:
                who = sorted({life.name for life in stayed if p in life.submitted})
                bad.append(Violation("validity", f"{', '.join(who)} was asked to multicast {p} "
                                                 f"{n} time(s); delivered {got[p]}"))

    stats = {"lives": len(every), "stayed": len(stayed), "messages": len(sent),
             "views": len({v for life in every for v, _, _ in life.views}),
             "deliveries": sum(len(life.items) for life in every)}
    unjudged = () if quiesced else ("agreement", "validity")
    return Report(bad, stats, required, unjudged)


class Known:
    """Which items a life's application state stands for: the ones it
    delivered, and before them whatever its state transfer carried, which
    is what the sender knew up to that point (and so on, back in time)."""

    def __init__(self, every: list[Life]) -> None:
        self.by_member: dict[str, list[Life]] = {}
        for life in every:
            self.by_member.setdefault(life.name.split("#")[0], []).append(life)
        self.memo: dict[int, set[str]] = {}

    def sources(self, life: Life) -> list[Life]:
        """The lives that may have sent `life` its state: those of its
        source begun by then, newest first (view ids may repeat across a
        member's lives when the group split, so the oldest may mislead)."""
        lives = self.by_member.get(life.source or "", [])
        return [s for s in reversed(lives) if s is not life and s.started <= life.state_at]

    def history(self, life: Life, depth: int = 0) -> Optional[list[str]]:
        """The whole sequence a life's state stands for, from the group's
        first view; None if it cannot be told (a joiner without a state
        record, or a chain that leads nowhere)."""
        if depth > 50:
            return None
        if life.after is None:
            return list(life.items) if life.items[:1] == ["v:1"] else None
        own = life.items[life.items.index(life.after) + 1:] if life.after in life.items \
            else list(life.items)
        for src in self.sources(life):
            before = self.history(src, depth + 1)
            if before is not None and life.after in before:
                return before[:before.index(life.after) + 1] + own
        return None

    def inherited(self, life: Life) -> set[str]:
        if life.after is None:
            return set()
        if id(life) not in self.memo:
            self.memo[id(life)] = {life.after}      # guards against a cycle
            for src in self.sources(life):
                got = self.upto(src, life.after)
                if got:
                    self.memo[id(life)] = got
                    break
        return self.memo[id(life)]

    def upto(self, life: Life, item: str) -> set[str]:
        if item in life.items:
            return set(life.items[:life.items.index(item) + 1]) | self.inherited(life)
        if item == life.after:
            return self.inherited(life)
        return set()
