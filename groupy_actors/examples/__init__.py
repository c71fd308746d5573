"""Example applications, each tested with `groupy_actors.testing` (see tests/testing/).

- `kvstore`: a replicated key-value store (put/delete multicast, reads local),
  with a command line client for a store spread over machines.
- `forgetful`: the same store with a deliberate bug (its snapshot forgets a
  field), for the tests that show the kit catching it.
"""
