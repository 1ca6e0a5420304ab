"""Charts of port activity over time (matplotlib, Agg backend: no display, no Qt).

One figure, two panels sharing the time axis, drawn to be read at a glance:

* top: ships per date as stacked bars, one colour per pier (the busiest piers
  named, the rest grouped as "other piers", ships at no pier in grey), with the
  total written above each bar;
* bottom: TEU in the yards as a line with markers (values written beside the
  points) and, when yards were measured, the mean yard occupancy (%) on a
  second axis as a dashed line.

Dates are placed on a true time axis, so irregular revisits (two images a week
apart, then a gap of two months) look irregular.
"""

from __future__ import annotations

import datetime as dt
import os
from typing import Dict, List, Optional, Sequence

__all__ = ["activity_chart", "chart_from_rows"]

NO_PIER = "(no pier)"
PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf",
           "#bcbd22", "#7f7f7f")


def _pyplot():
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def _pier_order(ships_by_pier: Sequence[Dict[str, int]], max_piers: int) -> List[str]:
    totals: Dict[str, int] = {}
    for d in ships_by_pier:
        for k, v in d.items():
            if k != NO_PIER:
                totals[k] = totals.get(k, 0) + int(v or 0)
    ranked = sorted((k for k in totals if totals[k] > 0), key=lambda k: (-totals[k], k))
    return ranked[:max_piers]


