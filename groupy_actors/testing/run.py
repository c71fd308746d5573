"""`simulate`: one seeded run of a user's application, and what it left."""
from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import TYPE_CHECKING, Any, Callable, Optional, Union

from ..application import Application, GroupView, Message
from ..checker import Known, Report, lives_of
from ..core.config import LEVELS
from ..sim import Faults
from .hosted import AppSimulation, HandlerError, Probe, Workload

if TYPE_CHECKING:
    from .shrinking import Shrunk

Check = Callable[["Result"], None]


def dotted(obj: Any) -> str:
    """`module.qualname` of a class or function (what a replay imports)."""
    module, name = getattr(obj, "__module__", None), getattr(obj, "__qualname__", None)
    if not name:
        return repr(obj)
    return name if module in (None, "builtins") else f"{module}.{name}"


def faults_text(faults: Faults) -> str:
    """`Faults(...)` with only the fields that differ from the defaults."""
    default = Faults()
    changed = [f"{f.name}={getattr(faults, f.name)!r}" for f in fields(Faults)
               if getattr(faults, f.name) != getattr(default, f.name)]
    return f"Faults({', '.join(changed)})"


@dataclass(frozen=True, slots=True)
class RunConfig:
    """Everything that decides a run: the same config replays the same run."""

    app: Callable[..., Application]
    members: int = 5
    seed: int = 0
    faults: Faults = Faults()
    steps: int = 20
    workload: Optional[Workload] = None
    args: tuple[Any, ...] = ()
    quorum: bool = False
    level: str = "gms4"
    duration: float = 400.0
    settle: float = 4000.0

    def __post_init__(self) -> None:
        if self.level not in LEVELS:
            raise ValueError(f"unknown protocol level {self.level!r}; choose one of "
                             f"{', '.join(LEVELS)}")
        if self.members < 1 or self.steps < 0:
            raise ValueError(f"need members >= 1 and steps >= 0, not {self.members}, {self.steps}")

    def text(self) -> str:
        """The `simulate(...)` call that replays this run."""
        default = RunConfig(self.app)
        parts = [dotted(self.app), f"members={self.members}", f"seed={self.seed}"]
        if self.faults != default.faults:
            parts.append(f"faults={faults_text(self.faults)}")
        if self.workload is not None:
            parts += [f"steps={self.steps}", f"workload={dotted(self.workload)}"]
        for name in ("args", "quorum", "level", "duration", "settle"):
            if getattr(self, name) != getattr(default, name):
                parts.append(f"{name}={getattr(self, name)!r}")
        return f"simulate({', '.join(parts)})"

    def run(self, probe: Optional[Probe] = None, keep_log: bool = False) -> "Result":
        sim = AppSimulation(self.app, self.args, self.workload, level=self.level,
                            seed=self.seed, members=self.members, steps=self.steps,
                            faults=self.faults, duration=self.duration, settle=self.settle,
                            quorum=self.quorum, keep_log=keep_log, probe=probe)
        try:
            outcome = sim.run()
        except BaseException as e:     # the application's constructor, or a core invariant
            e.add_note(f"in a run of groupy_actors.testing; replay: {self.text()}")
            raise
        lives = lives_of(outcome.records)
        fates = {life.name: life.fate for life in lives}
        # Each item as the lives that stayed delivered it, where one did.
        items = {item: next((x for life, x in seen.items() if fates.get(life) == "stayed"),
                            next(iter(seen.values())))
                 for item, seen in sim.items.items()}
        by_life = {life.name: sim.slots[life.name.split("#")[0]].app for life in lives
                   if life.name.split("#")[0] in sim.slots}
        return Result(
            config=self, apps={name: s.app for name, s in sim.slots.items()}, lives=by_life,
            fates=fates, records=outcome.records,
            report=outcome.report, errors=tuple(sim.errors), more_errors=sim.more_errors,
            quiet=outcome.quiet, histories_agree=outcome.histories_agree, end=outcome.end,
            counts=dict(outcome.counts),
            statuses={name: s.status for name, s in sim.slots.items()},
            group_lost=sim.lost_at is not None,
            items=items, item_steps=dict(sim.item_steps), log=outcome.log)


