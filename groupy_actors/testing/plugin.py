"""The pytest plugin of `groupy_actors.testing`, registered by installing the
package (entry point `pytest11`: groupy).

- `groupy_sim`: a fixture; `groupy_sim(App, **simulate_arguments)` runs
  `simulate` on the current seed and returns its `Result`, whose failure
  messages then carry the pytest command that replays that seed.
- `groupy_seed`: the current seed, as an int.
- `@pytest.mark.groupy_seeds(count, start=0)`: run the test once per seed
  start .. start+count-1, within one test item (function-scoped fixtures
  are made once and shared by all its seeds). It stops at the first
  failing seed, runs that seed once more to see whether it fails again
  (if not, something besides the seed decides the run), and reports the
  command that replays it, in the failure and in a "groupy seeds" section
  of the terminal summary.
- `--groupy-seed N`: run marked tests on seed N only (the replay command);
  unmarked tests get N as their seed too. `--groupy-seeds N`: run N seeds
  in every marked test, whatever its marker says.
"""
from __future__ import annotations

import os
import shlex
from dataclasses import dataclass, replace
from typing import Any, Callable, Optional

import pytest

MARKER = "groupy_seeds"


@dataclass(frozen=True, slots=True)
class SeedFailure:
    nodeid: str
    seed: int
    passed: int             # seeds that passed before it
    command: str
    again: bool             # it failed again when run once more


FAILURES = pytest.StashKey[list[SeedFailure]]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("groupy", "groupy-actors: testing applications on the simulator")
    group.addoption("--groupy-seed", type=int, default=None, metavar="N",
                    help="run tests marked groupy_seeds on seed N only (and give unmarked "
                         "tests seed N): what a failure's replay command says")
    group.addoption("--groupy-seeds", type=int, default=None, metavar="N",
                    help="run N seeds in every test marked groupy_seeds, whatever it says")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", f"{MARKER}(count, start=0): run the test once per seed start.."
                   "start+count-1 (the groupy_sim and groupy_seed fixtures follow the seed); "
                   "stop at the first failing seed and print the command that replays it")
    config.stash[FAILURES] = []


def replay_command(item: pytest.Item, seed: int) -> str:
    """The pytest command, from the directory pytest was started in, that
    runs `item` on `seed` alone."""
    path = os.path.relpath(str(item.path), str(item.config.invocation_params.dir))
    test = item.nodeid.split("::", 1)[1] if "::" in item.nodeid else item.name
    return f"pytest {shlex.quote(f'{path}::{test}')} --groupy-seed {seed}"


class SimRunner:
    """The `groupy_sim` fixture's value: call it like `simulate`, without the seed."""

    def __init__(self, item: pytest.Item, seed: int) -> None:
        self.item = item
        self.seed = seed

    @property
    def replay_command(self) -> str:
        return replay_command(self.item, self.seed)

    def __call__(self, app: Callable[..., Any], **kwargs: Any) -> Any:
        from .run import simulate
        kwargs.setdefault("seed", self.seed)
        result = simulate(app, **kwargs)
        if kwargs["seed"] == self.seed:
            result = replace(result, replay_command=self.replay_command)
        return result


def _chosen_seed(config: pytest.Config) -> int:
    seed = config.getoption("groupy_seed")
    return 0 if seed is None else seed


@pytest.fixture
def groupy_seed(request: pytest.FixtureRequest) -> int:
    """The seed of this run of the test (see `groupy_seeds`)."""
    return _chosen_seed(request.config)


@pytest.fixture
def groupy_sim(request: pytest.FixtureRequest) -> SimRunner:
    """`groupy_sim(App, members=5, faults=Faults(...), workload=fn, ...)` runs
    `groupy_actors.testing.simulate` on this run's seed."""
    return SimRunner(request.node, _chosen_seed(request.config))


def _seeds(item: pytest.Item, marker: pytest.Mark) -> range:
    config = item.config
    chosen = config.getoption("groupy_seed")
    if chosen is not None:
        return range(chosen, chosen + 1)
    count = marker.args[0] if marker.args else marker.kwargs.get("count", 100)
    start = marker.args[1] if len(marker.args) > 1 else marker.kwargs.get("start", 0)
    count = config.getoption("groupy_seeds") or count
    return range(start, start + count)


def _passes(call: Callable[[], Any]) -> bool:
    try:
        call()
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException:
        return False
    return True


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> Optional[bool]:
    marker = pyfuncitem.get_closest_marker(MARKER)
    if marker is None:
        return None
    names = pyfuncitem._fixtureinfo.argnames
    if "groupy_sim" not in names and "groupy_seed" not in names:
        pytest.fail(f"@pytest.mark.{MARKER} needs the groupy_sim or the groupy_seed "
                    f"fixture, to follow the seed", pytrace=False)
    args = {name: pyfuncitem.funcargs[name] for name in names}
    runner: Optional[SimRunner] = args.get("groupy_sim")
    seeds = _seeds(pyfuncitem, marker)

    def run(seed: int) -> None:
        if runner is not None:
            runner.seed = seed
        if "groupy_seed" in args:
            args["groupy_seed"] = seed
        pyfuncitem.obj(**args)

    for passed, seed in enumerate(seeds):
        try:
            run(seed)
        except (pytest.skip.Exception, pytest.xfail.Exception, KeyboardInterrupt, SystemExit):
            raise
        except BaseException as e:
            again = not _passes(lambda: run(seed))
            failure = SeedFailure(pyfuncitem.nodeid, seed, passed,
                                  replay_command(pyfuncitem, seed), again)
            pyfuncitem.config.stash[FAILURES].append(failure)
            e.add_note(_describe(failure, seeds))
            raise
    return True


def _describe(f: SeedFailure, seeds: range) -> str:
    before = f"after seeds {seeds.start}..{f.seed - 1} passed" if f.passed else "the first seed"
    again = ("it failed again when run once more" if f.again else
             "WARNING: it passed when run once more: the test depends on something besides "
             "the seed (global random, time, set order of strings under hash randomisation)")
    return f"groupy: failed on seed {f.seed} ({before}); {again}\nreplay: {f.command}"


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int,
                            config: pytest.Config) -> None:
    failures = config.stash.get(FAILURES, [])
    if not failures:
        return
    terminalreporter.section("groupy seeds")
    for f in failures:
        flaky = "" if f.again else " (did NOT fail again when rerun: not deterministic)"
        terminalreporter.write_line(f"{f.nodeid} failed on seed {f.seed}{flaky}; replay: "
                                    f"{f.command}")
