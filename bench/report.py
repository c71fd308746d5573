"""From runs to figures: medians, ratios to the `limit` ceiling, the table,
the JSON file and the plot.

A figure is the median over the runs of one workload that finished (for
failover: the median and the maximum over its trials). Its ratio is
figure / the same figure of the `limit` pattern measured in the same
invocation: for throughput the share of the ceiling reached, for latency
how many times the bare path it takes.
"""
from __future__ import annotations

import json
import statistics
from typing import Any, Optional

from .suite import Outcome

# workload -> (figure, field in a run's result, unit, how runs combine)
THROUGHPUT = [("throughput", "throughput", "msg/s", "median")]
LATENCY = [(f"{where} {q}", f"{where}_{q}_ms", "ms", "median")
           for where in ("sender", "all") for q in ("p50", "p99")]
FIGURES = {
    "closed": THROUGHPUT,
    "probe": LATENCY,
    "failover": [("median", "failover_ms", "ms", "median"), ("max", "failover_ms", "ms", "max"),
                 ("new view median", "new_view_ms", "ms", "median")],
    # (The run's in_view_ms is script-side and only as fine as Group.wait's
    # 50 ms polls, so it stays in the JSON but makes no figure.)
    "join": [("state applied", "join_ms", "ms", "median")],
}


def _spec(workload: str) -> list[tuple[str, str, str, str]]:
    base = workload.split(":")[-1]
    return THROUGHPUT if base.startswith("window") else FIGURES[base]


def figures(outcomes: list[Outcome]) -> list[dict[str, Any]]:
    """One row per figure, with its limit and ratio where there is one."""
    rows = []
    by_key = {(o.system, o.n, o.workload): o for o in outcomes}
    for o in outcomes:
        if o.workload.startswith("limit:"):
            continue
        ceiling = by_key.get((o.system, o.n, f"limit:{o.workload}"))
        for name, field, unit, combine in _spec(o.workload):
            value = _combine(o, field, combine)
            row: dict[str, Any] = {
                "system": o.system, "n": o.n, "workload": o.workload, "figure": name,
                "unit": unit, "value": value, "runs": len(o.runs), "ok": len(o.ok),
                "errors": sorted({r["error"] for r in o.runs if "error" in r}),
            }
            if ceiling is not None:
                row["limit"] = _combine(ceiling, field, combine)
                row["limit_errors"] = sorted({r["error"] for r in ceiling.runs if "error" in r})
                row["ratio"] = (value / row["limit"]
                                if value is not None and row["limit"] else None)
            rows.append(row)
    # Limits measured on their own (only `--workloads limit`) still get rows.
    measured = {(r["system"], r["n"], r["workload"]) for r in rows}
    for o in outcomes:
        if o.workload.startswith("limit:") and \
                (o.system, o.n, o.workload.split(":")[1]) not in measured:
            for name, field, unit, combine in _spec(o.workload):
                rows.append({"system": o.system, "n": o.n, "workload": o.workload,
                             "figure": name, "unit": unit, "value": _combine(o, field, combine),
                             "runs": len(o.runs), "ok": len(o.ok),
                             "errors": sorted({r["error"] for r in o.runs if "error" in r})})
    return rows


def _combine(o: Outcome, field: str, how: str) -> Optional[float]:
    values = [r[field] for r in o.ok if r.get(field) is not None]
    if not values:
        return None
    return statistics.median(values) if how == "median" else max(values)


def table(rows: list[dict[str, Any]]) -> str:
    """A plain-text table (one line per figure) with a legend."""
    head = ("system", "N", "workload", "figure", "value", "limit", "x limit", "runs")
    lines = [head]
    for r in rows:
        lines.append((r["system"], str(r["n"]), r["workload"], r["figure"],
                      _shown(r["value"], r["errors"], r["unit"]),
                      _shown(r.get("limit"), r.get("limit_errors", []), r["unit"]),
                      "" if r.get("ratio") is None else f"{r['ratio']:.2f}",
                      f"{r['ok']}/{r['runs']}"))
    widths = [max(len(line[i]) for line in lines) for i in range(len(head))]
    right = {1, 4, 5, 6, 7}
    out = ["  ".join(c.rjust(w) if i in right else c.ljust(w)
                     for i, (c, w) in enumerate(zip(line, widths))).rstrip() for line in lines]
    out.insert(1, "-" * len(out[0]))
    errors = sorted({e for r in rows for e in r["errors"] + r.get("limit_errors", [])})
    out.append("")
    out.append("value: median of the runs that finished (failover: median and max of its "
               "trials).\nx limit: value / the bare-Thespian limit of the same pattern "
               "(throughput: share of the ceiling; latency: times the bare path).")
    for e in errors:
        out.append(f"failed run: {e}")
    return "\n".join(out)


