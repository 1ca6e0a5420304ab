"""Benchmark: the cost of detect_changes' vessel check (:mod:`quayside.core.change_vessels`),
on the demo's pair, with the check off and on, in one run.

The pair is the one scripts/demo.py makes (core/synth.make_port_pair, 3000 x 3000 px at
0.5 m, seed 2016, NIR band, uint8, dates 2016-05-14 and 2016-09-20), cached in
bench/out/change_vessels_<size>_<gsd>/ (made on first use). detect_changes runs in a child
process once with ``vessel_check=False`` and once with ``vessel_check=True``; each child's wall
time, the time inside the vessel check (drop_vessel_traffic, timed in the child) and its
peak memory (max RSS, from /usr/bin/time, or getrusage(RUSAGE_CHILDREN) without it) are
printed, with the ratio on / off and the footprints of both runs.

usage: python bench/bench_change_vessels.py [--size 3000] [--gsd 0.5] [--seed 2016]
                                            [--only on|off] [--profile FILE]
"""

import argparse
import json
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from _paths import import_quayside  # noqa: E402
from bench_change import run_child  # noqa: E402

CHILD = r"""
import json, sys, time
sys.path.insert(0, {here!r})
from _paths import import_quayside
import_quayside()
from quayside.core import change
spent = [0.0]
_drop = change.drop_vessel_traffic
def timed(*a, **k):
    t = time.time()
    try:
        return _drop(*a, **k)
    finally:
        spent[0] += time.time() - t
change.drop_vessel_traffic = timed
prof = None
if {profile!r}:
    import cProfile
    prof = cProfile.Profile()
    prof.enable()
t = time.time()
r = change.detect_changes({before!r}, {after!r}, workdir={wd!r}, vessel_check={on!r})
wall = time.time() - t
if prof is not None:
    prof.disable()
    prof.dump_stats({profile!r})
print("RESULT " + json.dumps({{"seconds": wall, "vessel_s": spent[0], "count": r.count,
      "new_m2": r.total_new_m2, "footprints": sorted([c.type, round(c.area_m2, 1), round(c.polygon.centroid.x, 1),
      round(c.polygon.centroid.y, 1)] for c in r.changes),
      "notes": [n for n in r.notes if "vessel" in n]}}))
"""


def prepare(size, gsd, seed):
    import_quayside()
    from quayside.core import synth

    d = os.path.join(HERE, "out", f"change_vessels_{size}_{gsd:g}_{seed}")
    if not os.path.exists(os.path.join(d, "after.tif")):
        t = time.time()
        print(f"making the demo pair ({size} x {size} px at {gsd} m, seed {seed}) in {d} ...", flush=True)
        spec = synth.SceneSpec(width=size, height=size, gsd=gsd, seed=seed, nir=True, dtype="uint8")
        synth.make_port_pair(d, spec, dates=("2016-05-14", "2016-09-20"))
        print(f"  made in {time.time() - t:.0f} s", flush=True)
    return os.path.join(d, "before.tif"), os.path.join(d, "after.tif"), d


def run(before, after, wd, on, profile=None):
    code = CHILD.format(here=HERE, before=before, after=after, wd=wd, on=on, profile=profile)
    wall, peak, p = run_child([sys.executable, "-c", code])
    res = None
    for line in p.stdout.splitlines():
        if line.startswith("RESULT "):
            res = json.loads(line[7:])
    if res is None:
        print(p.stdout[-2000:], p.stderr[-3000:])
        raise SystemExit(f"the child with the vessel check {'on' if on else 'off'} failed")
    res["wall"], res["peak_mb"] = wall, peak
    return res


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=int, default=3000)
    ap.add_argument("--gsd", type=float, default=0.5)
    ap.add_argument("--seed", type=int, default=2016)
    ap.add_argument("--only", choices=("on", "off"), help="run one of the two (e.g. for --profile)")
    ap.add_argument("--profile", help="write the cProfile stats of the run(s) to FILE(_on|_off)")
    ap.add_argument("--json", help="write both runs' results to this JSON file")
    a = ap.parse_args()
    before, after, d = prepare(a.size, a.gsd, a.seed)
    wd = os.path.join(d, "work")
    os.makedirs(wd, exist_ok=True)
    out = {}
    for on in (False, True):
        tag = "on" if on else "off"
        if a.only and a.only != tag:
            continue
        r = run(before, after, wd, on, f"{a.profile}_{tag}" if a.profile else None)
        out[tag] = r
        print(f"vessel check {tag:3s}: detect_changes {r['seconds']:.1f} s (child {r['wall']:.1f} s), of which "
              f"vessel check {r['vessel_s']:.1f} s; peak RSS {r['peak_mb']:.0f} MB; {r['count']} footprints, "
              f"{r['new_m2']:.0f} m2 new", flush=True)
        for n in r["notes"]:
            print("   ", n)
    if "on" in out and "off" in out:
        on, off = out["on"], out["off"]
        print(f"ratio on / off = {on['seconds'] / off['seconds']:.2f} "
              f"(+{100 * (on['seconds'] / off['seconds'] - 1):.0f} %); peak RSS on / off = "
              f"{on['peak_mb'] / off['peak_mb']:.2f}")
        dropped = len(off["footprints"]) - len(on["footprints"])
        print(f"footprints left out as vessel traffic: {dropped}")
    if a.json:
        with open(a.json, "w") as fh:
            json.dump(out, fh, indent=1)


if __name__ == "__main__":
    main()
