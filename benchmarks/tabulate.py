#!/usr/bin/python3
"""Turns the loadgen's figure lines into benchmarks/results/latest.md and
PNG plots (through gnuplot).

    tabulate.py FIGURES MACHINE_FILE NOTES_FILE OUT_DIR

FIGURES holds `figure=... value=... unit=... server=... [n=...]` lines
from both servers; MACHINE_FILE and NOTES_FILE are free text that is
copied in. A figure is keyed by its name and its `n`, so the same
workload at the same size is compared across servers.
"""
import subprocess
import sys
from pathlib import Path

BATCHCAST = "batchcast"
PEER = "channels"

# Figures where more is better; every other figure is better smaller.
HIGHER_IS_BETTER = ("_rate", "idle_connections", "_delivered")

# (description, figure, n, test on the batchcast value, or on the ratio)
TARGETS = [
    ("15,000 concurrent connections on one process", "idle_connections",
     "15000", lambda v, r: v >= 15000),
    ("idle footprint under 8 KiB per connection", "idle_bytes_per_conn",
     "10000", lambda v, r: v < 8192),
    ("idle CPU under 5% of a core with 10,000 watchers", "idle_cpu",
     "10000", lambda v, r: v < 5),
    ("p99 fan-out under 100 ms at 10,000 watchers", "fanout_delivery_p99",
     "10000", lambda v, r: v < 100),
    ("cold handshake throughput >= 20x the peer", "handshake_rate_cold",
     None, lambda v, r: r is not None and r >= 20),
    ("warm handshake throughput >= 20x the peer", "handshake_rate_warm",
     None, lambda v, r: r is not None and r >= 20),
    ("publish throughput >= 20x the peer", "storm_publish_rate", None,
     lambda v, r: r is not None and r >= 20),
    ("footprint >= 10x smaller than the peer", "idle_bytes_per_conn",
     "10000", lambda v, r: r is not None and r >= 10),
]


def parse(path):
    """{(figure, n): {server: (value, unit)}}, in first-seen order."""
    table = {}
    for line in Path(path).read_text().splitlines():
        fields = dict(p.split("=", 1) for p in line.split() if "=" in p)
        if "figure" not in fields or "value" not in fields:
            continue
        key = (fields["figure"], fields.get("n"))
        table.setdefault(key, {})[fields.get("server", "?")] = (
            float(fields["value"]), fields.get("unit", ""))
    return table


def better_ratio(figure, ours, theirs):
    """How many times better batchcast is (>1 means better)."""
    if ours is None or theirs is None:
        return None
    if any(mark in figure for mark in HIGHER_IS_BETTER):
        return ours / theirs if theirs > 0 else None
    return theirs / ours if ours > 0 else None


def number(value):
    if value is None:
        return "–"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.3g}"


def value_of(row, server):
    return row[server][0] if server in row else None


def table_lines(table):
    lines = [
        "| figure | n | unit | batchcast | channels peer | ratio |",
        "|---|---|---|---:|---:|---:|",
    ]
    for (figure, n), row in table.items():
        unit = next(iter(row.values()))[1]
        ours, theirs = value_of(row, BATCHCAST), value_of(row, PEER)
        ratio = better_ratio(figure, ours, theirs)
        lines.append(
            f"| {figure} | {n or ''} | {unit} | {number(ours)} | "
            f"{number(theirs)} | "
            f"{'' if ratio is None else f'{ratio:.1f}x'} |")
    return lines


def find_row(table, figure, n):
    """The row of `figure` at size `n`; any size when `n` is None."""
    if n is not None:
        return table.get((figure, n), {}), n
    for (name, size), row in table.items():
        if name == figure:
            return row, size
    return {}, None


def target_lines(table):
    lines = ["| target | figure | batchcast | ratio | met |",
             "|---|---|---:|---:|---|"]
    for description, figure, n, test in TARGETS:
        row, n = find_row(table, figure, n)
        ours, theirs = value_of(row, BATCHCAST), value_of(row, PEER)
        ratio = better_ratio(figure, ours, theirs)
        met = "not measured" if ours is None else (
            "yes" if test(ours, ratio) else "no")
        lines.append(
            f"| {description} | {figure}{f' n={n}' if n else ''} | "
            f"{number(ours)} | "
            f"{'–' if ratio is None else f'{ratio:.1f}x'} | {met} |")
    return lines


