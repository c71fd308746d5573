"""From runs to figures: medians, ratios to the `limit` ceiling, the
side-by-side comparison with a peer, the tables, the JSON file and the plot.

A figure is the median over the runs of one workload that finished (for
failover: the median and the maximum over its trials). Its ratio is
figure / the same figure of the `limit` pattern measured in the same
invocation: for throughput the share of the ceiling reached, for latency
how many times the bare path it takes.

With a peer (bench/peers.py), each of our figures that the peer has too is
set beside the peer's best figure over its configurations (and, for a
window, over "every replica submits" and "the leader alone with a large
window"), naming the configuration that gave it. The ratio there is ours /
the peer's: for throughput higher is better, for latency lower is better,
and the table says which side is ahead.
"""
from __future__ import annotations

import itertools
import json
import statistics
from typing import Any, Optional

from .peers import LEADER_WINDOW as PEER_LEADER_WINDOW
from .suite import LEADER_WINDOW, Outcome

# workload -> (figure, field in a run's result, unit, how runs combine)
THROUGHPUT = [("throughput", "throughput", "msg/s", "median")]
RESENDS = [("resends", "resends", "per delivery", "median")]
LATENCY = [(f"{where} {q}", f"{where}_{q}_ms", "ms", "median")
           for where in ("sender", "all") for q in ("p50", "p99")]
FIGURES = {
    "closed": THROUGHPUT + RESENDS,
    "probe": LATENCY,
    "failover": [("median", "failover_ms", "ms", "median"), ("max", "failover_ms", "ms", "max"),
                 ("new view median", "new_view_ms", "ms", "median")],
    # (The run's in_view_ms is script-side and only as fine as Group.wait's
    # 50 ms polls, so it stays in the JSON but makes no figure.)
    "join": [("state applied", "join_ms", "ms", "median")],
}
# A peer's figures where they differ from ours: no resend counters, and the
# time until a survivor led instead of our new view.
PEER_FIGURES = {
    **FIGURES,
    "closed": THROUGHPUT,
    "failover": [("median", "failover_ms", "ms", "median"), ("max", "failover_ms", "ms", "max"),
                 ("new leader median", "new_leader_ms", "ms", "median")],
    "join": [("state applied", "join_ms", "ms", "median"),
             ("from process start", "started_join_ms", "ms", "median")],
}
HIGHER_IS_BETTER = {"msg/s"}


def _spec(workload: str, peer: bool = False) -> list[tuple[str, str, str, str]]:
    base = workload.split(":")[-1]
    if base.startswith(("window", LEADER_WINDOW)):
        return THROUGHPUT if peer or workload.startswith("limit:") else THROUGHPUT + RESENDS
    if workload.startswith("limit:"):
        return [f for f in FIGURES[base] if f not in RESENDS]
    return (PEER_FIGURES if peer else FIGURES)[base]


def who(row: dict[str, Any]) -> str:
    """How a row's system is named in tables: "tcp", "pysyncobj/short", ..."""
    return f"{row['system']}/{row['config']}" if row.get("config") else row["system"]


def figures(outcomes: list[Outcome]) -> list[dict[str, Any]]:
    """One row per figure, with its limit and ratio where there is one."""
    rows = []
    by_key = {(o.system, o.n, o.workload): o for o in outcomes if not o.peer}
    for o in outcomes:
        if o.workload.startswith("limit:"):
            continue
        ceiling = None if o.peer else by_key.get((o.system, o.n, f"limit:{o.workload}"))
        for name, field, unit, combine in _spec(o.workload, o.peer):
            value = _combine(o, field, combine)
            row: dict[str, Any] = {
                "system": o.system, "n": o.n, "workload": o.workload, "figure": name,
                "unit": unit, "value": value, "runs": len(o.runs), "ok": len(o.ok),
                "errors": sorted({r["error"] for r in o.runs if "error" in r}),
            }
            if o.peer:
                row["config"] = o.config
            if o.note:
                row["note"] = o.note
            if ceiling is not None and (name, field, unit, combine) not in RESENDS:
                row["limit"] = _combine(ceiling, field, combine)
                row["limit_errors"] = sorted({r["error"] for r in ceiling.runs if "error" in r})
                row["ratio"] = (value / row["limit"]
                                if value is not None and row["limit"] else None)
            rows.append(row)
    # Limits measured on their own (only `--workloads limit`) still get rows.
    measured = {(r["system"], r["n"], r["workload"]) for r in rows if not r.get("config")}
    for o in outcomes:
        if o.workload.startswith("limit:") and not o.peer and \
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


