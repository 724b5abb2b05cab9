#!/usr/bin/env python3
"""Plots and report.html from a `carbonkube simulate --out DIR` folder.

Usage: .venv/bin/python scripts/report.py DIR

Reads DIR/results.json and the CSVs next to it, writes DIR/*.png (matplotlib,
Agg backend) and DIR/report.html. Every number shown comes from those files;
the top of the page prints the command that produced them.
"""
from __future__ import annotations

import csv
import html
import json
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def fmt(v, digits=1, pct=False):
    if v is None or v == "":
        return "–"
    v = float(v)
    return f"{v * 100:.{digits}f}" if pct else f"{v:.{digits}f}"


def plot_saved(policies, out: Path) -> None:
    names = [p["policy"] for p in policies]
    kg = [p["kg"] for p in policies]
    colors = ["#888" if p["policy"] == "baseline" else
              ("#2a7" if p["model"] == "perfect" else "#27a") for p in policies]
    fig, ax = plt.subplots(figsize=(9, 4))
    bars = ax.barh(names[::-1], kg[::-1], color=colors[::-1])
    for b, p in zip(bars, policies[::-1]):
        s = p.get("savingPercent")
        label = f"{b.get_width():.0f} kg" + (f"  (−{s:.1f}%)" if s else "")
        ax.text(b.get_width(), b.get_y() + b.get_height() / 2, " " + label, va="center", fontsize=8)
    ax.set_xlabel("kgCO2e of the jobs (lifecycle, attributed by request)")
    ax.set_title("Emissions per policy (green: perfect-knowledge oracle)")
    ax.set_xlim(0, max(kg) * 1.3)
    fig.tight_layout()
    fig.savefig(out, dpi=120)
    plt.close(fig)


def plot_intensity(res, intensity, starts, out: Path) -> None:
    zones = res["zones"]
    hours = np.array([int(r["hour"]) for r in intensity])
    # One week in spring, after the forecasters' warm-up.
    h0 = min(24 * 90, len(hours) - 24 * 7)
    sl = slice(h0, h0 + 24 * 7)
    fig, axes = plt.subplots(len(zones), 1, figsize=(10, 2.2 * len(zones)), sharex=True)
    axes = np.atleast_1d(axes)
    for ax, z in zip(axes, zones):
        y = np.array([float(r[z]) for r in intensity])
        ax.plot(hours[sl], y[sl], color="k", lw=1, label=f"{z} intensity")
        ax.set_ylabel("gCO2/kWh")
        ax2 = ax.twinx()
        for pol, color in (("baseline", "#888"), ("temporal", "#27a"),
                           ("temporal+placement", "#e72")):
            key = f"{pol}:{z}"
            if key in starts[0]:
                s = np.array([int(r[key]) for r in starts])
                ax2.step(hours[sl], s[sl], where="post", color=color, lw=0.8, alpha=0.8,
                         label=f"starts: {pol}")
        ax2.set_ylabel("job starts / h")
        ax.set_title(z, fontsize=9)
        if ax is axes[0]:
            l1, n1 = ax.get_legend_handles_labels()
            l2, n2 = ax2.get_legend_handles_labels()
            ax.legend(l1 + l2, n1 + n2, fontsize=7, loc="upper right")
    axes[-1].set_xlabel(f"hour of the year (from {res['start']})")
    fig.suptitle("Intensity and the start times each policy chose (one week)")
    fig.tight_layout()
    fig.savefig(out, dpi=120)
    plt.close(fig)


def plot_sweep(sweep, out: Path) -> None:
    fig, ax = plt.subplots(figsize=(7, 4))
    pols = sorted({r["policy"] for r in sweep} - {"baseline"})
    for pol in pols:
        rows = sorted((float(r["slack_hours"]), float(r["saving_percent"]))
                      for r in sweep if r["policy"] == pol)
        ax.plot([r[0] for r in rows], [r[1] for r in rows], marker="o",
                ls="--" if pol.endswith("oracle") else "-", label=pol)
    ax.set_xlabel("slack (hours a job may wait)")
    ax.set_ylabel("% saved vs baseline")
    ax.set_title("Savings vs slack")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out, dpi=120)
    plt.close(fig)


def plot_zones(res, zones_rows, out: Path) -> None:
    pols = [p["policy"] for p in res["policies"]]
    zones = res["zones"]
    kg = {(r["policy"], r["zone"]): float(r["kg"]) for r in zones_rows}
    fig, ax = plt.subplots(figsize=(9, 4))
    left = np.zeros(len(pols))
    for z in zones:
        v = np.array([kg.get((p, z), 0.0) for p in pols])
        ax.barh(pols[::-1], v[::-1], left=left[::-1], label=z)
        left += v
    ax.set_xlabel("kgCO2e of the jobs")
    ax.set_title("Per-zone breakdown")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out, dpi=120)
    plt.close(fig)


