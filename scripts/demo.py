"""`make demo`: generate the demo port pair, run every Quayside algorithm on
it through qgis_process, and write demo_output/:

* quayside_demo.gpkg — every result layer (plus the scene's ground truth);
* quayside_demo.qgz — a QGIS project with the layers styled over the imagery;
* quayside_demo_overview.png — an overview rendered by QGIS;
* scene/ — the before/after GeoTIFFs and their ground truth GeoJSON.

Run with the project's venv (it sees Debian's QGIS): .venv/bin/python scripts/demo.py
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
PLUGINS = os.path.join(REPO, ".qgis", "profiles", "default", "python", "plugins")
QGIS_PROCESS = os.path.join(HERE, "qgis_process")


def import_quayside():
    if PLUGINS not in sys.path:
        sys.path.insert(0, PLUGINS)
    import quayside  # noqa: F401


def run_alg(alg: str, params: dict, log) -> dict:
    """Run one algorithm through qgis_process and return its results dict."""
    args = [QGIS_PROCESS, "run", alg, "--json", "--"] + [f"{k}={v}" for k, v in params.items()]
    t0 = time.time()
    proc = subprocess.run(args, capture_output=True, text=True)
    log.write(f"$ {' '.join(args)}\n{proc.stderr}\n")
    if proc.returncode != 0:
        raise SystemExit(f"{alg} failed (exit {proc.returncode}):\n{proc.stderr[-3000:]}\n{proc.stdout[-2000:]}")
    start = proc.stdout.find("{")
    out = json.loads(proc.stdout[start:])
    out["_seconds"] = time.time() - t0
    log.write(json.dumps(out.get("log", {}), indent=1)[:20000] + "\n")
    return out


def gpkg_uri(gpkg: str, table: str) -> str:
    return f"ogr:dbname='{gpkg}' table=\"{table}\" (geom)"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=os.path.join(REPO, "demo_output"))
    ap.add_argument("--size", type=int, default=3000, help="scene width and height in pixels")
    ap.add_argument("--gsd", type=float, default=0.5, help="metres per pixel")
    ap.add_argument("--seed", type=int, default=2016)
    ap.add_argument("--skip-series", action="store_true", help="skip the six-date time series and report")
    a = ap.parse_args(argv)
    import_quayside()
    from quayside.core import synth

    out = os.path.abspath(a.out)
    if os.path.exists(out):
        shutil.rmtree(out)
    scene_dir = os.path.join(out, "scene")
    os.makedirs(scene_dir)
    gpkg = os.path.join(out, "quayside_demo.gpkg")
    log = open(os.path.join(out, "demo.log"), "w")

    t0 = time.time()
    print(f"Quayside demo: generating a {a.size} x {a.size} px port pair at {a.gsd} m ...", flush=True)
    spec = synth.SceneSpec(width=a.size, height=a.size, gsd=a.gsd, seed=a.seed, nir=True, dtype="uint8")
    pair = synth.make_port_pair(scene_dir, spec, dates=("2016-05-14", "2016-09-20"))
    before, after = pair["before"], pair["after"]
    print(f"  scene written in {time.time() - t0:.0f} s: {os.path.relpath(before)}, {os.path.relpath(after)}")

    manifest = {"gpkg": gpkg, "rasters": [], "layers": [], "tables": [], "summary": []}
    manifest["rasters"] += [{"path": before, "name": "before 2016-05-14"},
                            {"path": after, "name": "after 2016-09-20"}]

    # 1. water mask of both dates
    for tag, img in (("before", before), ("after", after)):
        res = run_alg("quayside:watermask", {
            "INPUT": img, "OUTPUT": gpkg_uri(gpkg, f"water_{tag}"),
            "OUTPUT_RASTER": os.path.join(out, f"water_mask_{tag}.tif")}, log)
        manifest["layers"].append({"uri": f"{gpkg}|layername=water_{tag}", "name": f"water ({tag})",
                                   "style": "water.qml", "visible": tag == "before"})
        n, area = _count_area(gpkg, f"water_{tag}")
        truth = _truth_area(pair.get("truth", {}).get(f"water_{tag}"))
        manifest["summary"].append(
            f"water mask ({tag}): {n} water polygon(s), {area / 1e6:.3f} km² of water"
            + (f" (truth {truth / 1e6:.3f} km²)" if truth else "") + f" [{res['_seconds']:.0f} s]")

    # 2. ships at both dates, attributed to the piers an analyst would have drawn
    for tag, img in (("before", before), ("after", after)):
        piers = pair.get("truth", {}).get(f"piers_{tag}")
        params = {"INPUT": img, "OUTPUT": gpkg_uri(gpkg, f"ships_{tag}")}
        if piers:
            params.update(PIERS=piers, PIER_NAME_FIELD="name")
        res = run_alg("quayside:detectships", params, log)
        manifest["layers"].insert(0, {"uri": f"{gpkg}|layername=ships_{tag}", "name": f"ships ({tag})",
                                      "style": "ships.qml", "visible": tag == "before"})
        manifest["summary"].append(_ships_summary(gpkg, f"ships_{tag}", tag, pair.get("truth", {}).get(
            f"ships_{tag}"), res))

    # 3. container stacks and yard occupancy at both dates, in the yards an analyst would have drawn
    yards = pair.get("truth", {}).get("yards")
    for tag, img in (("before", before), ("after", after)):
        params = {"INPUT": img, "OUTPUT": gpkg_uri(gpkg, f"containers_{tag}"),
                  "SUMMARY": gpkg_uri(gpkg, f"yard_summary_{tag}").replace(" (geom)", ""),
                  "YARD_OUTLINES": gpkg_uri(gpkg, f"yards_{tag}")}
        if yards:
            params.update(YARDS=yards, YARD_NAME_FIELD="name")
        res = run_alg("quayside:detectcontainers", params, log)
        manifest["layers"].insert(0, {"uri": f"{gpkg}|layername=containers_{tag}", "name": f"containers ({tag})",
                                      "style": "containers.qml", "visible": tag == "before"})
        manifest["layers"].insert(0, {"uri": f"{gpkg}|layername=yards_{tag}", "name": f"yards ({tag})",
                                      "style": "yards.qml", "visible": tag == "before"})
        manifest["tables"].append({"uri": f"{gpkg}|layername=yard_summary_{tag}", "name": f"yard summary ({tag})"})
        manifest["summary"].append(_containers_summary(gpkg, f"yard_summary_{tag}", tag, pair.get("truth", {}).get(
            f"containers_{tag}"), res))

    # 4. construction change between the two dates
    change_tif = os.path.join(out, "change_magnitude.tif")
    res = run_alg("quayside:detectchanges", {"BEFORE": before, "AFTER": after, "OUTPUT": gpkg_uri(gpkg, "changes"),
                                             "CHANGE_RASTER": change_tif}, log)
    manifest["layers"].insert(0, {"uri": f"{gpkg}|layername=changes", "name": "changes (before → after)",
                                  "style": "changes.qml", "visible": False})
    manifest["rasters"].append({"path": change_tif, "name": "change magnitude", "style": "change_raster.qml",
                                "visible": False, "above": True})
    manifest["summary"].append(_changes_summary(gpkg, res, pair.get("truth", {}).get("changes")))

    # ground truth for comparison (not styled as results)
    for name, path in sorted(pair.get("truth", {}).items()):
        if path.endswith(".geojson") and name.startswith(("ships", "changes", "piers", "yards")):
            manifest["layers"].append({"uri": path, "name": f"truth: {name}", "style": None, "visible": False,
                                       "group": "ground truth"})

    with open(os.path.join(out, "manifest.json"), "w") as fh:
        json.dump(manifest, fh, indent=1)
    proc = subprocess.run([sys.executable, os.path.join(HERE, "build_project.py"),
                           os.path.join(out, "manifest.json")], capture_output=True, text=True)
    log.write(proc.stdout + proc.stderr)
    if proc.returncode != 0:
        raise SystemExit(f"building the QGIS project failed:\n{proc.stderr[-3000:]}")

    series_summary = None
    if not a.skip_series:
        print("Port activity over six dates (time series, model, report) ...", flush=True)
        proc = subprocess.run([sys.executable, os.path.join(HERE, "demo_series.py"), "--out",
                               os.path.join(out, "series")], capture_output=True, text=True)
        log.write(proc.stdout + proc.stderr)
        if proc.returncode != 0:
            raise SystemExit(f"the time-series demo failed:\n{proc.stderr[-3000:]}")
        series_summary = proc.stdout.strip().splitlines()
    log.close()

    print("\nWhat Quayside found:")
    for line in manifest["summary"]:
        print("  - " + line)
    if series_summary:
        print("\nPort activity over time (series/summary.txt):")
        for line in series_summary:
            if line.startswith(("date", "20", "total")):
                print("  " + line)
    print("\nFiles:")
    for path in (gpkg, os.path.join(out, "quayside_demo.qgz"), os.path.join(out, "quayside_demo_overview.png"),
                 scene_dir, os.path.join(out, "series", "report.pdf"), os.path.join(out, "series", "activity.png"),
                 os.path.join(out, "demo.log")):
        print(f"  {os.path.relpath(path)}")
    print(f"\nOpen the project in QGIS: qgis {os.path.relpath(os.path.join(out, 'quayside_demo.qgz'))}")
    print(f"(demo finished in {time.time() - t0:.0f} s)")
    return 0


def _ships_summary(gpkg, table, tag, truth_path, res):
    from osgeo import ogr

    ds = ogr.Open(gpkg)
    lyr = ds.GetLayerByName(table)
    rows = [(f.GetField("length_m"), f.GetField("state"), f.GetField("pier")) for f in lyr]
    n_true = None
    if truth_path and os.path.exists(truth_path):
        with open(truth_path) as fh:
            n_true = len(json.load(fh)["features"])
    docked = [r for r in rows if r[1] == "docked"]
    longest = max(rows, key=lambda r: r[0] or 0) if rows else None
    text = f"ships ({tag}): {len(rows)} found" + (f" (truth {n_true})" if n_true is not None else "")
    text += f", {len(docked)} docked"
    if longest:
        text += f"; longest {longest[0]:.0f} m" + (f" at {longest[2]}" if longest[2] else "")
    return text + f" [{res['_seconds']:.0f} s]"


def _containers_summary(gpkg, table, tag, truth_path, res):
    from osgeo import ogr

    ds = ogr.Open(gpkg)
    lyr = ds.GetLayerByName(table)
    rows = [(f.GetField("yard"), f.GetField("teu"), f.GetField("occupancy_pct")) for f in lyr]
    true_teu = None
    if truth_path and os.path.exists(truth_path):
        with open(truth_path) as fh:
            true_teu = sum(f["properties"]["teu"] for f in json.load(fh)["features"]
                           if f["properties"].get("location") == "yard")
    text = f"containers ({tag}): {res.get('results', {}).get('TOTAL_TEU', 0):.0f} TEU seen from above"
    if true_teu is not None:
        text += f" (truth {true_teu} TEU of top boxes)"
    text += f", mode {res.get('results', {}).get('MODE', '?')}; " + "; ".join(
        f"{y}: {occ:.0f} % occupied" for y, _, occ in rows)
    return text + f" [{res['_seconds']:.0f} s]"


def _changes_summary(gpkg, res, truth_path):
    from osgeo import ogr

    ds = ogr.Open(gpkg)
    lyr = ds.GetLayerByName("changes")
    by_type = {}
    for f in lyr:
        t = f.GetField("type")
        n, a = by_type.get(t, (0, 0.0))
        by_type[t] = (n + 1, a + (f.GetField("area_m2") or 0.0))
    r = res.get("results", {})
    text = "changes: " + ", ".join(f"{t} {n} ({a:,.0f} m²)" for t, (n, a) in sorted(by_type.items()))
    text += f"; shift {r.get('SHIFT_X_PX', 0):+.2f}, {r.get('SHIFT_Y_PX', 0):+.2f} px"
    if truth_path and os.path.exists(truth_path):
        with open(truth_path) as fh:
            feats = json.load(fh)["features"]
        big = [f["properties"] for f in feats if f["properties"]["type"] != "other_surface"]
        text += "; truth: " + ", ".join(f"{p['type']} {p['area_m2']:,.0f} m²" for p in big)
    return text + f" [{res['_seconds']:.0f} s]"


def _truth_area(path):
    """Area (m²) of a ground-truth GeoJSON layer in a projected CRS, or None."""
    if not path or not os.path.exists(path):
        return None
    from shapely.geometry import shape
    from shapely.ops import unary_union

    with open(path) as fh:
        return unary_union([shape(f["geometry"]) for f in json.load(fh)["features"]]).area


def _count_area(gpkg: str, table: str):
    from osgeo import ogr

    ds = ogr.Open(gpkg)
    lyr = ds.GetLayerByName(table)
    n = lyr.GetFeatureCount()
    idx = lyr.GetLayerDefn().GetFieldIndex("area_m2")
    area = sum(f.GetField(idx) or 0.0 for f in lyr) if idx >= 0 else 0.0
    return n, area


if __name__ == "__main__":
    sys.exit(main())