def _columns(head: tuple[str, ...], lines: list[tuple[str, ...]], right: set[int]) -> list[str]:
    lines = [head] + lines
    widths = [max(len(line[i]) for line in lines) for i in range(len(head))]
    out = ["  ".join(c.rjust(w) if i in right else c.ljust(w)
                     for i, (c, w) in enumerate(zip(line, widths))).rstrip() for line in lines]
    out.insert(1, "-" * max(len(line) for line in out))
    return out


def table(rows: list[dict[str, Any]]) -> str:
    """A plain-text table (one line per figure) with a legend."""
    head = ("system", "N", "workload", "figure", "value", "limit", "x limit", "runs")
    lines = []
    for r in rows:
        lines.append((who(r), str(r["n"]), r["workload"], r["figure"],
                      "n/a" if r.get("note") else _shown(r["value"], r["errors"], r["unit"]),
                      _shown(r.get("limit"), r.get("limit_errors", []), r["unit"]),
                      "" if r.get("ratio") is None else f"{r['ratio']:.2f}",
                      f"{r['ok']}/{r['runs']}"))
    out = _columns(head, lines, {1, 4, 5, 6, 7})
    errors = sorted({e for r in rows for e in r["errors"] + r.get("limit_errors", [])})
    notes = sorted({(who(r), r["workload"], r["note"]) for r in rows if r.get("note")})
    out.append("")
    out.append("value: median of the runs that finished (failover: median and max of its "
               "trials).\nx limit: value / the bare-Thespian limit of the same pattern "
               "(throughput: share of the ceiling; latency: times the bare path).")
    if any(r["figure"] == "resends" for r in rows):
        out.append("resends: entries resent on gap reports plus multicasts sent again, "
                   "summed over the members, per delivery (M x N deliveries).")
    for system, workload, note in notes:
        out.append(f"n/a: {system} {workload}: {note}")
    for e in errors:
        out.append(f"failed run: {e}")
    return "\n".join(out)


