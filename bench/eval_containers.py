"""Container detection evaluation (quayside.core.containers.detect_containers).

Synthetic ports (quayside.core.synth), seeds 3, 7, 21, at 0.5 m and 1 m
(1024 x 1024 px) and 3 m (512 x 512 px), scored against the truth layer
``containers_before.geojson`` (boxes with location 'yard') and ``yards.geojson``:

* TEU: the detector runs with STACK_TIERS = 1 and the truth's yards as YARDS, and
  is compared with the number of TEU *seen from above* (one box per stack
  footprint: teu of each yard box, its ``tiers`` ignored). From above only the
  top box of a stack shows, so this is what an image can measure; an analyst's
  STACK_TIERS multiplies both alike. Error = |detected - true| / true over all
  yards of the scene. Bars: 5 % at 0.5 m, 10 % at 1 m, 20 % at 3 m.
* Occupancy: per yard, detected occupancy_pct against the union area of the
  yard's box footprints / yard area. Bar: 5 points.
* Look-alikes: run without YARDS (automatic yards, as an analyst would on a new
  image); TEU of detected stacks whose centre falls on a look-alike polygon
  (trailer and car rows, ribbed roofs, heaps), as a share of the true yard TEU,
  also broken down by look-alike kind (``kind`` of lookalikes_before.geojson).
  Bar: <= 5 %.
* Empty yard: the same port with every stack of its largest yard removed (its
  blocks' tiers set to 0 in the layout before rendering: the bare concrete with
  its joints stays), run with that yard as YARDS. Bar: < 2 % of its capacity.

Real pictures (when ../shared/data exists): docs/containers/container_piers.png
(detected stacks over the 0.5 m Google Earth terminal, two crops written for a
by-eye count) and docs/containers/busan_yards.png (automatic yards at 10 m).

Run: .venv/bin/python bench/eval_containers.py [--seeds 3 7 21 5 11] [--skip-real]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from _paths import REPO, SHARED, import_quayside  # noqa: E402

quayside = import_quayside()
import numpy as np  # noqa: E402
import rasterio  # noqa: E402
from quayside.core import synth  # noqa: E402
from quayside.core.containers import detect_containers  # noqa: E402
from shapely.geometry import box as sbox  # noqa: E402
from shapely.geometry import shape  # noqa: E402
from shapely.ops import unary_union  # noqa: E402

OUT = os.path.join(HERE, "out", "containers")
DOCS = os.path.join(REPO, "docs", "containers")
BARS = {0.5: 5.0, 1.0: 10.0, 3.0: 20.0}
SIZES = {0.5: 1024, 1.0: 1024, 3.0: 512}


def feats(path):
    with open(path) as f:
        return json.load(f)["features"]


def scene_files(gsd, seed, empty=False):
    d = os.path.join(OUT, f"s_{gsd}_{SIZES[gsd]}_{seed}{'_empty' if empty else ''}")
    tif = os.path.join(d, "img.tif")
    if os.path.exists(tif):
        return tif, d
    os.makedirs(d, exist_ok=True)
    spec = synth.SceneSpec(width=SIZES[gsd], height=SIZES[gsd], gsd=gsd, seed=seed)
    scene = synth.build_scene(spec)
    if empty:
        empty_largest_yard(scene)
    synth.render_to_tiff(scene, tif, epoch="before", conditions=synth.Conditions())
    synth.write_truth(scene, d, epoch="before")
    return tif, d


def empty_largest_yard(scene):
    """Remove every stack of the scene's largest-capacity yard (all epochs)."""
    yards = scene.layout.yards
    if not yards:
        return None
    yd = max(yards, key=lambda y: y["capacity_teu"])
    for g in yd["grids"]:
        g.tiers[:] = 0
        g._runs = {}
    return yd["name"]


def truth_yards(d):
    """Truth per yard, over the part of the yard inside the image: a yard of the layout
    may run past the image edge, and boxes outside the image cannot be seen (a box is
    in when its centre is)."""
    with rasterio.open(os.path.join(d, "img.tif")) as src:
        frame = sbox(*src.bounds)
    ys = [(shape(f["geometry"]).intersection(frame), f["properties"]["name"], f["properties"]["capacity_teu"])
          for f in feats(os.path.join(d, "yards.geojson"))]
    boxes = [f for f in feats(os.path.join(d, "containers_before.geojson")) if f["properties"]["location"] == "yard"
             and frame.contains(shape(f["geometry"]).centroid)]
    out = {}
    for g, name, cap in ys:
        if g.is_empty:
            continue
        mine = [f for f in boxes if f["properties"]["yard"] == name]
        teu = sum(f["properties"]["teu"] for f in mine)
        occ = unary_union([shape(f["geometry"]) for f in mine]).intersection(g).area / g.area * 100 if mine else 0.0
        out[name] = dict(polygon=g, teu=teu, occ=occ, cap=cap)
    return out


