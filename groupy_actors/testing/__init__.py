"""Test your `Application` under the simulator's faults.

- `simulate(App, members=5, seed=0, faults=Faults(...), steps=20,
  workload=fn, args=(), quorum=False, level="gms4")` runs N instances of
  your class, unchanged, on the seeded simulator and returns a `Result`
  (the application objects, the records, the checker's report);
- `assert_converged(result, key=...)`: the survivors agree with each other
  and with a replay of the stream on a fresh instance;
- `assert_snapshot_roundtrip(App, messages=[...])`: restore(snapshot())
  gives back the state after any prefix of the messages;
- `FakeGroup`: `self.group` for unit tests of one handler;
- the pytest plugin (`groupy_actors.testing.plugin`, registered on
  install): the `groupy_sim` fixture and `@pytest.mark.groupy_seeds(N)`.

See README.md, "Testing your application".
"""
from ..sim import Faults
from .assertions import assert_converged, assert_snapshot_roundtrip, attributes, replay
from .fake import FakeGroup, Timer
from .hosted import UNITS_PER_SECOND, HandlerError
from .run import Result, RunConfig, simulate

__all__ = ["FakeGroup", "Faults", "HandlerError", "Result", "RunConfig", "Timer",
           "UNITS_PER_SECOND", "assert_converged", "assert_snapshot_roundtrip", "attributes",
           "replay", "simulate"]
