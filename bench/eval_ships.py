"""Ship detection evaluation (quayside.core.ships.detect_ships).

* Real Sentinel-2 ports in ../shared/data/ships/sentinel2 (busan, casablanca,
  san_francisco): each scene scored with the official scorer
  ../shared/eval/score_ships.py, plus the three pooled (predictions and truths
  concatenated: the scenes are in one CRS and far apart). Bars: pooled precision
  and recall >= 0.85, median length error <= 15 m.
* The marina at 0.26 m (../shared/data/ships/marina_0p26m, DOTA P0706 west half),
  scored with ``--class ship`` (the two 'harbor' features are piers), and again with
  ``--ignore-difficult``. Run with the analyst settings for small craft (minimum
  length 4 m, maximum 60 m). Bar: F1 >= 0.6.
* Synthetic ports (quayside.core.synth) at 0.5, 1, 3 and 10 m, with the scene's
  piers and quays given as the piers input: F1 for ships >= 5 px long (shorter ones
  are marked ``difficult`` and neither count as found nor as missed), length error
  against max(3 %, 1 px), pier attribution of matched docked ships, rafted pairs
  found as two. Also without piers (``--no-piers`` column), for reference.

Writes predictions (GeoJSON in the raster CRS, with a "crs" member) and quicklook
PNGs (truth red, detections green) to --out, and prints a table.

``--seeds 7,11`` runs the synthetic ports for several seeds (a scene holds only a
dozen ships at 0.5 m) and prints the counts pooled over the seeds as well.

Run: .venv/bin/python bench/eval_ships.py [--out DIR] [--skip-synthetic] [--skip-real]
     [--gsd 0.5,1,3,10] [--seeds 7,11] [--piers-only]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from _paths import SHARED, import_quayside  # noqa: E402

quayside = import_quayside()
from quayside.core.ships import detect_ships  # noqa: E402
from quicklook import quicklook, read_geojson  # noqa: E402
from shapely.geometry import shape  # noqa: E402

SCORER = os.path.join(SHARED, "eval", "score_ships.py")
S2 = os.path.join(SHARED, "data", "ships", "sentinel2")
MARINA = os.path.join(SHARED, "data", "ships", "marina_0p26m")


def write_predictions(res, path, crs_name, extra=None):
    feats = []
    for s in res.ships:
        props = dict(length_m=round(s.length_m, 2), width_m=round(s.width_m, 2), heading_deg=round(s.heading_deg, 1),
                     area_m2=round(s.area_m2, 1), score=round(s.score, 3), state=s.state, pier=s.pier,
                     pier_distance_m=None if s.pier_distance_m is None else round(s.pier_distance_m, 1))
        if extra:
            props.update(extra(s))
        feats.append({"type": "Feature", "properties": props, "geometry": s.polygon.__geo_interface__})
    fc = {"type": "FeatureCollection", "features": feats}
    if crs_name:
        fc["crs"] = {"type": "name", "properties": {"name": crs_name}}
    with open(path, "w") as fh:
        json.dump(fc, fh)
    return path


def crs_name(tif):
    import rasterio

    with rasterio.open(tif) as src:
        if src.crs is None:
            return None
        epsg = src.crs.to_epsg()
        return f"EPSG:{epsg}" if epsg else src.crs.to_wkt()


def score(truth, pred, *extra):
    """Run the official scorer; returns a dict of its figures and its text."""
    out = subprocess.run(["/usr/bin/python3", SCORER, truth, pred, *extra], capture_output=True, text=True,
                         cwd=os.path.dirname(SCORER))
    txt = out.stdout
    r = {"text": txt.strip(), "err": out.stderr.strip()}
    for line in txt.splitlines():
        for tok in line.replace(" ", "\n").split("\n"):
            if "=" in tok:
                k, v = tok.split("=", 1)
                try:
                    r[k] = float(v)
                except ValueError:
                    pass
    return r


def concat(paths, out, crs):
    feats = []
    for p in paths:
        with open(p) as fh:
            feats += json.load(fh)["features"]
    with open(out, "w") as fh:
        json.dump({"type": "FeatureCollection", "crs": {"type": "name", "properties": {"name": crs}},
                   "features": feats}, fh)
    return out


def peak_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def row(name, r, secs, extra=""):
    med = r.get("median_length_error_m(length_m)", float("nan"))
    print(f"{name:22s} truth {int(r.get('truth', 0)):4d} pred {int(r.get('pred', 0)):4d} tp {int(r.get('tp', 0)):4d} "
          f"fp {int(r.get('fp', 0)):4d} fn {int(r.get('fn', 0)):4d}  P {r.get('precision', 0):.3f} "
          f"R {r.get('recall', 0):.3f} F1 {r.get('F1', 0):.3f}  med len err {med:6.1f} m  {secs:6.1f} s {extra}",
          flush=True)


def real(out):
    if not os.path.isdir(S2):
        print(f"no real scenes: {S2} is absent")
        return
    preds, truths = [], []
    for name in ("busan", "casablanca", "san_francisco"):
        tif = os.path.join(S2, name + ".tif")
        truth = os.path.join(S2, name + ".ships.geojson")
        t0 = time.time()
        res = detect_ships(tif)
        secs = time.time() - t0
        pred = write_predictions(res, os.path.join(out, f"{name}_ships.geojson"), crs_name(tif))
        preds.append(pred)
        truths.append(truth)
        row(name, score(truth, pred), secs)
        quicklook(tif, os.path.join(out, f"{name}_ships.png"),
                  outlines=[(read_geojson(truth), (255, 40, 40)), (read_geojson(pred), (40, 255, 40))])
    crs = "EPSG:3857"
    pooled = score(concat(truths, os.path.join(out, "s2_truth_pooled.geojson"), crs),
                   concat(preds, os.path.join(out, "s2_pred_pooled.geojson"), crs))
    row("sentinel-2 pooled", pooled, 0.0, "(bars: P,R >= 0.85, med <= 15 m)")

    if os.path.isdir(MARINA):
        tif = os.path.join(MARINA, "P0706_west.tif")
        truth = os.path.join(MARINA, "P0706_west.ships.geojson")
        t0 = time.time()
        res = detect_ships(tif, min_length_m=4.0, max_length_m=60.0)
        secs = time.time() - t0
        pred = write_predictions(res, os.path.join(out, "marina_ships.geojson"), crs_name(tif))
        row("marina (class ship)", score(truth, pred, "--class", "ship"), secs, "(bar: F1 >= 0.6)")
        row("marina (no difficult)", score(truth, pred, "--class", "ship", "--ignore-difficult"), 0.0)
        quicklook(tif, os.path.join(out, "marina_ships.png"),
                  outlines=[(read_geojson(truth), (255, 40, 40)), (read_geojson(pred), (40, 255, 40))])


def _matches(truth, preds):
    """Pairs (truth index, prediction index) by the scorer's rule (IoU >= 0.25, or the
    prediction's centroid in the truth and the truth's centroid within the prediction
    grown by half the truth's beam), best IoU first, one to one."""
    cands = []
    for i, (tg, tp) in enumerate(truth):
        for j, (pg, _) in enumerate(preds):
            if not pg.intersects(tg):
                continue
            iou = pg.intersection(tg).area / pg.union(tg).area
            if iou >= 0.25 or (tg.contains(pg.centroid) and pg.buffer(tp["width_m"] / 2).contains(tg.centroid)):
                cands.append((iou, i, j))
    cands.sort(reverse=True)
    ut, up, pairs = set(), set(), []
    for _, i, j in cands:
        if i in ut or j in up:
            continue
        ut.add(i)
        up.add(j)
        pairs.append((i, j))
    return pairs


