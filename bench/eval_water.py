"""Water mask evaluation.

* Synthetic scenes (the project's generator) at 0.5, 3 and 10 m: IoU against
  ground-truth water polygons (bar: >= 0.95).
* Real Sentinel-2 ports in ../shared/data/ships/sentinel2 (no water labels):
  how many labelled vessels lie inside the water mask (centroid inside, and
  >= 50 % of the hull inside), plus a quicklook PNG per scene.

Run: .venv/bin/python bench/eval_water.py [--out DIR]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile

import numpy as np
import rasterio
from rasterio import features

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from _paths import SHARED, import_quayside  # noqa: E402

quayside = import_quayside()
from quayside.core.water import water_mask  # noqa: E402
from quicklook import quicklook, read_geojson  # noqa: E402


def iou_against(mask_path: str, truth_geoms) -> float:
    with rasterio.open(mask_path) as m:
        pred = m.read(1) == 1
        truth = features.rasterize(
            [(g, 1) for g in truth_geoms], out_shape=pred.shape, transform=m.transform, fill=0
        ).astype(bool)
    inter = np.logical_and(pred, truth).sum()
    union = np.logical_or(pred, truth).sum()
    return float(inter / union) if union else 1.0


def error_map(mask_path, water, hulls, png):
    """red: false water, green: missed water, blue: missed water under a hull."""
    with rasterio.open(mask_path) as m:
        pred = m.read(1) == 1
        tr = m.transform
    w = features.rasterize([(g, 1) for g in water], out_shape=pred.shape, transform=tr, fill=0).astype(bool)
    h = features.rasterize(
        [(g, 1) for g in hulls if not g.is_empty], out_shape=pred.shape, transform=tr, fill=0
    ).astype(bool)
    out = np.zeros((3,) + pred.shape, np.uint8)
    out[0] = (pred & ~w) * 255
    out[1] = (w & ~pred & ~h) * 255
    out[2] = (w & ~pred & h) * 255
    with rasterio.open(
        png, "w", driver="PNG", width=pred.shape[1], height=pred.shape[0], count=3, dtype="uint8"
    ) as dst:
        dst.write(out)


def vessels_in_water(mask_path: str, ships_path: str):
    ships = read_geojson(ships_path)
    with rasterio.open(mask_path) as m:
        mk = m.read(1) == 1
        tr = m.transform
    centroid_in = half_in = 0
    for g in ships:
        r, c = rasterio.transform.rowcol(tr, g.centroid.x, g.centroid.y)
        if 0 <= r < mk.shape[0] and 0 <= c < mk.shape[1] and mk[r, c]:
            centroid_in += 1
        hull = features.rasterize([(g, 1)], out_shape=mk.shape, transform=tr, fill=0, all_touched=True).astype(bool)
        if hull.sum() and mk[hull].mean() >= 0.5:
            half_in += 1
    return len(ships), centroid_in, half_in


def synthetic(out: str, seeds=(7,)):
    from quayside.core import synth

    rows = []
    for seed in seeds:
        for gsd, size in ((0.5, 2048), (3.0, 1536), (10.0, 1024)):
            for nir in (False, True):
                spec = synth.SceneSpec(width=size, height=size, gsd=gsd, seed=seed, nir=nir, dtype="uint8")
                scene = synth.build_scene(spec)
                tif = os.path.join(out, f"synth_{seed}_{gsd}_{int(nir)}.tif")
                synth.render_to_tiff(scene, tif, epoch="before", conditions=synth.Conditions(), date="2016-05-14")
                paths = synth.write_truth(scene, out, epoch="before")
                wpath = (
                    paths["water"]
                    if isinstance(paths, dict) and "water" in paths
                    else os.path.join(out, "water_before.geojson")
                )
                mask = tif.replace(".tif", "_water.tif")
                res = water_mask(tif, mask)
                iou = iou_against(mask, read_geojson(wpath))
                from shapely.ops import unary_union

                hulls = unary_union(read_geojson(os.path.join(out, "ships_before.geojson")))
                surface = unary_union(read_geojson(wpath)).difference(hulls)
                iou_s = iou_against(mask, list(getattr(surface, "geoms", [surface])))
                rows.append((gsd, nir, res.method.split(" (")[0], iou, iou_s))
                print(
                    f"synthetic seed {seed} {gsd:>4} m {size}px nir={nir!s:5} {res.method.split(' (')[0]:<10} "
                    f"IoU water={iou:.4f}  IoU water surface (less hulls)={iou_s:.4f}",
                    flush=True,
                )
                err = tif.replace(".tif", "_err.png")
                error_map(mask, read_geojson(wpath), [hulls], err)
                quicklook(
                    tif, tif.replace(".tif", "_ql.png"), mask=mask, outlines=[(read_geojson(wpath), (255, 255, 0))]
                )
    if rows:
        vis = [r for r in rows if not r[1]]
        ndwi = [r for r in rows if r[1]]
        print(
            f"min IoU water (visible, NDWI): {min(r[3] for r in vis):.4f}, {min(r[3] for r in ndwi):.4f}; "
            f"min IoU water surface: {min(r[4] for r in vis):.4f}, {min(r[4] for r in ndwi):.4f}"
        )
    return rows


def real(out: str):
    base = os.path.join(SHARED, "data", "ships", "sentinel2")
    if not os.path.isdir(base):
        print(f"no real scenes: {base} is absent")
        return
    tot = [0, 0, 0]
    for name in ("busan", "casablanca", "san_francisco"):
        tif = os.path.join(base, name + ".tif")
        mask = os.path.join(out, name + "_water.tif")
        res = water_mask(tif, mask)
        n, c_in, h_in = vessels_in_water(mask, os.path.join(base, name + ".ships.geojson"))
        tot = [tot[0] + n, tot[1] + c_in, tot[2] + h_in]
        print(
            f"{name:14s} water {100 * res.water_fraction:5.1f} %  vessels {n:3d}: centroid in water {c_in:3d}, "
            f">=50 % in water {h_in:3d}",
            flush=True,
        )
        quicklook(
            tif,
            os.path.join(out, name + "_water.png"),
            mask=mask,
            outlines=[(read_geojson(os.path.join(base, name + ".ships.geojson")), (255, 40, 40))],
        )
    print(f"{'all':14s} vessels {tot[0]:3d}: centroid in water {tot[1]:3d}, >=50 % in water {tot[2]:3d}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=None)
    ap.add_argument("--skip-synthetic", action="store_true")
    ap.add_argument("--skip-real", action="store_true")
    ap.add_argument("--seeds", default="7,3,21", help="comma-separated seeds of the synthetic scenes")
    a = ap.parse_args()
    out = a.out or tempfile.mkdtemp(prefix="quayside_water_")
    os.makedirs(out, exist_ok=True)
    print(f"outputs in {out}")
    if not a.skip_synthetic:
        synthetic(out, tuple(int(x) for x in a.seeds.split(",")))
    if not a.skip_real:
        real(out)


if __name__ == "__main__":
    main()