def _shown(value: Optional[float], errors: list[str], unit: str) -> str:
    if value is None and errors:
        return "timeout" if all(e.startswith("timeout") for e in errors) else "failed"
    return _num(value, unit)


def _num(value: Optional[float], unit: str) -> str:
    if value is None:
        return ""
    if unit == "msg/s":
        return f"{value:,.0f} {unit}"
    return f"{value:.3g} {unit}" if value < 100 else f"{value:,.0f} {unit}"


def save_json(path: str, meta: dict[str, Any], rows: list[dict[str, Any]],
              outcomes: list[Outcome]) -> None:
    """Figures plus every run's raw result, so any figure can be recomputed."""
    data = {"meta": meta, "figures": rows,
            "runs": [{"system": o.system, "n": o.n, "workload": o.workload, "runs": o.runs}
                     for o in outcomes]}
    with open(path, "w", encoding="utf-8") as f:
        json.dump(data, f, indent=1)
        f.write("\n")


def plot(path: str, rows: list[dict[str, Any]]) -> Optional[str]:
    """Throughput and latency against N as a PNG; returns why not if it
    could not (matplotlib is the optional `bench` extra)."""
    try:
        import matplotlib
        matplotlib.use("Agg")           # no display needed
        import matplotlib.pyplot as plt
    except ImportError:
        return "no plot: matplotlib is not installed (pip install -e '.[bench]')"
    fig, (left, right) = plt.subplots(1, 2, figsize=(13, 5))
    colours: dict[str, str] = {}
    palette = plt.rcParams["axes.prop_cycle"].by_key()["color"]

    def line(ax: Any, picked: list[dict[str, Any]], key: str, label: str, style: str,
             system: str) -> None:
        points = sorted((r["n"], r[key]) for r in picked if r.get(key) is not None)
        if points:
            colour = colours.setdefault(system, palette[len(colours) % len(palette)])
            ax.plot([p[0] for p in points], [p[1] for p in points], style, color=colour,
                    label=label)

    systems = sorted({r["system"] for r in rows})
    throughput = sorted({r["workload"] for r in rows if r["unit"] == "msg/s"
                         and not r["workload"].startswith("limit:")})
    styles = ["o-", "s-", "^-", "d-"]
    for system in systems:
        for i, w in enumerate(throughput):
            picked = [r for r in rows if r["system"] == system and r["workload"] == w]
            line(left, picked, "value", f"{system} {w}", styles[i % len(styles)], system)
            line(left, picked, "limit", f"{system} {w} limit", styles[i % len(styles)][0] + ":",
                 system)
        for i, figure in enumerate(("all p50", "sender p50")):
            picked = [r for r in rows if r["system"] == system and r["workload"] == "probe"
                      and r["figure"] == figure]
            line(right, picked, "value", f"{system} probe {figure}", styles[i], system)
            line(right, picked, "limit", f"{system} limit {figure}", styles[i][0] + ":", system)
    left.set(title="throughput (delivered to all)", xlabel="N members", ylabel="messages/s",
             yscale="log")
    right.set(title="probe latency", xlabel="N members", ylabel="ms", yscale="log")
    ns = sorted({r["n"] for r in rows})
    for ax in (left, right):
        ax.set_xticks(ns)
        ax.grid(True, which="both", alpha=0.3)
        if ax.lines:
            ax.legend(fontsize="x-small")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return None


def metrics_cost(outcomes: list[Outcome]) -> str:
    """Throughput with metrics on against off, per steady workload: min and
    median of the runs of each, and on/off of the medians."""
    from .suite import METRICS_PREFIX
    by_key = {(o.system, o.n, o.workload): o for o in outcomes}
    lines = ["metrics on vs off (throughput, msg/s; runs alternate which goes first):",
             f"  {'system':<7} {'N':>3} {'workload':<10} {'off min':>9} {'off med':>9} "
             f"{'on min':>9} {'on med':>9} {'on/off':>7}"]
    for o in outcomes:
        if not o.workload.startswith(METRICS_PREFIX):
            continue
        base = o.workload[len(METRICS_PREFIX):]
        off = by_key.get((o.system, o.n, base))
        if off is None or not (base == "closed" or base.startswith("window")):
            continue
        on_v = [r["throughput"] for r in o.ok if r.get("throughput")]
        off_v = [r["throughput"] for r in off.ok if r.get("throughput")]
        if not on_v or not off_v:
            lines.append(f"  {o.system:<7} {o.n:>3} {base:<10} (no finished runs to compare)")
            continue
        on_m, off_m = statistics.median(on_v), statistics.median(off_v)
        lines.append(f"  {o.system:<7} {o.n:>3} {base:<10} {min(off_v):>9.0f} {off_m:>9.0f} "
                     f"{min(on_v):>9.0f} {on_m:>9.0f} {on_m / off_m:>7.3f}")
    return "\n".join(lines)
