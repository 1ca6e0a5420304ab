"""Evaluate quayside.core.change.detect_changes against the issue's bars.

1. Synthetic pairs (core/synth.make_port_pair, truth changes.geojson): DEFAULT_AFTER
   conditions and variants of sun, haze, noise and shift (0.5-3 px), several seeds,
   at 1 m and 0.5 m. Prints, per pair and overall: buildings (new/removed >= 200 m2)
   found, area error of footprints >= 1000 m2, the drained pond's type, false
   footprints per km2 (a predicted polygon that overlaps no truth change; the
   container-yard changes in changes.geojson are real change).
2. LEVIR-CD samples (../shared/data/change/levir_0p5m) and DSIFN-CD samples
   (../shared/data/change/dsifn_2m_nominal), scored with
   ../shared/eval/score_change.py (run as a subprocess). LEVIR labels mark buildings
   only, so it is scored with --where "type IN ('new_structure','removed_structure')"
   (and also without, for reference); DSIFN labels mark all urban change: scored on
   every footprint.

usage: python bench/eval_change.py [--quick] [--no-synth] [--no-real] [--pictures]
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _paths import SHARED, import_quayside  # noqa: E402

quayside = import_quayside()
from quayside.core import synth  # noqa: E402
from quayside.core.change import detect_changes  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "out", "eval_change")
WHERE = "type IN ('new_structure','removed_structure')"
# LEVIR-CD's buildings are detached houses of 100-250 m2: the analyst's MIN_AREA for such a suburb
LEVIR_MIN_AREA = 50.0


def variants(quick):
    d = synth.DEFAULT_AFTER
    v = [("default", d),
         ("sun_low_haze", synth.Conditions(sun_azimuth=205.0, sun_elevation=28.0, gain=0.92, offset=0.02, haze=0.15,
                                           shift_px=(0.5, -0.5), noise=0.015, blur_px=0.6)),
         ("shift3_noise", synth.Conditions(sun_azimuth=120.0, sun_elevation=55.0, gain=1.15, offset=-0.01, haze=0.0,
                                           shift_px=(-2.2, 2.1), noise=0.02, blur_px=0.8))]
    seeds = [3, 11] if quick else [3, 11, 29]
    specs = [(1.0, 1024)] + ([] if quick else [(0.5, 2048)])
    return [(name, c, s, gsd, size) for gsd, size in specs for s in seeds for name, c in v]


def score_synth(res, truth_path, extent_km2):
    from shapely.geometry import shape

    with open(truth_path) as fh:
        truth = [(shape(f["geometry"]).buffer(0), f["properties"]) for f in json.load(fh)["features"]]
    preds = res.changes
    buildings = [(g, p) for g, p in truth if p["type"] in ("new_structure", "removed_structure")
                 and p["area_m2"] >= 200]
    found, typed, area_ok, area_n, lines = 0, 0, 0, 0, []
    for g, p in buildings:
        hits = [c for c in preds if c.polygon.intersects(g)]
        cover = sum(c.polygon.intersection(g).area for c in hits) / g.area
        ok = cover >= 0.3
        found += ok
        # type: the footprint covering most of it (water_change: the pier extension is also water_to_land)
        best = max(hits, key=lambda c: c.polygon.intersection(g).area) if hits else None
        ok_type = best is not None and best.type in (p["type"], p.get("water_change"))
        typed += ok_type
        msg = f"   {p['description'][:40]:40s} {p['area_m2']:8.0f} m2 cover {cover:4.2f}"
        if best is not None:
            msg += f" type {best.type}"
        if p["area_m2"] >= 1000:
            area_n += 1
            # predicted area: the footprints of the truth's type over it (a pier extension may be typed
            # water_to_land), each counted whole (a footprint that also covers unrelated ground counts whole)
            pa = sum(c.area_m2 for c in hits if c.type in (p["type"], p.get("water_change"))
                     and c.polygon.intersection(g).area > 0.2 * c.polygon.area)
            signed = (pa - p["area_m2"]) / p["area_m2"]
            area_ok += abs(signed) <= 0.10
            msg += f" area {pa:8.0f} ({100 * signed:+.0f} %)"
        lines.append(msg)
    pond = [(g, p) for g, p in truth if p["type"] == "water_to_land" and "pond" in p["description"]]
    pond_ok = None
    for g, _ in pond:
        hits = [c for c in preds if c.polygon.intersects(g)]
        best = max(hits, key=lambda c: c.polygon.intersection(g).area) if hits else None
        pond_ok = best is not None and best.type == "water_to_land"
    union_truth = [g for g, _ in truth]
    false = [c for c in preds if not any(c.polygon.intersects(g) for g in union_truth)]
    return dict(buildings=len(buildings), found=found, typed=typed, area_ok=area_ok, area_n=area_n,
                pond_ok=pond_ok, false=len(false), false_per_km2=len(false) / extent_km2, lines=lines,
                false_list=[(c.type, round(c.area_m2)) for c in false])


def run_synth(quick):
    print("== synthetic pairs ==")
    tot = dict(buildings=0, found=0, typed=0, area_ok=0, area_n=0, pond=0, pond_ok=0, false=0, km2=0.0)
    t_all = 0.0
    for name, cond, seed, gsd, size in variants(quick):
        d = os.path.join(OUT, f"synth_{gsd}_{size}_{seed}_{name}")
        spec = synth.SceneSpec(width=size, height=size, gsd=gsd, seed=seed)
        if not os.path.exists(os.path.join(d, "after.tif")):
            synth.make_port_pair(d, spec, after=cond)
        t0 = time.time()
        res = detect_changes(os.path.join(d, "before.tif"), os.path.join(d, "after.tif"), workdir=None)
        dt = time.time() - t0
        t_all += dt
        km2 = size * size * gsd * gsd / 1e6
        s = score_synth(res, os.path.join(d, "changes.geojson"), km2)
        print(f"{name:14s} seed {seed:2d} {gsd} m {size} px: buildings {s['found']}/{s['buildings']} "
              f"typed {s['typed']}; area<=10% {s['area_ok']}/{s['area_n']}; pond water_to_land {s['pond_ok']}; "
              f"false {s['false']} ({s['false_per_km2']:.1f}/km2); shift {res.shift.dx_px:+.2f},{res.shift.dy_px:+.2f}"
              f" px; {dt:.1f} s")
        for ln in s["lines"]:
            print(ln)
        if s["false_list"]:
            print("   false:", s["false_list"])
        for k in ("buildings", "found", "typed", "area_ok", "area_n", "false"):
            tot[k] += s[k]
        if s["pond_ok"] is not None:
            tot["pond"] += 1
            tot["pond_ok"] += bool(s["pond_ok"])
        tot["km2"] += km2
    print(f"SYNTH buildings found {tot['found']}/{tot['buildings']} (typed right {tot['typed']}); "
          f"area within 10 % {tot['area_ok']}/{tot['area_n']}; pond water_to_land {tot['pond_ok']}/{tot['pond']}; "
          f"false footprints {tot['false']} over {tot['km2']:.1f} km2 = {tot['false'] / tot['km2']:.2f}/km2; "
          f"detect time {t_all:.0f} s")


def run_real(name, sub, where_list, min_area=200.0):
    base = os.path.join(SHARED, "data", "change", sub)
    scorer = os.path.join(SHARED, "eval", "score_change.py")
    if not os.path.isdir(base) or not os.path.exists(scorer):
        print(f"== {name}: {base} or {scorer} absent, skipped ==")
        return
    print(f"== {name} ({base}), MIN_AREA {min_area:g} m2 ==")
    out = os.path.join(OUT, sub)
    os.makedirs(out, exist_ok=True)
    pairs = sorted(f[:-len("_before.tif")] for f in os.listdir(base) if f.endswith("_before.tif"))
    args = []
    for p in pairs:
        res = detect_changes(os.path.join(base, p + "_before.tif"), os.path.join(base, p + "_after.tif"),
                             min_area_m2=min_area)
        gj = os.path.join(out, p + ".geojson")
        _write_geojson(res, gj, base_crs(os.path.join(base, p + "_before.tif")))
        counts = {}
        for c in res.changes:
            counts[c.type] = counts.get(c.type, 0) + 1
        print(f"  {p}: {res.count} footprints {counts}")
        args.append(f"{os.path.join(base, p + '_change.tif')}={gj}")
    for where in where_list:
        cmd = [sys.executable, scorer] + args + (["--where", where] if where else [])
        print(f"-- score_change.py {'--where ' + repr(where) if where else '(all footprints)'}")
        r = subprocess.run(cmd, capture_output=True, text=True, cwd=os.path.dirname(scorer))
        print(r.stdout.rstrip())
        if r.returncode:
            print(r.stderr.rstrip())


def base_crs(path):
    import rasterio

    with rasterio.open(path) as s:
        return s.crs


def _write_geojson(res, path, crs):
    from shapely.geometry import mapping

    feats = [{"type": "Feature", "geometry": mapping(c.polygon),
              "properties": {"type": c.type, "area_m2": c.area_m2, "score": c.score}} for c in res.changes]
    fc = {"type": "FeatureCollection", "features": feats}
    if crs is not None:
        fc["crs"] = {"type": "name", "properties": {"name": crs.to_string()}}
    with open(path, "w") as fh:
        json.dump(fc, fh)


COLOURS = {"new_structure": (230, 30, 30), "removed_structure": (220, 0, 220), "water_to_land": (0, 200, 0),
           "land_to_water": (0, 220, 230), "other_surface": (240, 220, 0)}
DOCS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "docs", "change")


def _rgb8(path):
    import numpy as np
    import rasterio

    with rasterio.open(path) as src:
        a = src.read([1, 2, 3]).astype("float32")
        tf = src.transform
    lo, hi = np.percentile(a, [1, 99])
    return (np.clip((a - lo) / max(hi - lo, 1e-6), 0, 1).transpose(1, 2, 0) * 255).astype("uint8"), tf


def _draw(img, tf, changes, width=2):
    from PIL import Image, ImageDraw

    im = Image.fromarray(img)
    dr = ImageDraw.Draw(im)
    inv = ~tf
    for c in changes:
        for g in getattr(c.polygon, "geoms", [c.polygon]):
            dr.line([inv * xy for xy in g.exterior.coords], fill=COLOURS[c.type], width=width)
    return im


def pictures(levir_pairs=("test_2_0000_0000", "test_7_0256_0512", "train_36_0512_0512", "test_102_0512_0000",
                          "train_386_0512_0768")):
    """docs/change/levir_<pair>.png (before | after | truth | prediction) and docs/change/synthetic.png
    (footprints coloured by type over the after image of a synthetic pair, truth outlined in white)."""
    import numpy as np
    import rasterio
    from PIL import Image, ImageDraw
    from shapely.geometry import shape

    os.makedirs(DOCS, exist_ok=True)
    base = os.path.join(SHARED, "data", "change", "levir_0p5m")
    if os.path.isdir(base):
        for p in levir_pairs:
            b, tf = _rgb8(os.path.join(base, p + "_before.tif"))
            a, _ = _rgb8(os.path.join(base, p + "_after.tif"))
            with rasterio.open(os.path.join(base, p + "_change.tif")) as src:
                t = np.repeat(((src.read(1) > 0) * 255).astype("uint8")[..., None], 3, 2)
            res = detect_changes(os.path.join(base, p + "_before.tif"), os.path.join(base, p + "_after.tif"),
                                 min_area_m2=LEVIR_MIN_AREA)
            pred = np.asarray(_draw(a.copy(), tf, res.changes))
            gap = np.full((a.shape[0], 6, 3), 255, "uint8")
            Image.fromarray(np.concatenate([b, gap, a, gap, t, gap, pred], 1)).save(
                os.path.join(DOCS, f"levir_{p}.png"))
            print("wrote", os.path.join(DOCS, f"levir_{p}.png"))
    else:
        print(f"{base} absent: no LEVIR pictures")
    d = os.path.join(OUT, "synth_1.0_1024_3_sun_low_haze")
    if not os.path.exists(os.path.join(d, "after.tif")):
        synth.make_port_pair(d, synth.SceneSpec(width=1024, height=1024, gsd=1.0, seed=3), after=variants(True)[1][1])
    res = detect_changes(os.path.join(d, "before.tif"), os.path.join(d, "after.tif"))
    a, tf = _rgb8(os.path.join(d, "after.tif"))
    im = _draw(a, tf, res.changes, width=3)
    dr = ImageDraw.Draw(im)
    with open(os.path.join(d, "changes.geojson")) as fh:
        for f in json.load(fh)["features"]:
            g = shape(f["geometry"])
            for gg in getattr(g, "geoms", [g]):
                dr.line([~tf * xy for xy in gg.exterior.coords], fill=(255, 255, 255), width=1)
    y = 8
    for k, c in COLOURS.items():
        dr.rectangle([8, y, 22, y + 12], fill=c)
        dr.text((28, y), k, fill=(255, 255, 255))
        y += 18
    dr.text((28, y), "truth (white outline)", fill=(255, 255, 255))
    im.save(os.path.join(DOCS, "synthetic.png"))
    print("wrote", os.path.join(DOCS, "synthetic.png"))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--no-synth", action="store_true")
    ap.add_argument("--no-real", action="store_true")
    ap.add_argument("--pictures", action="store_true", help="only write docs/change/*.png")
    a = ap.parse_args()
    if a.pictures:
        pictures()
        return
    os.makedirs(OUT, exist_ok=True)
    tempfile.tempdir = None
    if not a.no_real:
        run_real("LEVIR-CD", "levir_0p5m", [WHERE, None], LEVIR_MIN_AREA)
        run_real("DSIFN-CD", "dsifn_2m_nominal", [None])
    if not a.no_synth:
        run_synth(a.quick)


if __name__ == "__main__":
    main()
