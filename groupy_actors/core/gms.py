"""The protocol core of one member: `Gms.handle(event, now) -> effects`.

`Gms` holds the state every role shares (view, stream, own multicasts,
state-transfer status) and the operations on it; the role objects in
`roles/` decide what each message means in the current role. Nothing here
touches a clock, a socket or a random number: time comes in as `now`.
"""
from __future__ import annotations

import logging
from typing import Any, Iterable, Optional

from .clock import NEVER
from .config import Config
from .effects import (Accepted, Deliver, Halt, InstallView, Note, Rejoining, Restore,
                      Send, StartTimer, Stop, Unwatch, Watch)
from .events import Start, Tick
from .member import Member
from .messages import (Ack, Broadcast, Entry, Inc, Join, Leave, Mcast, Msg, Nack,
                       Reject, State, StateRequest, View, inc_text)
from .roles.halted import Halted
from .roles.idle import Idle
from .roles.joining import Joining
from .roles.leader import Leader
from .roles.slave import Slave
from .stream import Stream
from .validate import problem


def msg_id(mc: Mcast) -> str:
    """The id a multicast's message will have: sender:incarnation:n."""
    return f"{mc.sender.name}:{inc_text(mc.inc)}:{mc.n}"
NACK_BACKOFF_MAX = 8
RECENT_MAX = 10_000     # entries a classic member keeps since its last view    # a repeated request waits at most this many nack_retry periods