def synthetic(out, gsds, use_piers_too=True, seeds=(7,)):
    try:
        from quayside.core import synth  # noqa: F401
    except Exception as exc:  # noqa: BLE001
        print(f"no synthetic scenes: cannot import quayside.core.synth ({exc})")
        return
    sizes = {0.5: 2048, 1.0: 2048, 3.0: 1536, 10.0: 1024}
    totals = {}  # (gsd, tag) -> summed counts over the seeds
    for gsd in gsds:
        for seed in seeds:
            _synthetic_one(out, gsd, sizes.get(gsd, 1536), seed, use_piers_too, totals)
    if len(seeds) > 1:
        print(f"pooled over seeds {','.join(str(s) for s in seeds)}:")
        for (gsd, tag), t in totals.items():
            p = t["tp"] / max(t["tp"] + t["fp"], 1)
            r = t["tp"] / max(t["tp"] + t["fn"], 1)
            f1 = 2 * p * r / max(p + r, 1e-9)
            print(f"synth {gsd:g} m {tag:9s} pooled  truth {t['truth']:4d} tp {t['tp']:4d} fp {t['fp']:4d} "
                  f"fn {t['fn']:4d}  P {p:.3f} R {r:.3f} F1 {f1:.3f} | len err/max(3%,1px) median "
                  f"{statistics.median(t['rel']) if t['rel'] else float('nan'):.2f} | pier ok {t['pier_ok']}/"
                  f"{t['docked']} | rafted pairs as two {t['pairs_both']}/{t['n_pairs']}", flush=True)


