"""Benchmarks of groupy-actors (issue 5): `python -m bench --help`.

Modules: `apps` (the application the members run), `workloads` (the group
workloads), `limit` (the same patterns on bare Thespian actors), `suite`
(what runs how often), `report` (figures, table, JSON, plot), `teardown`
(stopping actor systems for sure) and `run` (the command line).
"""
