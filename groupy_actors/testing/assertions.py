"""Assertions about an application's state, with messages that say which
member, which seed, which step, and how to replay the run."""
from __future__ import annotations

import copy
import pickle
from dataclasses import dataclass
from typing import Any, Callable, Optional, Sequence

from ..application import Application, GroupView, Message
from .fake import FakeGroup
from .hosted import copy_payload
from .run import Result, dotted

Key = Callable[[Any], Any]
SHORT = 300     # characters of a state shown in a message


def attributes(app: Any) -> dict[str, Any]:
    """The default key: every attribute of the application but `group`."""
    return {k: v for k, v in vars(app).items() if k != "group"}


def short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= SHORT else text[:SHORT - 15] + f"... ({len(text)} chars)"


def difference(expected: Any, got: Any) -> str:
    """What differs between two states: by key for dicts, else both whole."""
    if isinstance(expected, dict) and isinstance(got, dict):
        parts = []
        for k in list(expected) + [k for k in got if k not in expected]:
            if k not in got:
                parts.append(f"{k!r} missing (expected {short(expected[k])})")
            elif k not in expected:
                parts.append(f"{k!r} unexpected: {short(got[k])}")
            elif not _same(expected[k], got[k]):
                parts.append(f"{k!r}: expected {short(expected[k])}, got {short(got[k])}")
        if parts:
            return "; ".join(parts)
    return f"expected {short(expected)}, got {short(got)}"


def _same(a: Any, b: Any) -> bool:
    try:
        return bool(a == b)
    except Exception:           # e.g. arrays whose == is elementwise
        return pickle.dumps(a) == pickle.dumps(b)


# -- replaying the stream on a fresh instance ------------------------------------------

@dataclass(frozen=True, slots=True)
class Replayed:
    app: Application
    keys: dict[Optional[str], Any]      # key of the state after each item (None: before any)
    stream: list[str]


def replay(result: Result, key: Optional[Key] = None) -> Optional[Replayed]:
    """A fresh instance of the run's application fed the group's whole
    stream (`result.stream()`) through a `FakeGroup` named after the member
    that founded the group: `started()`, every view and message in order,
    then `quiet()` if it has one. Its multicasts and timers are only
    recorded. With `key`, the key after each item is kept too. None if no
    survivor's history reaches back to the first view."""
    stream = result.stream()
    if stream is None:
        return None
    first = result.items.get(stream[0]) if stream else None
    founder = first.members[0] if isinstance(first, GroupView) else "m1"
    group = FakeGroup(founder, result.config.level, result.config.seed)
    cfg = result.config
    app = cfg.app(*cfg.args)
    keys: dict[Optional[str], Any] = {}
    where = "started()"
    try:
        group.attach(app)
        if key is not None:
            keys[None] = copy.deepcopy(key(app))
        for n, item in enumerate(stream, 1):
            entry = result.items[item]
            where = f"item {n} of {len(stream)} ({item})"
            if isinstance(entry, GroupView):
                app.view(entry)
            else:
                app.deliver(Message(copy_payload(entry.payload), entry.sender, entry.id,
                                    entry.seq, entry.view_id))
            if key is not None:
                keys[item] = copy.deepcopy(key(app))
        quiet = getattr(app, "quiet", None)
        if callable(quiet):
            where = "quiet()"
            quiet()
    except Exception as e:
        raise result.failure(f"replaying the stream on a fresh {dotted(cfg.app)} raised "
                             f"{e!r} at {where}", []) from e
    return Replayed(app, keys, stream)


# -- convergence ---------------------------------------------------------------------

def assert_converged(result: Result, key: Key = attributes) -> None:
    """Every survivor's `key(app)` is the same, and the same as a replay of
    the group's stream on a fresh instance (`replay`). The run itself must
    be clean first (`Result.problems`). On failure the message names the
    seed, each survivor's state, the member that went wrong and the item
    (and workload step) after which it first differed from the replay of
    the same prefix for good, and the replay command."""
    __tracebackhide__ = True     # pytest: show the caller, not this function
    problems = result.problems()
    if problems:
        raise result.failure("the run failed before its state could be compared", problems)
    survivors = result.survivors
    if not survivors and result.group_lost:
        return      # crashes took every member holding the state: nothing left to agree
    if not survivors:
        raise result.failure("no member stayed to the end",
                             [f"{life}: {fate}" for life, fate in result.fates.items()])
    states = {name: key(app) for name, app in survivors.items()}
    ref = replay(result, key)
    expected = key(ref.app) if ref is not None else next(iter(states.values()))
    wrong = [name for name, state in states.items() if not _same(state, expected)]
    if not wrong:
        return
    groups: list[tuple[Any, list[str]]] = []
    for name, state in states.items():
        for value, names in groups:
            if _same(value, state):
                names.append(name)
                break
        else:
            groups.append((state, [name]))
    details = []
    if ref is None:
        details.append("(no survivor's history reaches back to the group's first view: "
                       "compared with the first survivor, not with a replay)")
    else:
        details.append(f"a fresh {dotted(result.config.app)} fed the {len(ref.stream)} items "
                       f"of the stream ends with: {short(expected)}")
    for value, names in groups:
        same = _same(value, expected)
        details.append(f"{', '.join(names)}: {'the same' if same else difference(expected, value)}")
    if ref is not None:
        details += diverged(result, key, ref, wrong)
    raise result.failure(f"the survivors' states do not converge ({', '.join(wrong)} "
                         f"{'differs' if len(wrong) == 1 else 'differ'})", details)