def cluster_lines(table):
    """The cluster fan-out (benchmarks/cluster_scenario) beside the
    single-node fan-out of the same size: what spreading the watchers over
    three nodes costs."""
    sizes = [n for (figure, n) in table
             if figure == "cluster_fanout_delivery_p99" and n]
    if not sizes:
        return []
    lines = [
        "| watchers | delivered | cluster p50 | cluster p99 | "
        "single-node p50 | single-node p99 | p99 cost |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for n in sorted(sizes, key=int):
        def ours(figure):
            return value_of(table.get((figure, n), {}), BATCHCAST)
        cluster_p99 = ours("cluster_fanout_delivery_p99")
        single_p99 = ours("fanout_delivery_p99")
        cost = (f"{cluster_p99 / single_p99:.2f}x"
                if cluster_p99 and single_p99 else "–")
        lines.append(
            f"| {int(n):,} | {number(ours('cluster_fanout_delivered'))} | "
            f"{number(ours('cluster_fanout_delivery_p50'))} | "
            f"{number(cluster_p99)} | "
            f"{number(ours('fanout_delivery_p50'))} | {number(single_p99)} | "
            f"{cost} |")
    return lines


def plot_fanout(table, out_dir):
    """fanout_latency.png: p50 and p99 of delivery against watchers."""
    series = {}
    kinds = (("fanout_delivery_", ""), ("cluster_fanout_delivery_", " cluster"))
    for (figure, n), row in table.items():
        for prefix, label in kinds:
            if n is None or not figure.startswith(prefix):
                continue
            for server, (value, _) in row.items():
                series.setdefault((server + label, figure[len(prefix):]),
                                  []).append((int(n), value))
    if not series:
        return None
    data_files = []
    for (server, stat), points in sorted(series.items()):
        if stat == "max":
            continue
        path = out_dir / f"fanout_{server.replace(' ', '_')}_{stat}.dat.tmp"
        path.write_text("".join(f"{n} {v}\n" for n, v in sorted(points)))
        data_files.append((path, f"{server} {stat}"))
    png = out_dir / "fanout_latency.png"
    plots = ", ".join(
        f"'{path}' using 1:2 with linespoints title '{title}'"
        for path, title in data_files)
    script = "\n".join([
        "set terminal pngcairo size 900,560",
        f"set output '{png}'",
        "set title 'Fan-out: publish request to message, one batch'",
        "set xlabel 'watchers on the batch'",
        "set ylabel 'latency (ms)'",
        "set logscale y",
        "set grid",
        "set key top left",
        f"plot {plots}",
    ])
    subprocess.run(["gnuplot"], input=script, text=True, check=True,
                   timeout=60)
    for path, _ in data_files:
        path.unlink()
    return png.name


def main():
    figures, machine, notes, out_dir = sys.argv[1:5]
    out_dir = Path(out_dir)
    table = parse(figures)
    plot = plot_fanout(table, out_dir)
    text = [
        "# batchcast against the Django Channels original",
        "",
        "Written by `benchmarks/run`; both servers ran on this machine, one",
        "after the other per scenario, driven by `benchmarks/loadgen` over",
        "loopback. *ratio* is how many times better batchcast is (higher",
        "throughput, or lower latency, memory or CPU); the peer's memory and",
        "CPU are Daphne's plus its Redis's.",
        "",
        "## Machine",
        "",
        "```",
        Path(machine).read_text().rstrip(),
        "```",
        "",
        "## Targets",
        "",
        *target_lines(table),
        "",
        "## Figures",
        "",
        *table_lines(table),
        "",
    ]
    cluster = cluster_lines(table)
    if cluster:
        text += ["## Fan-out across a three-node cluster", "",
                 "Watchers spread evenly over three nodes on this machine, "
                 "one publish on the first node; latency in ms from the "
                 "publish request to each message. *p99 cost* is the "
                 "cluster's p99 over the single-node p99 at the same size.",
                 "", *cluster, ""]
    if plot:
        text += ["## Fan-out latency against watchers", "",
                 f"![fan-out latency]({plot})", ""]
    notes_text = Path(notes).read_text().strip()
    if notes_text:
        text += ["## Notes", "", notes_text, ""]
    (out_dir / "latest.md").write_text("\n".join(text))


if __name__ == "__main__":
    main()