def comparison(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each of our figures that a peer has too, beside the peer's best one
    over its configurations (the highest throughput, the lowest latency);
    see `_pairings` for which of the peer's figures are candidates."""
    ours = [r for r in rows if not r.get("config") and not r["workload"].startswith("limit:")
            and r["figure"] != "resends"]
    theirs = [r for r in rows if r.get("config")]
    out: list[dict[str, Any]] = []
    index: dict[tuple[Any, ...], dict[str, Any]] = {}
    for r in ours:
        for (label, allowed, figure), peer in itertools.product(
                _pairings(r["workload"], r["figure"]), sorted({t["system"] for t in theirs})):
            candidates = [t for t in theirs if t["system"] == peer and t["n"] == r["n"]
                          and t["workload"] in allowed and t["figure"] == figure]
            if not candidates:
                continue
            key = (r["n"], r["workload"], label, peer)
            if key not in index:
                index[key] = _entry(r, label, peer, candidates)
                out.append(index[key])
            entry = index[key]
            entry["ours"][r["system"]] = r["value"]
            ratio = (r["value"] / entry["peer_value"]
                     if r["value"] is not None and entry["peer_value"] else None)
            entry["ratio"][r["system"]] = ratio
            entry["ahead"][r["system"]] = _ahead(ratio, entry["better"], peer)
    return out


def _entry(ours: dict[str, Any], label: str, peer: str,
           candidates: list[dict[str, Any]]) -> dict[str, Any]:
    higher = ours["unit"] in HIGHER_IS_BETTER
    measured = [t for t in candidates if t["value"] is not None]
    best = (max if higher else min)(measured, key=lambda t: t["value"]) if measured else None
    entry: dict[str, Any] = {
        "n": ours["n"], "workload": ours["workload"], "figure": label, "unit": ours["unit"],
        "better": "higher" if higher else "lower", "peer": peer,
        "peer_value": best and best["value"], "peer_config": best and best["config"],
        "peer_workload": best and best["workload"],
        "peer_candidates": {f"{t['config']} {t['workload']}": t["value"] for t in candidates},
        "ours": {}, "ratio": {}, "ahead": {}}
    if best is None:
        notes = sorted({t["note"] for t in candidates if t.get("note")})
        errors = sorted({e for t in candidates for e in t["errors"]})
        entry["peer_note"] = "; ".join(notes) or \
            ("failed: " + "; ".join(errors) if errors else "not run (interrupted)")
    return entry


def _pairings(workload: str, figure: str) -> list[tuple[str, list[str], str]]:
    """(label, the peer's workloads to pick from, the peer's figure) for one
    of our figures: windows against the best of both ways of loading the
    peer and against the same window at every replica; the join against
    the peer's time from its request and from starting its process."""
    if workload.startswith("window"):
        return [(figure, [workload, LEADER_WINDOW], figure),
                (f"{figure} (peer: every replica)", [workload], figure)]
    if workload == "join":
        return [(figure, [workload], figure),
                (f"{figure} (peer: from process start)", [workload], "from process start")]
    return [(figure, [workload], figure)]


def _ahead(ratio: Optional[float], better: str, peer: str) -> str:
    if ratio is None:
        return ""
    if ratio == 1:
        return "even"
    return "ours" if (ratio > 1) == (better == "higher") else peer


def comparison_table(entries: list[dict[str, Any]]) -> str:
    """figure | peer (config) | ours <system> | ratio | ahead, per group size."""
    if not entries:
        return ""
    systems = list(dict.fromkeys(s for e in entries for s in e["ours"]))
    lines_by_peer: dict[str, list[tuple[str, ...]]] = {}
    for e in entries:
        peer = e["peer"]
        if e["peer_value"] is None:
            note = e.get("peer_note", "")
            shown = "failed" if note.startswith("failed") else \
                "not run" if note.startswith("not run") else "n/a"
        else:
            workload = e["peer_workload"]
            how = e["peer_config"]
            if workload == LEADER_WINDOW:
                how += f", leader alone W={PEER_LEADER_WINDOW}"
            shown = f"{_num(e['peer_value'], e['unit'])} ({how})"
        line: tuple[str, ...] = (str(e["n"]), f"{e['workload']} {e['figure']}", e["better"],
                                 shown)
        for s in systems:
            ratio = e["ratio"].get(s)
            line += (_num(e["ours"].get(s), e["unit"]),
                     "" if ratio is None else f"{ratio:.2f}", e["ahead"].get(s, ""))
        lines_by_peer.setdefault(peer, []).append(line)
    out = []
    for peer, lines in lines_by_peer.items():
        head: tuple[str, ...] = ("N", "figure", "better", f"{peer} (config)")
        for s in systems:
            head += (f"ours {s}", "ratio", "ahead")
        right = {0} | {4 + 3 * i for i in range(len(systems))} | \
            {5 + 3 * i for i in range(len(systems))}
        out += [f"side by side with {peer}: ratio = ours / {peer}; better: which way is better "
                "(throughput higher, latency lower); ahead: the side with the better figure", ""]
        out += _columns(head, lines, right)
        notes = sorted({(e["n"], e["workload"], e["peer_note"]) for e in entries
                        if e["peer"] == peer and e.get("peer_note")})
        out.append("")
        out.append(f"{peer}'s figure is its best over the configurations tried (named); for a "
                   f"window, also over the leader alone submitting with a large window.")
        for n, workload, note in notes:
            out.append(f"{peer} N={n} {workload}: {note}")
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
    if unit == "per delivery":
        return f"{value:.3g}"
    return f"{value:.3g} {unit}" if value < 100 else f"{value:,.0f} {unit}"


def save_json(path: str, meta: dict[str, Any], rows: list[dict[str, Any]],
              outcomes: list[Outcome]) -> None:
    """Figures, the comparison with any peer, plus every run's raw result,
    so any figure can be recomputed."""
    data: dict[str, Any] = {"meta": meta, "figures": rows}
    side_by_side = comparison(rows)
    if side_by_side:
        data["comparison"] = side_by_side
    data["runs"] = [{"system": o.system, "n": o.n, "workload": o.workload,
                     **({"config": o.config} if o.peer else {}),
                     **({"note": o.note} if o.note else {}), "runs": o.runs}
                    for o in outcomes]
    with open(path, "w", encoding="utf-8") as f:
        json.dump(data, f, indent=1)
        f.write("\n")


def plot(path: str, rows: list[dict[str, Any]]) -> Optional[str]:
    """Throughput and latency against N as a PNG, and with a peer a second
    row of bars, ours beside the peer's best with the ratio; returns why not
    if it could not (matplotlib is the optional `bench` extra)."""
    try:
        import matplotlib
        matplotlib.use("Agg")           # no display needed
        import matplotlib.pyplot as plt
    except ImportError:
        return "no plot: matplotlib is not installed (pip install -e '.[bench]')"
    side_by_side = comparison(rows)
    rows = [r for r in rows if not r.get("config")]
    if side_by_side:
        tall = max(sum(e["better"] == b for e in side_by_side) for b in ("higher", "lower"))
        fig, axes = plt.subplots(2, 2, figsize=(15, 5 + 0.45 * tall),
                                 gridspec_kw={"height_ratios": [5, max(5, 0.45 * tall)]})
        (left, right), bottom = axes[0], axes[1]
    else:
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
            picked = [r for r in rows if r["system"] == system and r["workload"] == w
                      and r["unit"] == "msg/s"]
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
    if side_by_side:
        _bars(bottom[0], [e for e in side_by_side if e["better"] == "higher"], palette,
              "throughput, higher is better", "messages/s")
        _bars(bottom[1], [e for e in side_by_side if e["better"] == "lower"], palette,
              "latency and failover/join times, lower is better", "ms")
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


def _bars(ax: Any, entries: list[dict[str, Any]], palette: list[str], title: str,
          unit: str) -> None:
    """Horizontal grouped bars: per figure, each of our systems and the
    peer's best (its configuration in the label), ours / peer beside our bar."""
    systems = list(dict.fromkeys(s for e in entries for s in e["ours"]))
    peers = list(dict.fromkeys(e["peer"] for e in entries))
    sides = [("ours", s) for s in systems] + [("peer", p) for p in peers]
    height = 0.8 / max(len(sides), 1)
    labels = []
    for i, e in enumerate(entries):
        how = e["peer_config"] or "n/a"
        if e["peer_workload"] == LEADER_WINDOW:
            how += ", leader alone"
        labels.append(f"N={e['n']} {e['workload']} {e['figure']}\n{e['peer']}: {how}")
        for j, (side, name) in enumerate(sides):
            value = e["ours"].get(name) if side == "ours" else \
                (e["peer_value"] if e["peer"] == name else None)
            if value is None:
                continue
            y = i - 0.4 + height * (j + 0.5)
            ax.barh(y, value, height, color=palette[j % len(palette)],
                    label=f"ours {name}" if side == "ours" else f"{name} (best configuration)")
            ratio = e["ratio"].get(name) if side == "ours" else None
            if ratio is not None:
                ax.annotate(f" x{ratio:.2g}", (value, y), ha="left", va="center",
                            fontsize="x-small")
    handles, names = ax.get_legend_handles_labels()
    unique = dict(zip(names, handles))
    ax.set_yticks(range(len(entries)))
    ax.set_yticklabels(labels, fontsize="x-small")
    ax.invert_yaxis()
    ax.set(title=f"{title}\n(xR beside our bar: ours / peer)", xlabel=unit, xscale="log")
    ax.grid(True, axis="x", which="both", alpha=0.3)
    if unique:
        ax.legend(unique.values(), unique.keys(), fontsize="x-small")