def evaluate(gsd, seed):
    tif, d = scene_files(gsd, seed)
    ty = truth_yards(d)
    t0 = time.perf_counter()
    res = detect_containers(tif, yards=[(v["polygon"], k) for k, v in ty.items()])
    dt = time.perf_counter() - t0
    true_teu = sum(v["teu"] for v in ty.values())
    det_teu = res.total_teu
    occ_err = max((abs(y.occupancy_pct - ty[y.name]["occ"]) for y in res.yards), default=float("nan"))
    # look-alikes: automatic yards
    auto = detect_containers(tif)
    looks = [(shape(f["geometry"]), f["properties"]["kind"])
             for f in feats(os.path.join(d, "lookalikes_before.geojson"))]
    look_u = unary_union([g for g, _ in looks]) if looks else None
    look_teu = sum(s.teu for s in auto.stacks if look_u is not None and look_u.contains(s.polygon.centroid))
    kinds = {}
    for s in auto.stacks:
        c = s.polygon.centroid
        kind = next((k for g, k in looks if g.contains(c)), None)
        if kind is not None:
            kinds[kind] = round(kinds.get(kind, 0.0) + s.teu, 1)
    # all boxes of the scene (yards, ships, trucks) inside the auto yards vs truth yard TEU
    return dict(gsd=gsd, seed=seed, true_teu=true_teu, det_teu=det_teu,
                teu_err=100.0 * abs(det_teu - true_teu) / max(true_teu, 1), occ_err=occ_err,
                occ=[(y.name, round(ty[y.name]["occ"], 1), round(y.occupancy_pct, 1)) for y in res.yards],
                look_pct=100.0 * look_teu / max(true_teu, 1), look_kinds=kinds, auto_teu=auto.total_teu,
                auto_yards=len(auto.yards),
                seconds=dt)


def evaluate_empty(gsd, seed):
    tif, d = scene_files(gsd, seed, empty=True)
    ty = truth_yards(d)
    name = min(ty, key=lambda k: ty[k]["teu"] - ty[k]["cap"])  # the emptied (largest) yard has teu 0
    cap = ty[name]["cap"]
    res = detect_containers(tif, yards=[(ty[name]["polygon"], name)])
    return dict(gsd=gsd, seed=seed, yard=name, cap=cap, true_teu=ty[name]["teu"], det_teu=res.total_teu,
                pct=100.0 * res.total_teu / max(cap, 1))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, nargs="+", default=[3, 7, 21])
    ap.add_argument("--gsd", type=float, nargs="+", default=[0.5, 1.0, 3.0])
    ap.add_argument("--skip-real", action="store_true")
    ap.add_argument("--skip-synthetic", action="store_true")
    a = ap.parse_args()
    os.makedirs(OUT, exist_ok=True)
    if not a.skip_synthetic:
        rows = []
        print(f"{'gsd':>4} {'seed':>4} {'trueTEU':>7} {'detTEU':>7} {'err%':>6} {'bar':>4} {'occErr':>6} "
              f"{'look%':>6} {'autoY':>5} {'autoTEU':>7} {'s':>5}  occupancy truth/det per yard")
        for gsd in a.gsd:
            for seed in a.seeds:
                r = evaluate(gsd, seed)
                rows.append(r)
                print(f"{gsd:4.1f} {seed:4d} {r['true_teu']:7.0f} {r['det_teu']:7.1f} {r['teu_err']:6.1f} "
                      f"{BARS[gsd]:4.0f} {r['occ_err']:6.1f} {r['look_pct']:6.1f} {r['auto_yards']:5d} "
                      f"{r['auto_teu']:7.1f} {r['seconds']:5.1f}  {r['occ']} look-alike TEU by kind {r['look_kinds']}",
                      flush=True)
        print("\npooled per resolution (sum of detected vs sum of true TEU over the seeds):")
        for gsd in a.gsd:
            rr = [r for r in rows if r["gsd"] == gsd]
            t = sum(r["true_teu"] for r in rr)
            dsum = sum(r["det_teu"] for r in rr)
            err = 100 * abs(dsum - t) / max(t, 1)
            print(f"  {gsd:4.1f} m: true {t:.0f} det {dsum:.1f} error {err:.1f} % (bar {BARS[gsd]:.0f} %: "
                  f"{'met' if err <= BARS[gsd] else 'NOT met'}); worst occupancy error "
                  f"{max(r['occ_err'] for r in rr):.1f} points; look-alikes "
                  f"{max(r['look_pct'] for r in rr):.1f} % worst")
        print("\nempty yard (largest yard emptied before rendering):")
        for gsd in a.gsd:
            for seed in a.seeds:
                e = evaluate_empty(gsd, seed)
                print(f"  {gsd:4.1f} m seed {seed:3d} {e['yard']}: capacity {e['cap']} TEU, truth {e['true_teu']}, "
                      f"detected {e['det_teu']:.1f} TEU = {e['pct']:.2f} % (bar < 2 %)", flush=True)
    if not a.skip_real:
        real()