def diverged(result: Result, key: Key, ref: Replayed, lives: list[str]) -> list[str]:
    """Replay the run (it replays exactly) comparing each of `lives` with
    the replay of the same prefix after every item it delivers and every
    state transfer: where did each start to differ for good?"""
    position = {item: n for n, item in enumerate(ref.stream, 1)}
    since: dict[str, Optional[tuple[float, str, Optional[str], Any, Any]]] = {}

    def probe(life: str, what: str, item: Optional[str], t: float, app: Application) -> None:
        if life not in lives or (item is not None and item not in ref.keys):
            return
        expected, state = ref.keys[item], key(app)
        if _same(state, expected):
            since[life] = None
        elif since.get(life) is None:
            since[life] = (t, what, item, copy.deepcopy(state), expected)

    result.config.run(probe=probe)
    out = []
    for life in lives:
        found = since.get(life)
        if found is None:
            out.append(f"{life} matched the replay after each item it took; it went wrong "
                       f"between items (a timer, quiet(), or state the key shows but no "
                       f"item explains)")
            continue
        t, what, item, state, expected = found
        where = (f"item {position[item]} of {len(ref.stream)}, {item}" if item is not None
                 else "the start of the stream")
        step = result.item_steps.get(item or "")
        origin = f", multicast in workload step {step[1]} at {step[0]}" if step else ""
        if what == "restore":
            how = f"its state transfer (restore) at t={t:.1f}, which covered up to {where}{origin}"
        else:
            how = f"it took {where}{origin} ({what}) at t={t:.1f}"
        out.append(f"{life} first differed from the replay of the same prefix, for good, "
                   f"after {how}: {difference(expected, state)}")
    return out


# -- snapshot and restore --------------------------------------------------------------

def assert_snapshot_roundtrip(app: Callable[..., Application], messages: Sequence[Any],
                              args: tuple[Any, ...] = (), key: Key = attributes,
                              name: str = "m1") -> None:
    """For every prefix of `messages` (payloads, or `Message`s): a member
    that founded the group, delivered the prefix and installed the view
    admitting a newcomer takes `snapshot()`; a fresh instance that
    `restore`s it (pickled, as across processes) and gets that view (marked
    restored) has the same `key`; `snapshot()` left the original unchanged;
    and both still agree after delivering the rest of `messages`. The
    default key compares every attribute but `group`: pass one that picks
    the replicated state if the application also keeps local bookkeeping."""
    __tracebackhide__ = True     # pytest: show the caller, not this function
    label = dotted(app)
    for cut in range(len(messages) + 1):
        original_group = FakeGroup(name)
        original = original_group.attach(app(*args))
        original_group.install([name])
        for payload in messages[:cut]:
            original_group.deliver(payload)
        # The view that admits the newcomer comes before the snapshot for
        # it; the newcomer gets that view marked restored, after restore().
        view = original_group.install([name, "m2"])
        before = copy.deepcopy(key(original))
        blob = pickle.dumps(original.snapshot(), pickle.HIGHEST_PROTOCOL)
        prefix = f"after {cut} of {len(messages)} messages {short(list(messages[:cut]))}"
        if not _same(key(original), before):
            raise AssertionError(f"{label}: snapshot() changed the original {prefix}: "
                                 f"{difference(before, key(original))}")
        newcomer_group = FakeGroup("m2")
        newcomer = newcomer_group.attach(app(*args))
        newcomer.restore(pickle.loads(blob))
        newcomer_group.view_id, newcomer_group.seq = view.view_id - 1, original_group.seq
        newcomer_group.install(view.members, restored=True)
        if not _same(key(newcomer), key(original)):
            raise AssertionError(f"{label}: restore(snapshot()) differs from the original "
                                 f"{prefix}: {difference(key(original), key(newcomer))}")
        rest = [original_group.message(p) if not isinstance(p, Message) else p
                for p in messages[cut:]]
        for m in rest:
            original_group.deliver(m)
            newcomer_group.deliver(m)
        if not _same(key(newcomer), key(original)):
            raise AssertionError(f"{label}: restored {prefix}, then both delivered the other "
                                 f"{len(rest)}: they differ: "
                                 f"{difference(key(original), key(newcomer))}")