def _synthetic_one(out, gsd, size, seed, use_piers_too, totals):
    from quayside.core import synth

    d = os.path.join(out, f"synth_{gsd:g}m" + ("" if seed == 7 else f"_s{seed}"))
    os.makedirs(d, exist_ok=True)
    tif = os.path.join(d, "image.tif")
    if not os.path.exists(tif):
        spec = synth.SceneSpec(width=size, height=size, gsd=gsd, seed=seed, dtype="uint8")
        scene = synth.build_scene(spec)
        synth.render_to_tiff(scene, tif, epoch="before", conditions=synth.Conditions(), date="2016-05-14")
        synth.write_truth(scene, d, epoch="before")
    with open(os.path.join(d, "ships_before.geojson")) as fh:
        fc = json.load(fh)
    for f in fc["features"]:
        f["properties"]["difficult"] = 1 if f["properties"]["length_m"] < 5 * gsd else 0
    truth_path = os.path.join(d, "ships_eval.geojson")
    with open(truth_path, "w") as fh:
        json.dump(fc, fh)
    piers = []
    for layer in ("piers_before.geojson", "quays_before.geojson"):
        p = os.path.join(d, layer)
        if os.path.exists(p):
            with open(p) as fh:
                piers += [(shape(f["geometry"]), f["properties"].get("name")) for f in json.load(fh)["features"]]
    for with_piers in ((True, False) if use_piers_too else (True,)):
        t0 = time.time()
        res = detect_ships(tif, piers=piers if with_piers else None)
        secs = time.time() - t0
        tag = "piers" if with_piers else "no-piers"
        pred = write_predictions(res, os.path.join(d, f"pred_{tag}.geojson"), crs_name(tif))
        r = score(truth_path, pred, "--ignore-difficult")
        # own figures: length error against max(3 %, 1 px), pier attribution, rafted pairs
        truth = [(shape(f["geometry"]), f["properties"]) for f in fc["features"]]
        preds = [(s.polygon, s) for s in res.ships]
        pairs = _matches(truth, preds)
        big = [(i, j) for i, j in pairs if not truth[i][1]["difficult"]]
        rel = [abs(preds[j][1].length_m - truth[i][1]["length_m"]) / max(0.03 * truth[i][1]["length_m"], gsd)
               for i, j in big]
        docked = [(i, j) for i, j in big if truth[i][1]["state"] == "docked"]
        pier_ok = sum(1 for i, j in docked if preds[j][1].pier == truth[i][1]["pier"])
        rafts = {}
        for i, (_, tp) in enumerate(truth):
            if tp.get("rafted") and not tp["difficult"]:
                rafts.setdefault(tp["raft_id"], []).append(i)
        matched_t = {i for i, _ in pairs}
        pairs_both = sum(1 for ids in rafts.values() if len(ids) == 2 and all(i in matched_t for i in ids))
        n_pairs = sum(1 for ids in rafts.values() if len(ids) == 2)
        extra = (f"| len err/max(3%,1px) median {statistics.median(rel) if rel else float('nan'):.2f} "
                 f"| pier ok {pier_ok}/{len(docked)} | rafted pairs as two {pairs_both}/{n_pairs}")
        row(f"synth {gsd:g} m {tag}" + ("" if seed == 7 else f" s{seed}"), r, secs, extra)
        t = totals.setdefault((gsd, tag), dict(truth=0, tp=0, fp=0, fn=0, rel=[], pier_ok=0, docked=0,
                                               pairs_both=0, n_pairs=0))
        for k in ("truth", "tp", "fp", "fn"):
            t[k] += int(r.get(k, 0))
        t["rel"] += rel
        t["pier_ok"] += pier_ok
        t["docked"] += len(docked)
        t["pairs_both"] += pairs_both
        t["n_pairs"] += n_pairs
        if with_piers:
            quicklook(tif, os.path.join(d, "ships.png"),
                      outlines=[(read_geojson(truth_path), (255, 40, 40)), (read_geojson(pred), (40, 255, 40))])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=None)
    ap.add_argument("--skip-synthetic", action="store_true")
    ap.add_argument("--skip-real", action="store_true")
    ap.add_argument("--gsd", default="0.5,1,3,10", help="comma-separated pixel sizes of the synthetic scenes")
    ap.add_argument("--piers-only", action="store_true", help="synthetic: skip the run without piers")
    ap.add_argument("--seeds", default="7", help="comma-separated seeds of the synthetic scenes (pooled when several)")
    a = ap.parse_args()
    out = a.out or tempfile.mkdtemp(prefix="quayside_ships_")
    os.makedirs(out, exist_ok=True)
    print(f"outputs in {out}")
    if not a.skip_real:
        real(out)
    if not a.skip_synthetic:
        synthetic(out, [float(g) for g in a.gsd.split(",")], use_piers_too=not a.piers_only,
                  seeds=[int(v) for v in a.seeds.split(",")])
    print(f"peak memory {peak_mb():.0f} MB")


if __name__ == "__main__":
    main()