def plot_months(res, months_rows, out: Path) -> None:
    fig, ax = plt.subplots(figsize=(9, 4))
    for p in res["policies"]:
        rows = [r for r in months_rows if r["policy"] == p["policy"]]
        x = [f"{r['year']}-{int(r['month']):02d}" for r in rows]
        ax.plot(x, [float(r["kg"]) for r in rows], marker=".",
                ls="--" if p["model"] == "perfect" else "-", label=p["policy"])
    ax.set_ylabel("kgCO2e (jobs started that month)")
    ax.set_title("Per month")
    ax.tick_params(axis="x", rotation=45, labelsize=7)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(out, dpi=120)
    plt.close(fig)


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    d = Path(argv[1])
    res_path = d / "results.json"
    if not res_path.exists():
        print(f"report.py: {res_path} not found: run `carbonkube simulate --out {d}` first",
              file=sys.stderr)
        return 2
    res = json.loads(res_path.read_text(encoding="utf-8"))
    policies = res["policies"]
    intensity = read_csv(d / "intensity.csv")
    starts = read_csv(d / "starts.csv")
    sweep = read_csv(d / "sweep.csv")
    zones_rows = read_csv(d / "zones.csv")
    months_rows = read_csv(d / "months.csv")

    plot_saved(policies, d / "saved.png")
    plot_intensity(res, intensity, starts, d / "intensity_starts.png")
    if sweep:
        plot_sweep(sweep, d / "savings_vs_slack.png")
    plot_zones(res, zones_rows, d / "zones.png")
    plot_months(res, months_rows, d / "months.png")

    e = html.escape
    rows = []
    for p in policies:
        rows.append(
            "<tr>" + "".join(f"<td>{c}</td>" for c in [
                e(p["policy"]), fmt(p["kg"]), fmt(p["savingPercent"]),
                fmt(p["oracleFraction"], 2), p["deadlineMisses"], fmt(p["meanWaitHours"], 2),
                fmt(p["p95WaitHours"], 2), fmt(p["utilisation"], 1, pct=True),
                fmt(p["energyKwh"]), fmt(p["idleKg"])]) + "</tr>")
    zone_rows = []
    for p in policies:
        for z in p["zones"]:
            zone_rows.append(
                f"<tr><td>{e(p['policy'])}</td><td>{e(z['zone'])}</td><td>{z['jobs']}</td>"
                f"<td>{fmt(z['kg'])}</td><td>{fmt(z['energyKwh'])}</td>"
                f"<td>{fmt(z['utilisation'], 1, pct=True)}</td></tr>")
    imgs = [("saved.png", "Carbon per policy"),
            ("intensity_starts.png", "Intensity over time with the chosen start times"),
            ("savings_vs_slack.png", "Savings vs slack"),
            ("zones.png", "Per-zone breakdown"),
            ("months.png", "Per month")]
    img_html = "\n".join(
        f'<h2>{e(t)}</h2><img src="{f}" alt="{e(t)}" style="max-width:100%">'
        for f, t in imgs if (d / f).exists())
    page = f"""<!doctype html>
<html><head><meta charset="utf-8"><title>carbonkube simulation report</title>
<style>body{{font-family:sans-serif;max-width:1100px;margin:2em auto}}
table{{border-collapse:collapse}}td,th{{border:1px solid #ccc;padding:3px 8px;text-align:right}}
td:first-child{{text-align:left}}code{{background:#f4f4f4;padding:2px 4px}}</style></head><body>
<h1>carbonkube simulation report</h1>
<p>Reproduce every number on this page (from the repository root, after building):</p>
<pre><code>{e(res['command'])}
.venv/bin/python scripts/report.py {e(str(d))}</code></pre>
<p>Trace: {e(str(res['trace']))}; zones: {e(', '.join(res['zones']))}
({e(res['scope'])} intensity); {res['nodesPerZone']} nodes × {res['vcpusPerNode']:g} vCPUs per zone,
PUE {res['pue']:g}; slack {res['slackHours']:g} h; forecast model {e(res['model'])}, issued every
{res['forecastEveryHours']} h from {e(res['firstForecast'])} (jobs arriving earlier run at arrival);
data from {e(res['start'])}, {res['hours']} hours. Hourly resolution: a job holds its node for
every hour it touches; its energy and emissions use its exact run time.</p>
<h2>Summary</h2>
<table><tr><th>policy</th><th>kgCO2e</th><th>% saved</th><th>of oracle's saving</th>
<th>deadline misses</th><th>mean wait h</th><th>p95 wait h</th><th>utilisation %</th>
<th>job energy kWh</th><th>idle kgCO2e</th></tr>
{''.join(rows)}</table>
{img_html}
<h2>Per zone</h2>
<table><tr><th>policy</th><th>zone</th><th>jobs</th><th>kgCO2e</th><th>kWh</th>
<th>utilisation %</th></tr>{''.join(zone_rows)}</table>
<p>Carbon intensity data: Electricity Maps (electricitymaps.com), ODbL. Workload trace: GAIA
(UMass LASS), derived from the Azure public dataset, MIT licence.</p>
</body></html>
"""
    (d / "report.html").write_text(page, encoding="utf-8")
    print(f"wrote {d / 'report.html'} and {len([1 for f, _ in imgs if (d / f).exists()])} plots")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