def activity_chart(dates: Sequence[dt.date], ships_by_pier: Sequence[Dict[str, int]],
                   teu: Optional[Sequence[Optional[float]]] = None,
                   occupancy: Optional[Sequence[Optional[float]]] = None, png_path: str = "activity.png",
                   svg_path: Optional[str] = None, title: str = "Port activity", max_piers: int = 8,
                   ships_total: Optional[Sequence[int]] = None) -> List[str]:
    """Draw ships per pier and TEU over time; write a PNG (and an SVG). Returns the paths written.

    ``ships_by_pier[i]`` maps pier names (or ``'(no pier)'``) to ship counts on
    ``dates[i]``; ``teu[i]`` and ``occupancy[i]`` (mean yard occupancy, %) may be
    None where unknown. ``ships_total`` overrides the totals written above bars."""
    if not dates:
        raise ValueError("no dates to chart")
    plt = _pyplot()
    from matplotlib import dates as mdates
    from matplotlib.ticker import MaxNLocator

    n = len(dates)
    xs = [dt.datetime(d.year, d.month, d.day) for d in dates]
    piers = _pier_order(ships_by_pier, max_piers)
    named = set(piers)
    others = [sum(int(v or 0) for k, v in d.items() if k not in named and k != NO_PIER) for d in ships_by_pier]
    nopier = [int(d.get(NO_PIER, 0) or 0) for d in ships_by_pier]
    has_teu = teu is not None and any(t is not None for t in teu)
    fig, axes = plt.subplots(2 if has_teu else 1, 1, figsize=(9.0, 6.2 if has_teu else 3.6), sharex=True,
                             gridspec_kw={"height_ratios": [1.25, 1]} if has_teu else None, dpi=100)
    ax = axes[0] if has_teu else axes
    if n > 1:
        span_days = max((xs[-1] - xs[0]).days, 1)
        gaps = [(b - a).days for a, b in zip(xs[:-1], xs[1:]) if (b - a).days > 0]
        width = max(0.6, min(min(gaps) * 0.7 if gaps else span_days * 0.05, span_days * 0.08))
    else:
        width = 5.0
    bottom = [0] * n
    series = [(p, [int(d.get(p, 0) or 0) for d in ships_by_pier], PALETTE[i % len(PALETTE)])
              for i, p in enumerate(piers)]
    if any(others):
        series.append(("other piers", others, "#c7c7c7"))
    if any(nopier):
        series.append(("not at a pier", nopier, "#e8e8e8"))
    for label, vals, colour in series:
        ax.bar(xs, vals, width=width, bottom=bottom, color=colour, edgecolor="white", linewidth=0.6, label=label)
        bottom = [b + v for b, v in zip(bottom, vals)]
    totals = list(ships_total) if ships_total is not None else bottom
    top = max(max(totals), 1)
    for x, t in zip(xs, totals):
        ax.text(x, t + top * 0.02, str(int(t)), ha="center", va="bottom", fontsize=10, fontweight="bold")
    ax.set_ylim(0, top * 1.18 + 0.5)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylabel("ships")
    ax.set_title(title, loc="left", fontsize=13, fontweight="bold")
    ax.grid(axis="y", color="#dddddd", linewidth=0.6)
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    if series:
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False, title="at pier",
                  title_fontsize=8)
    if has_teu:
        bx = axes[1]
        tx = [x for x, t in zip(xs, teu) if t is not None]
        tv = [float(t) for t in teu if t is not None]
        bx.plot(tx, tv, color="#08519c", marker="o", linewidth=2.2, markersize=6, label="TEU (top boxes × tiers)")
        bx.fill_between(tx, tv, color="#6baed6", alpha=0.18)
        tmax = max(tv) if tv else 1.0
        for x, v in zip(tx, tv):
            bx.annotate(f"{v:,.0f}", (x, v), textcoords="offset points", xytext=(0, 7), ha="center", fontsize=9,
                        color="#08519c")
        bx.set_ylim(0, tmax * 1.25 + 1)
        bx.set_ylabel("TEU in the yards")
        bx.grid(axis="y", color="#dddddd", linewidth=0.6)
        bx.set_axisbelow(True)
        bx.spines["top"].set_visible(False)
        handles, labels = bx.get_legend_handles_labels()
        if occupancy is not None and any(o is not None for o in occupancy):
            cx = bx.twinx()
            ox = [x for x, o in zip(xs, occupancy) if o is not None]
            ov = [float(o) for o in occupancy if o is not None]
            cx.plot(ox, ov, color="#e6550d", linestyle="--", marker="s", markersize=4, linewidth=1.4,
                    label="yard occupancy (%)")
            cx.set_ylim(0, max(100.0, max(ov) * 1.1))
            cx.set_ylabel("occupancy (%)", color="#e6550d")
            cx.tick_params(axis="y", colors="#e6550d")
            cx.spines["top"].set_visible(False)
            h2, l2 = cx.get_legend_handles_labels()
            handles, labels = handles + h2, labels + l2
        bx.legend(handles, labels, loc="upper left", bbox_to_anchor=(1.07, 1.0), fontsize=8, frameon=False)
        last = bx
    else:
        last = ax
    last.xaxis.set_major_formatter(mdates.DateFormatter("%d %b\n%Y"))
    if n <= 12:
        last.set_xticks(xs)
    if n > 1:
        pad = max((xs[-1] - xs[0]).days * 0.06, width)
        last.set_xlim(xs[0] - dt.timedelta(days=pad), xs[-1] + dt.timedelta(days=pad))
    else:
        last.set_xlim(xs[0] - dt.timedelta(days=10), xs[0] + dt.timedelta(days=10))
    fig.tight_layout()
    written = []
    for path in (png_path, svg_path):
        if path:
            d = os.path.dirname(os.path.abspath(path))
            os.makedirs(d, exist_ok=True)
            fig.savefig(path, dpi=150 if path.lower().endswith(".png") else None, bbox_inches="tight")
            written.append(path)
    plt.close(fig)
    return written


def chart_from_rows(rows, png_path: str, svg_path: Optional[str] = None, title: str = "Port activity",
                    max_piers: int = 8) -> List[str]:
    """:func:`activity_chart` for a list of :class:`quayside.core.timeseries.SeriesRow`."""
    rows = sorted(rows, key=lambda r: r.acquired)
    occ = []
    for r in rows:
        vals = [v for v in r.occupancy_by_yard.values() if v is not None]
        occ.append(sum(vals) / len(vals) if vals else None)
    return activity_chart([r.acquired for r in rows], [r.ships_by_pier for r in rows], [r.teu for r in rows],
                          occ, png_path, svg_path, title=title, max_piers=max_piers,
                          ships_total=[r.ships for r in rows])