class Gms:
    def __init__(self, config: Optional[Config] = None) -> None:
        self.config = config or Config()
        self.f = self.config.features
        self.t = self.config.timing
        self.me: Optional[Member] = None
        self.role: Any = Idle()
        self.view: Optional[View] = None
        self.leader: Optional[Member] = None   # whom we follow (or await)
        self.epoch = 0          # epoch of the leader we follow (or will)
        self.ballot: tuple[int, int, str] = (0, 0, "")  # highest promised
        # The regime whose history our stream follows (Viewstamped
        # Replication's "last normal view"): it advances only when a new
        # leader's whole suffix, up to the view that starts its regime, has
        # arrived (`take_entries`), never on a bare word from that leader.
        self.log_epoch = 0
        # A new regime's entries while they are still incomplete:
        # (epoch, its start, seq -> entry above what we delivered).
        self.switch: Optional[tuple[int, int, dict[int, Entry]]] = None
        # Where the regime we follow began (its leader's first view): views
        # before it are history its takeover handed on, whose leaders are
        # not ours to follow.
        self.regime_start = 0
        self.stream = Stream(self.f.ordering, keep=self.f.reliable)
        self.table: dict[Member, tuple[Inc, int]] = {}  # sender -> (inc, last n delivered)
        self.inc: Inc = (0, 0)  # own incarnation
        self.n = 0              # own last multicast number
        self.own_seen = 0       # own highest number seen in the stream
        # The last number of each batch of own multicasts sent to the
        # leader and not seen sequenced: a batch leaves as one actor message.
        self.batches: list[int] = []
        self.batch_open = False     # this call's multicasts join the last batch
        self.outbox: dict[int, list[Any]] = {}  # n -> [Mcast, last sent]
        # Payloads not yet numbered, each with the id it had before if it
        # is to be numbered again (see `renumber`).
        self.backlog: list[tuple[Any, Optional[str]]] = []
        self.leaving = False
        self.leave_at = NEVER
        self.has_state = True
        self.state_at = NEVER
        self.base = 0           # our stream starts after this entry
        self.awaiting_state: list[Any] = []  # application effects held back for the state
        self.dead: set[Member] = set()
        self.suspects: set[Member] = set()
        # Alive, but passing the lead on (see slave.defers): not the next
        # leader, though still asked for its promise.
        self.passed: set[Member] = set()
        self.deposed: set[Member] = set()       # leaders of views since replaced
        self.watching: dict[Member, None] = {}
        self.top_seen = 0
        self.heard_at = NEVER   # last word from the leader we follow
        # Classic levels: the successor we took for our leader after a
        # crash, until it speaks to us (see slave.leader_down).
        self.unconfirmed: Optional[Member] = None
        self.nack_first = 0
        self.nack_at = NEVER
        self.nack_wait = self.t.nack_retry
        self.ack_sent = 0
        self.ack_at = NEVER
        self.unacked_broadcasts = 0
        # The highest `n` had from the leader we follow (its send window).
        self.got = 0
        self.got_from: Optional[tuple[Member, int]] = None
        # Quorum mode delivers uniformly: an entry is delivered, here or at
        # the leader, only once a majority of the view holds it (`commit`,
        # learned from the leader), so whatever any member delivered
        # survives a takeover: the majority that promises to the next
        # leader includes one of its holders. (Delivering on arrival let a
        # leader cut off right after deliver what the next leader replaced.)
        self.commit = 0
        self.held_sent = 0
        self.ready_sent = True      # what our last Ack said of `has_state`
        self.snap_token = 0
        # Counters for measurement: entries resent, gaps asked for, own
        # multicasts sent again, the most entries ever kept at once.
        self.recent: list[Entry] = []          # classic levels: since the last view
        self.seen: dict[int, Any] = {}         # ... and what each seq was (views whole)
        self.stats = {"resent": 0, "nacks": 0, "retried": 0, "kept_max": 0}
        self.tick_at = NEVER
        self.late = False       # the last tick came long after the one before
        self.last_item: Optional[str] = None
        self.stopped: Optional[str] = None
        self.now = 0.0
        self.out: list[Any] = []

    # -- entry point ---------------------------------------------------------

    def handle(self, event: Any, now: float) -> list[Any]:
        return self.handle_all((event,), now)

    def handle_all(self, events: Iterable[Any], now: float) -> list[Any]:
        """Several events that arrived together (one actor message), with
        their effects in one list."""
        self.now = now
        self.out = []
        for event in events:
            if self.stopped is not None:
                break
            self.handle_one(event)
        if self.stopped is None and self.view is not None:
            self.role.settle(self)
        self.batch_open = False
        return self.out

    def handle_one(self, event: Any) -> None:
        now = self.now
        why = problem(event)
        if why is not None:
            self.note(f"dropped bad input: {why}", logging.WARNING)
            return
        if isinstance(event, Start):
            self.start(event)
        else:
            if type(event) is Tick:
                # Our own timer silent past the suspicion time: this member
                # was not running (SIGSTOP, a starved machine). The silence
                # we see is ours; suspect nobody before reading the news.
                self.late = self.tick_at != NEVER and now - self.tick_at > self.t.suspect_after
                if self.late:
                    self.note(f"this member did not run for {now - self.tick_at:.1f}s: "
                              "reading the news before suspecting anyone", logging.WARNING)
                self.tick_at = now
            self.role.dispatch(self, event)
            if isinstance(event, Tick) and self.stopped is None:
                self.stats["kept_max"] = max(self.stats["kept_max"], len(self.stream))
                self.out.append(StartTimer(self.t.tick))

    def invariants(self) -> Optional[str]:
        """What must hold after every event, by construction; None if it
        does, else what broke. The simulators assert it after each step."""
        s = self.stream
        if self.f.ordering == "gapless":
            if not s.trimmed <= s.delivered <= s.received:
                return f"stream out of order: trimmed {s.trimmed}, delivered {s.delivered}, " \
                       f"received {s.received}"
            if any(seq <= s.trimmed for seq in s.entries):
                return f"an entry at or below the trim point {s.trimmed} is kept"
            missing = next((seq for seq in range(s.trimmed + 1, s.received + 1)
                            if seq not in s.entries), None)
            if missing is not None:
                return f"entry {missing} missing below received {s.received}"
            wrong = next((seq for seq, e in s.entries.items() if e.seq != seq), None)
            if wrong is not None:
                return f"entry kept at {wrong} is numbered {s.entries[wrong].seq}"
        if self.log_epoch > self.epoch:
            return f"log epoch {self.log_epoch} above epoch {self.epoch}"
        if self.config.quorum and self.has_state and s.delivered > max(self.commit, self.base):
            return f"delivered {s.delivered} beyond the commit point {self.commit}"
        if self.role.name == "leader":
            if self.config.quorum and self.commit > s.received:
                return f"leader's commit {self.commit} beyond its stream {s.received}"
            if self.leader != self.me:
                return f"a leader following {self.leader}"
            return self.role.check_peers(self)
        return None

    @property
    def role_name(self) -> str:
        return "stopped" if self.stopped is not None else self.role.name

    # -- small helpers -------------------------------------------------------

    def send(self, to: Optional[Member], msg: Any) -> None:
        # Nothing once stopped: a leader that delivered its last view (the
        # one without it) went on answering, in the same event, the Ack
        # that committed it.
        if to is not None and to != self.me and self.stopped is None:
            self.out.append(Send(to, msg))

    def note(self, text: str, level: int = logging.INFO) -> None:
        self.out.append(Note(level, text))

    def app(self, effect: Any) -> None:
        """An effect for the application; held back until the state arrives."""
        if self.has_state:
            self.out.append(effect)
        else:
            self.awaiting_state.append(effect)

    def become(self, role: Any) -> None:
        self.role = role

    def become_slave(self) -> None:
        # Here rather than in the roles that step down (Role's promise,
        # Electing): slave.py imports their modules, so they cannot import it.
        self.become(Slave())

    def watch_only(self, members: Iterable[Member]) -> None:
        if not self.f.watch:
            return
        wanted = {m: None for m in members if m != self.me}
        for m in list(self.watching):
            if m not in wanted:
                self.out.append(Unwatch(m))
        for m in wanted:
            if m not in self.watching:
                self.out.append(Watch(m))
        self.watching = wanted

    def others(self) -> list[Member]:
        return [m for m in self.view.members if m != self.me] if self.view else []

    def stop(self, reason: str, history_lost: bool = False) -> None:
        self.watch_only(())
        self.stopped = reason
        self.out.append(Stop(reason, history_lost))

    def halt(self, reason: str) -> None:
        """Quorum mode: stop delivering, keeping history and vote (see
        Halted). Here, like `become_slave`: halted.py imports, directly or
        not, the modules of Role, Electing and Quorum, which halt."""
        self.note(reason, logging.WARNING)
        self.app(Halt(reason))
        self.watch_only(())
        self.become(Halted(self.now))

    # -- starting ------------------------------------------------------------

    def start(self, ev: Start) -> None:
        if self.me is not None:
            self.note("already started", logging.WARNING)
            return
        self.me = ev.me
        self.out.append(StartTimer(self.t.tick))
        if ev.contact is None or ev.contact == ev.me:
            self.found()
        else:
            self.join_via([ev.contact])

    def found(self) -> None:
        """Start a new group of one: view 1, epoch 1, ourselves leading."""
        self.epoch = self.log_epoch = 1
        self.switch = None
        self.ballot = (1, 1, self.me.name)
        self.leader = self.me
        self.stream.reset(0)
        self.commit = 0
        self.become(Leader(self))
        self.role.append(self, View(1, 1, (self.me,), ((1, 1),)), ())

    def join_via(self, contacts: list[Member], patient: bool = False) -> None:
        role = Joining(contacts, self.now, patient)
        self.become(role)
        self.send(role.contact, Join(self.me, self.inc, self.epoch))

    def joined(self, view: View, b: Broadcast) -> None:
        """Our first view arrived: start following the stream from it."""
        # A newcomer takes the group's epoch as it is, even one below what it
        # promised in an earlier life: that life is over.
        self.epoch = self.log_epoch = b.epoch
        self.switch = None
        self.regime_start = b.start
        self.ballot = (b.epoch, 0, "")
        self.leader = view.leader
        self.base = view.seq - 1
        self.stream.reset(self.base)
        self.commit = max(self.base, b.commit)
        # Our view from here on; the application hears of it when it is
        # delivered (in quorum mode, once a majority holds it).
        self.view = view
        self.renumber(view.inc_of(self.me))
        self.top_seen = b.top
        self.heard_at = self.now
        self.note_got(b.src, b.epoch, b.n)
        if self.f.reliable:
            self.has_state = False
            self.state_at = self.now
        self.become_slave()
        self.watch_only((view.leader,))
        self.receive(tuple(e for e in b.entries if e.seq >= view.seq))
        self.flush_backlog()
        if self.f.reliable and self.role.name == "slave":
            # In quorum mode our view counts us: it commits once we say we
            # hold it (a majority of a view of two is both).
            self.ack()

    def rejoin(self, reason: str, contact: Optional[Member], history_lost: bool = False) -> None:
        """We are out of the group: join again (gms4) or stop.

        Multicasts sent but not seen delivered are abandoned, not resent: the
        group may have delivered them, and at most once comes first.
        """
        contacts = [m for m in [contact] + (list(self.view.members) if self.view else [])
                    if m is not None and m != self.me and m not in self.dead]
        contacts = list(dict.fromkeys(contacts))
        if self.leaving:
            self.stop("left the group")
            return
        if not self.f.reliable or not contacts:
            self.stop(reason, history_lost)
            return
        self.note(f"rejoining through {contacts[0]}: {reason}", logging.WARNING)
        self.out.append(Rejoining(reason, len(self.outbox)))
        self.outbox.clear()
        self.own_seen = self.n
        self.view = None
        self.leader = None
        self.switch = None
        self.stream.reset(0)
        self.commit = 0
        self.table.clear()
        self.awaiting_state.clear()
        self.has_state = False
        self.watch_only(())
        self.join_via(contacts, patient=self.config.quorum)

    # -- the stream ----------------------------------------------------------

    def view_pending(self, b: Broadcast) -> bool:
        """Quorum mode: a newer leader's broadcast without a view (a
        heartbeat that overtook it): its view, which may keep us, is still
        on its way - wait for it rather than join again."""
        return self.config.quorum and not any(type(e) is View for e in b.entries)

    def follow(self, b: Broadcast) -> bool:
        """Quorum mode: a leader of a newer epoch whose view (its first, or
        a later one: the first may have been lost) names us under our
        incarnation kept us without our promise: follow it, as if we had
        promised. What we lack of its regime it sends again."""
        if not self.config.quorum or not any(
                type(e) is View and e.seq >= b.start and self.me in e.members and e.inc_of(self.me) == self.inc for e in b.entries):
            return False
        self.note(f"following {b.src} (epoch {b.epoch}): its view keeps us",
                  logging.WARNING)
        self.ballot, self.epoch = (b.epoch, 0, b.src.name), b.epoch
        self.leader = b.src
        self.regime_start = 0
        self.heard_at = self.now
        if self.role.name != "slave":
            self.become_slave()
        self.watch_only((b.src,))
        return True

    def accept_broadcast(self, b: Broadcast) -> bool:
        """May we take entries from this broadcast? (gms4 checks who sent it.)"""
        if not self.f.reliable:
            # The classic levels take the stream from anyone but a leader
            # a view of ours has replaced: a dead leader's last sends may
            # arrive after its successor's view, and would follow it.
            if b.src == self.unconfirmed:
                self.unconfirmed = None
            return b.src not in self.deposed
        if b.epoch < self.epoch:
            self.reject(b.src)
            return False
        if b.epoch > self.epoch:
            if self.config.quorum and self.follow(b):
                return self.accept_broadcast(b)
            if self.view_pending(b):
                return False
            # A leader only broadcasts once its takeover is done, and its
            # view holds those who promised (and in quorum mode the voters
            # before it): not us. (It may name us all the same, admitted
            # through an old Join under another incarnation: the rejoin
            # sorts that out.)
            self.rejoin(f"{b.src} took over (epoch {b.epoch}) without this member", b.src)
            return False
        if b.src != self.leader:
            self.note(f"dropped broadcast from {b.src} (epoch {b.epoch}): "
                      f"we follow {self.leader} (epoch {self.epoch})", logging.WARNING)
            return False
        self.heard_at = self.now
        self.regime_start = max(self.regime_start, b.start)
        # A new leader's `top` is the first word on its own stream: what an
        # older leader said was sent is no gap in it.
        fresh = self.got_from != (b.src, b.epoch)
        self.note_got(b.src, b.epoch, b.n)
        self.commit = max(self.commit, b.commit)
        self.top_seen = b.top if fresh else max(self.top_seen, b.top)
        if b.entries:
            self.unacked_broadcasts += 1    # the leader's sending is clocked by our acks
        return True

    def take_entries(self, b: Broadcast) -> None:
        """Entries from the leader we follow (accepted by `accept_broadcast`).

        A leader that took over adopted the newest history its survivors
        held and put its first view (`b.start`) after it; everything we
        hold beyond what we delivered may differ from that history. So a new
        regime's entries are gathered aside, and only when all of them from
        what we delivered up to its start have arrived do they replace our
        undelivered suffix, and our log epoch become the leader's. Until
        then our stream stays what it was: should this leader fail as well,
        that is what we report to the next candidate, ranked under the
        regime it came from. (Taking a bare heartbeat of the new regime as
        the switch once let a member with a short stream outrank members
        that had delivered more.)"""
        if not self.f.reliable or b.epoch == self.log_epoch:
            self.receive(b.entries)
            return
        first = self.stream.delivered + 1
        if b.start < first:
            # We delivered beyond where this regime begins: its leader
            # adopted a history without our deliveries, so it took over
            # without us (we missed being put out).
            self.rejoin(f"{b.src} took over without this member (epoch {b.epoch})", b.src)
            return
        if self.switch is None or self.switch[0] != b.epoch:
            self.switch = (b.epoch, b.start, {})
        gathered = self.switch[2]
        for e in b.entries:
            if e.seq >= first:
                gathered.setdefault(e.seq, e)
        if any(seq not in gathered for seq in range(first, b.start + 1)):
            return
        self.switch = None
        self.stream.truncate_after(self.stream.delivered)
        self.log_epoch = b.epoch
        self.receive(gathered[seq] for seq in sorted(gathered))

    def note_got(self, src: Member, epoch: int, n: int) -> None:
        if self.got_from != (src, epoch):
            self.got_from, self.got = (src, epoch), 0
        self.got = max(self.got, n)

    def got_from_leader(self) -> int:
        return self.got if self.got_from == (self.leader, self.epoch) else 0

    def reject(self, to: Member) -> None:
        """Tell a stale leader or candidate whom we follow now."""
        self.send(to, Reject(self.me, self.ballot[0], self.ballot[1], self.leader))

    def receive(self, entries: Iterable[Entry]) -> None:
        if self.f.ordering == "gapless":
            seen = self.own_seen
            for e in entries:
                if self.stream.add(e) and type(e) is Msg and e.sender == self.me \
                        and e.inc == self.inc and e.n > seen:
                    seen = e.n
            self.deliver_ready()
            if seen > self.own_seen:
                self.own_seen = seen
                self.flush_backlog()
            return
        for e in entries:
            if self.f.ordering == "drop_old" and self.view is not None \
                    and e.seq <= self.stream.received \
                    and self.seen.get(e.seq, ident := e if type(e) is View else e.key) != ident:
                # A new leader's entry where we processed something else (a
                # view, or a message it resends): we processed entries it
                # never had (an old leader's last sends reached us and not
                # it). gms3 cannot take them back; staying would deliver a
                # different history than the others. (Only views were
                # compared once: a new leader that crashed after sending
                # its view to one member made it deliver two views 6.)
                self.stop(f"processed entries up to {self.stream.received} that the new "
                          f"leader never had (it sends another entry at {e.seq})")
                return
            if self.f.ordering == "drop_old" and e.seq > self.stream.received + 1:
                # Entries before it were lost (a crashed leader's queued
                # sends): gms3 cannot get them back, and processing past
                # the gap would leave us apart from the others for good.
                self.stop(f"entries {self.stream.received + 1}-{e.seq - 1} were lost; "
                          "gms3 cannot recover them")
                return
            if self.stream.admit(e):
                self.process(e)
            if self.stopped is not None or self.view is None:
                return

    def snapshot_stats(self) -> dict[str, int]:
        """The counters, with the history kept now and at most."""
        kept = len(self.stream)
        self.stats["kept_max"] = max(self.stats["kept_max"], kept)
        return {**self.stats, "kept": kept, "delivered": self.stream.delivered,
                "outbox": len(self.outbox)}

    def deliver_ready(self) -> None:
        upto = self.stream.received
        if self.config.quorum:
            upto = min(upto, self.commit)
        for e in self.stream.deliverable(upto):
            self.process(e)
            if self.stopped is not None or self.view is None:
                return      # stopped, or reset to join again

    def process(self, e: Entry) -> None:
        """Deliver one entry, in stream order."""
        if not self.f.reliable:
            self.remember(e)
        if isinstance(e, View):
            self.install(e)
            return
        self.table[e.sender] = (e.inc, e.n)
        self.last_item = e.key
        # To the application first: what flushing our backlog sequences may
        # be delivered at once (a leader's own), and must come after this.
        self.app(Deliver(e, self.view.view_id))
        if e.sender == self.me and e.inc == self.inc:
            self.own_seen = max(self.own_seen, e.n)
            if self.outbox.pop(e.n, None):
                self.flush_backlog()

    def remember(self, e: Entry) -> None:
        """The classic levels keep what they processed since the last view:
        a new gms3 leader sends it all again (see config, resend_recent)."""
        if isinstance(e, View):
            self.recent = [e]
        else:
            self.recent.append(e)
            if len(self.recent) > RECENT_MAX:
                del self.recent[:len(self.recent) - RECENT_MAX]
        self.seen[e.seq] = e if isinstance(e, View) else e.key
        if len(self.seen) > RECENT_MAX:
            del self.seen[min(self.seen)]

    def renumber(self, inc: Inc) -> None:
        """Our incarnation is `inc`: a new one numbers its multicasts afresh.

        Multicasts of the old one not delivered by now never will be: every
        leader refuses an incarnation the stream has replaced, and what was
        sequenced under it came before the view that replaced it. So they
        are numbered again under the new one, in their order, ahead of
        anything not yet numbered (keeping them would resend them for ever,
        always refused)."""
        if inc != self.inc:
            self.inc = inc
            self.n = self.own_seen = 0
            self.batches = []
            self.batch_open = False
            waiting = [(entry[0].payload, msg_id(entry[0])) for _, entry in sorted(self.outbox.items())]
            self.outbox.clear()
            self.backlog[:0] = waiting

    def install(self, v: View) -> None:
        old = self.view
        self.view = v
        self.passed.clear()
        if old is not None and old.leader != v.leader:
            self.deposed.add(old.leader)
        self.deposed.discard(v.leader)
        self.last_item = v.key
        before = set(old.members) if old else set()
        for m, inc in zip(v.members, v.incs):
            if self.table.get(m, (None,))[0] != inc:
                self.table[m] = (inc, 0)
            if m not in before:
                self.dead.discard(m)
                self.suspects.discard(m)
        for m in before.difference(v.members):
            self.table.pop(m, None)
        renewed = self.me in v.members and v.inc_of(self.me) != self.inc
        if self.me in v.members:
            self.renumber(v.inc_of(self.me))
        self.app(InstallView(v))
        self.role.on_view(self, old, v)
        if renewed and self.role.name in ("slave", "leader"):
            self.flush_backlog()

    def latest_view(self) -> View:
        """The newest view in the stream, delivered or not."""
        newest = self.view
        for s in range(self.stream.delivered + 1, self.stream.received + 1):
            e = self.stream.get(s)
            if isinstance(e, View):
                newest = e
        return newest

    # -- own multicasts ------------------------------------------------------

    def submit(self, payload: Any) -> None:
        if self.leaving:
            self.note("multicast refused: this member is leaving", logging.WARNING)
            return
        if self.view is None or self.backlog or not self.room():
            self.backlog.append((payload, None))
            return
        self.number(payload)

    def room(self) -> bool:
        """May we number (and send) another multicast now?

        A slave keeps at most `mcast_inflight` of its multicasts, in at most
        `mcast_batches` batches, on their way to the leader; the rest wait
        and leave together once earlier ones show up in the stream. The
        multicasts numbered while handling one batch of events leave as one
        actor message, so the batches bound what Thespian queues for the
        leader: it queues without bound, and a queue to a slow leader
        delays everything behind it (measured: a promise to a new leader
        stuck behind a hundred multicasts to the dead one)."""
        if not self.f.reliable:
            return True
        if len(self.outbox) >= self.t.sender_window:
            return False
        if not self.role.clocked:
            return True
        if self.n - self.own_seen >= self.t.mcast_inflight:
            return False
        batches = self.batches
        while batches and batches[0] <= self.own_seen:
            batches.pop(0)
        # (The open batch may be gone too, already sequenced: the next
        # multicast starts a new one - see `number`.)
        return self.batch_open or len(batches) < self.t.mcast_batches

    def number(self, payload: Any, before: Optional[str] = None) -> None:
        self.n += 1
        if self.role.clocked and self.f.reliable:
            if self.batch_open and self.batches:
                self.batches[-1] = self.n
            else:
                self.batches.append(self.n)
                self.batch_open = True
        mc = Mcast(self.me, self.inc, self.n, payload)
        self.out.append(Accepted(msg_id(mc), before))
        if self.f.reliable:
            self.outbox[self.n] = [mc, self.now]
        self.role.forward_mcast(self, mc)

    def flush_backlog(self) -> None:
        while self.backlog and self.view is not None and self.stopped is None and self.room():
            self.number(*self.backlog.pop(0))

    def resend_outbox(self, older_than: float = 0.0, limit: Optional[int] = None) -> None:
        """Send own undelivered multicasts again: all of them (to a new
        leader), or - `limit` - only the oldest few the stream does not show
        sequenced yet. The leader sequences each sender's multicasts in
        order and holds the ones after a gap, so refilling the gap is
        enough; resending everything would add load just when the group is
        slow, and slowness feeds on itself."""
        due = [entry for entry in self.outbox.values() if self.now - entry[1] >= older_than]
        if limit is not None and due:
            seen = self.own_sequenced()
            oldest = [entry for entry in self.outbox.values() if entry[0].n > seen][:limit]
            due = [entry for entry in oldest if self.now - entry[1] >= older_than]
        for entry in due:
            self.stats["retried"] += 1
            entry[1] = self.now
            self.role.forward_mcast(self, entry[0])

    def own_sequenced(self) -> int:
        """The highest number of ours the stream holds (delivered or not).
        Scanned, not `own_seen`: that one only paces sending and may count
        entries a new leader has since cut (using it here lost multicasts in
        the simulator)."""
        mine = self.table.get(self.me)
        seen = mine[1] if mine is not None and mine[0] == self.inc else 0
        for s, e in self.stream.entries.items():
            if s > self.stream.delivered and isinstance(e, Msg) and e.sender == self.me \
                    and e.inc == self.inc:
                seen = max(seen, e.n)
        return seen

    # -- member-side reliability (gms4) --------------------------------------

    def missing(self) -> tuple[int, int]:
        """The first range of entries to ask the leader for (empty if
        first > last): the first gap in our stream, or, while a new
        regime's entries are gathered, the first gap among them."""
        if self.switch is not None and self.switch[0] == self.epoch:
            _, start, gathered = self.switch
            first = next((s for s in range(self.stream.delivered + 1, start + 1)
                          if s not in gathered), start + 1)
            above = [s for s in gathered if s > first]
            return first, (min(above) - 1 if above else max(start, self.top_seen))
        held = self.stream.held_beyond()
        return self.stream.received + 1, (held - 1 if held else self.top_seen)

    def ask_missing(self) -> None:
        first, target = self.missing()
        if target < first:
            return
        if first == self.nack_first:
            if self.now - self.nack_at < self.nack_wait:
                return
            # Asked before and still missing: the answer may be on its way
            # through a slow group; ask less often rather than pile on.
            self.nack_wait = min(2 * self.nack_wait, NACK_BACKOFF_MAX * self.t.nack_retry)
        else:
            self.nack_wait = self.t.nack_retry
        self.nack_first, self.nack_at = first, self.now
        self.stats["nacks"] += 1
        last = min(target, first + self.t.resend_batch - 1)
        self.send(self.leader, Nack(self.me, self.epoch, first, last))

    def ack(self, keepalive: bool = False) -> None:
        d = self.stream.delivered
        # What arrived counts towards `commit` only once it is this epoch's.
        held = self.stream.received if self.log_epoch == self.epoch else d
        due = d - self.ack_sent >= self.t.ack_every or \
            self.unacked_broadcasts >= self.t.ack_broadcasts or (
            self.config.quorum and (held > self.held_sent or self.has_state != self.ready_sent)) or (
            keepalive and (d != self.ack_sent or self.now - self.ack_at >= self.t.heartbeat))
        if due:
            self.send(self.leader, Ack(self.me, self.epoch, d, self.got_from_leader(), held,
                                       self.has_state))
            self.ack_sent, self.ack_at, self.held_sent = d, self.now, held
            self.ready_sent = self.has_state
            self.unacked_broadcasts = 0

    def ask_state(self) -> None:
        self.state_at = self.now
        self.send(self.leader, StateRequest(self.me, self.epoch))

    def restore(self, s: State) -> None:
        """A state transfer: the application state as of entry `s.seq`."""
        if self.has_state or not self.f.reliable:
            return
        if s.src != self.leader or s.epoch != self.epoch:
            self.note(f"dropped state from {s.src} (epoch {s.epoch})", logging.WARNING)
            return
        if s.seq < self.base:
            self.ask_state()    # older than where our stream starts: a gap
            return
        self.has_state = True
        if s.seq > self.stream.delivered:
            self.stream.cover(s.entries, s.seq)
            self.commit = max(self.commit, s.seq)
            self.view = s.view
            self.table = {m: (inc, n) for m, inc, n in s.table}
            self.last_item = s.after
        else:
            for m, inc, n in s.table:
                cur = self.table.get(m)
                if cur is not None and cur[0] == inc and n > cur[1]:
                    self.table[m] = (inc, n)
        mine = self.table.get(self.me)
        if mine is not None and mine[0] == self.inc:
            self.own_seen = max(self.own_seen, mine[1])
            for n in [n for n in self.outbox if n <= mine[1]]:
                del self.outbox[n]
        self.out.append(Restore(s.app, s.seq, s.after, s.src))
        self.out.append(InstallView(s.view, restored=True))
        self.out.extend(e for e in self.awaiting_state if getattr(e, "seq", s.seq + 1) > s.seq)
        self.awaiting_state.clear()
        self.deliver_ready()
        self.flush_backlog()

    # -- leaving -------------------------------------------------------------

    def leave(self) -> None:
        if self.leaving:
            return
        self.leaving = True
        self.role.start_leaving(self)

    def try_leave(self) -> None:
        """Ask the leader to let us go once our own multicasts are delivered."""
        if self.outbox or self.backlog:
            return
        self.leave_at = self.now
        self.send(self.leader, Leave(self.me))