def _draw(tif, stacks, yards, png, max_side=1600, crop=None):
    from PIL import Image, ImageDraw

    with rasterio.open(tif) as src:
        win = None
        if crop is not None:
            c0, r0, c1, r1 = crop
            win = ((r0, r1), (c0, c1))
        a = src.read([1, 2, 3], window=win).astype(np.float32)
        tf = src.transform if win is None else rasterio.windows.transform(
            rasterio.windows.Window(crop[0], crop[1], crop[2] - crop[0], crop[3] - crop[1]), src.transform)
    lo, hi = np.percentile(a, [1, 99.5])
    img = np.clip((a - lo) / max(hi - lo, 1e-6) * 255, 0, 255).astype(np.uint8).transpose(1, 2, 0)
    h, w = img.shape[:2]
    z = min(4.0, max_side / max(h, w))
    im = Image.fromarray(img).resize((int(w * z), int(h * z)), Image.NEAREST)
    dr = ImageDraw.Draw(im)
    inv = ~tf

    def pts(g):
        return [((inv * (x, y))[0] * z, (inv * (x, y))[1] * z) for x, y in g.exterior.coords]

    for y in yards:
        for g in getattr(y.polygon, "geoms", [y.polygon]):
            dr.polygon(pts(g), outline=(255, 255, 0))
            dr.text(pts(g)[0], f"{y.name}: {y.occupancy_pct:.0f} %, {y.teu:.0f} TEU", fill=(255, 255, 0))
    for s in stacks:
        for g in getattr(s.polygon, "geoms", [s.polygon]):
            dr.polygon(pts(g), outline=(255, 0, 255) if (s.boxes_40ft or 0) else (0, 255, 255))
    im.save(png)
    return png


def real():
    os.makedirs(DOCS, exist_ok=True)
    piers = os.path.join(SHARED, "data", "unlabelled", "container_piers_0p5m_nominal.tif")
    if os.path.exists(piers):
        res = detect_containers(piers)
        print(f"\ncontainer_piers (0.5 m, automatic yards): {len(res.stacks)} stacks, {res.total_teu:.0f} TEU, "
              f"{len(res.yards)} yard(s); notes: {res.notes}")
        for y in res.yards:
            print(f"  {y.name}: area {y.yard_area_m2:.0f} m2, occupancy {y.occupancy_pct:.1f} %, TEU {y.teu:.0f}")
        _draw(piers, res.stacks, res.yards, os.path.join(DOCS, "container_piers.png"))
        with rasterio.open(piers) as src:
            tf = src.transform
        for k, crop in enumerate([(20, 80, 150, 210), (430, 400, 600, 540)], 1):
            c0, r0, c1, r1 = crop
            x0, y0 = tf * (c0, r0)
            x1, y1 = tf * (c1, r1)
            from shapely.geometry import box as sbox

            cb = sbox(min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1))
            inside = [s for s in res.stacks if cb.contains(s.polygon.centroid)]
            n20 = sum(s.boxes_20ft or 0 for s in inside)
            n40 = sum(s.boxes_40ft or 0 for s in inside)
            print(f"  crop {k} cols {c0}-{c1} rows {r0}-{r1}: algorithm {len(inside)} boxes "
                  f"({n20} x 20 ft, {n40} x 40 ft, {sum(s.teu for s in inside):.0f} TEU)")
            _draw(piers, inside, [], os.path.join(DOCS, f"container_piers_crop{k}.png"), max_side=1000, crop=crop)
            _draw(piers, [], [], os.path.join(DOCS, f"container_piers_crop{k}_plain.png"), max_side=1000,
                  crop=crop)
    else:
        print(f"\n{piers} is absent: real container picture skipped")
    busan = os.path.join(SHARED, "data", "ships", "sentinel2", "busan.tif")
    if os.path.exists(busan):
        res = detect_containers(busan)
        print(f"\nbusan (Sentinel-2, {res.pixel_size_m:.1f} m ground pixel, mode {res.mode}): "
              f"{len(res.yards)} automatic yard(s), {res.total_teu:.0f} TEU")
        for y in res.yards:
            print(f"  {y.name}: area {y.yard_area_m2 / 1e4:.1f} ha, occupied {y.occupied_area_m2 / 1e4:.1f} ha, "
                  f"occupancy {y.occupancy_pct:.1f} %, TEU {y.teu:.0f}")
        _draw(busan, res.stacks, res.yards, os.path.join(DOCS, "busan_yards.png"))
    else:
        print(f"\n{busan} is absent: Busan picture skipped")


if __name__ == "__main__":
    main()