@dataclass(frozen=True, slots=True)
class Result:
    """What one run left. `apps` holds each member's application object by
    member name ("m1".."mN" at the start, "j1".. for joiners), `lives` the
    same objects by the checker's life names (a member put out of the group
    and back is "m3" then "m3#2": one object, as in the shell, where it
    keeps its application actor), `fates` each life's end ("stayed",
    "crashed", "rejoined", "halted", "stopped: <reason>")."""

    config: RunConfig
    apps: dict[str, Application]
    lives: dict[str, Application]
    fates: dict[str, str]
    records: list[dict[str, Any]]
    report: Report
    errors: tuple[HandlerError, ...]
    more_errors: int
    quiet: bool
    histories_agree: Optional[bool]
    end: float
    counts: dict[str, int]
    statuses: dict[str, Optional[dict[str, Any]]]      # status() at the end (or last)
    group_lost: bool        # crashes took every member holding the group's state
    items: dict[str, Union[Message, GroupView]]   # stream item -> what was delivered
    item_steps: dict[str, tuple[str, int]]          # item -> (member, workload step)
    log: list[str]
    replay_command: Optional[str] = None            # set by the pytest plugin
    shrunk: Optional["Shrunk"] = None

    @property
    def seed(self) -> int:
        return self.config.seed

    @property
    def survivors(self) -> dict[str, Application]:
        """The applications of the lives that stayed to the end."""
        return {name: app for name, app in self.lives.items() if self.fates[name] == "stayed"}

    @property
    def ok(self) -> bool:
        return not self.problems()

    @property
    def replay(self) -> str:
        return self.config.text()

    def problems(self) -> list[str]:
        """Why this run fails on its own (before any check of the state):
        user code raised, the checker found a broken guarantee, the group
        never settled. Empty when none."""
        out = [f"{e}\n{_indent(e.traceback.rstrip())}" for e in self.errors]
        if self.more_errors:
            out.append(f"... and {self.more_errors} more handler errors")
        if not self.report.ok:
            out += self.report.lines()
        if self.histories_agree is False:
            out.append("the members' histories of the stream differ")
        if not self.quiet:
            out.append(f"the group never settled (one view, nothing owed) within "
                       f"{self.config.settle:g} units after the work (an application that "
                       f"keeps multicasting after quiet() keeps it busy)")
        return out

    def header(self) -> str:
        c = self.config
        return (f"seed {c.seed}: {c.level}{' quorum' if c.quorum else ''}, {c.members} members, "
                f"{faults_text(c.faults)}, {c.steps if c.workload else 0} workload steps")

    def replay_lines(self) -> list[str]:
        lines = [f"replay: {self.replay}"]
        if self.replay_command:
            lines.append(f"    or: {self.replay_command}")
        if self.shrunk is not None:
            lines += self.shrunk.lines()
        return lines

    def failure(self, what: str, details: list[str]) -> AssertionError:
        """An AssertionError that says what failed, on which seed, and how to replay it."""
        text = [f"{what} ({self.header()})"] + [_indent(d) for d in details] + self.replay_lines()
        return AssertionError("\n".join(text))

    def assert_ok(self) -> None:
        """Raise (with the replay command) if `problems()` finds any."""
        __tracebackhide__ = True
        problems = self.problems()
        if problems:
            raise self.failure("the run failed", problems)

    def stream(self) -> Optional[list[str]]:
        """The group's whole sequence of items (message and view keys) as
        the survivors hold it, counting what state transfers carried; None
        if no survivor's history reaches back to the group's first view."""
        every = lives_of(self.records)
        known = Known(every)
        best: Optional[list[str]] = None
        for life in every:
            if life.stayed:
                history = known.history(life)
                if history is not None and (best is None or len(history) > len(best)):
                    best = history
        return best

    def rerun(self, **changes: Any) -> "Result":
        """The same run again (it replays exactly), or with `changes` to the config."""
        return replace(self.config, **changes).run()

    def summary(self) -> str:
        return f"{'ok' if self.ok else 'FAILED'}: {self.header()}; {self.report.lines()[0]}"


def _indent(text: str, by: str = "  ") -> str:
    return "\n".join(by + line for line in text.splitlines())


def simulate(app: Callable[..., Application], members: int = 5, seed: int = 0,
             faults: Faults = Faults(), steps: int = 20, workload: Optional[Workload] = None,
             args: tuple[Any, ...] = (), quorum: bool = False, level: str = "gms4", *,
             duration: float = 400.0, settle: float = 4000.0, shrink: bool = False,
             check: Optional[Check] = None, shrink_examples: int = 100,
             keep_log: bool = False) -> Result:
    """Run `members` instances of `app(*args)` on the seeded simulator.

    Members m1..mN start in the first 20 units; `workload(app, k)` runs
    step k (k = 0..steps-1) at a random live member at a random time in
    [30, duration] (without a workload there are no steps: the
    application may drive itself with `self.group.after`); `faults`
    injects loss, duplication, reordering, crashes, partitions, joins
    (members j1, j2, ...) and leaves in [40, duration]. At `duration`
    every live application's `quiet()` (if it has one) is called; the run
    then goes on until the group is quiet, at most `settle` units more
    (timers still pending then never fire). Times are simulator units:
    one unit is a simulated millisecond (`self.group.after(0.02, cb)`
    fires 20 units later). `keep_log` keeps a line per step in `log`.

    The same arguments replay the same run. `check(result)` (default:
    `Result.assert_ok`) decides whether a run failed; with `shrink=True`
    a failing run is handed to hypothesis, which tries `shrink_examples`
    configs, then shrinks the failing ones (see
    `groupy_actors.testing.shrinking` for what is shrunk); the smallest
    that fails the same way goes in `result.shrunk`, and so in every
    failure message of the result.
    """
    config = RunConfig(app, members, seed, faults, steps, workload, tuple(args), quorum, level,
                       duration, settle)
    result = config.run(keep_log=keep_log)
    if shrink:
        from .shrinking import shrink_failure
        shrunk = shrink_failure(config, check or Result.assert_ok, result, shrink_examples)
        if shrunk is not None:
            result = replace(result, shrunk=shrunk)
    return result
