"""Demo of port activity over time: six dates of the demo port (ships arriving and
leaving, yards filling and emptying), then, through qgis_process, the shipped model
(water, ships and containers on the latest image, the activity time series and the
port report); with --separate the time series and report algorithms on their own.
A summary against the truth.

    .venv/bin/python scripts/demo_series.py --out demo_output/series

Writes into --out: series/ (dated GeoTIFFs + truth), activity.csv, detections.gpkg,
activity.png/.svg, report.pdf, report.html (+ report_files/), latest_*.gpkg/csv (the
model's results on the latest image), report_page1.png (pdftoppm) and summary.txt.
"""

from __future__ import annotations

import argparse
import csv
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
MODEL = os.path.join(REPO, "processing", "models", "port_activity.model3")
DATES = ("2016-05-14", "2016-06-18", "2016-07-23", "2016-08-20", "2016-09-20", "2016-10-25")


def qgis_process(target: str, params: dict, log) -> dict:
    args = [QGIS_PROCESS, "run", target, "--json", "--"] + [f"{k}={v}" for k, v in params.items()]
    t0 = time.time()
    proc = subprocess.run(args, capture_output=True, text=True)
    log.write(f"$ {' '.join(args)}\n{proc.stdout[-20000:]}\n{proc.stderr[-5000:]}\n")
    if proc.returncode != 0:
        raise SystemExit(f"{target} failed (exit {proc.returncode}):\n{proc.stderr[-3000:]}\n{proc.stdout[-3000:]}")
    start = proc.stdout.find("{")
    out = json.loads(proc.stdout[start:]) if start >= 0 else {}
    out["_seconds"] = time.time() - t0
    return out


def truth_of(series_dir: str, date: str) -> dict:
    with open(os.path.join(series_dir, f"ships_{date}.geojson")) as fh:
        ships = json.load(fh)["features"]
    with open(os.path.join(series_dir, f"containers_{date}.geojson")) as fh:
        boxes = [f["properties"] for f in json.load(fh)["features"] if f["properties"]["location"] == "yard"]
    return {"ships": len(ships), "teu_top": sum(b["teu"] for b in boxes),
            "teu_all": sum(b["teu"] * b["tiers"] for b in boxes)}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=os.path.join(REPO, "demo_output", "series"))
    ap.add_argument("--size", type=int, default=1200, help="scene width and height in pixels")
    ap.add_argument("--gsd", type=float, default=1.0)
    ap.add_argument("--seed", type=int, default=2016)
    ap.add_argument("--separate", action="store_true",
                    help="run the time series and the report as separate algorithms instead of the model")
    a = ap.parse_args(argv)
    if PLUGINS not in sys.path:
        sys.path.insert(0, PLUGINS)
    from quayside.core import synth

    out = os.path.abspath(a.out)
    if os.path.exists(out):
        shutil.rmtree(out)
    series_dir = os.path.join(out, "series")
    os.makedirs(series_dir)
    log = open(os.path.join(out, "demo_series.log"), "w")
    t0 = time.time()
    print(f"Quayside series demo: {len(DATES)} dates of a {a.size} x {a.size} px port at {a.gsd} m ...", flush=True)
    spec = synth.SceneSpec(width=a.size, height=a.size, gsd=a.gsd, seed=a.seed, nir=True, dtype="uint8")
    synth.make_port_series(series_dir, spec, list(DATES))
    print(f"  series written in {time.time() - t0:.0f} s", flush=True)
    piers = os.path.join(series_dir, f"piers_{DATES[0]}.geojson")
    yards = os.path.join(series_dir, "yards.geojson")

    if a.separate:
        # each algorithm on its own, as an analyst would run them from the toolbox
        res = qgis_process("quayside:activitytimeseries", {
            "FOLDER": series_dir, "PIERS": piers, "PIER_NAME_FIELD": "name", "YARDS": yards,
            "YARD_NAME_FIELD": "name", "OUTPUT": os.path.join(out, "activity.csv"),
            "DETECTIONS": os.path.join(out, "detections.gpkg"), "CHART": os.path.join(out, "activity.png")}, log)
        print(f"  activitytimeseries: {res['_seconds']:.0f} s", flush=True)
        res = qgis_process("quayside:portreport", {
            "FOLDER": series_dir, "PIERS": piers, "PIER_NAME_FIELD": "name", "YARDS": yards,
            "YARD_NAME_FIELD": "name", "SERIES": os.path.join(out, "activity.csv"),
            "DETECTIONS": os.path.join(out, "detections.gpkg"), "TITLE": "Demo port: activity May–October 2016",
            "OUTPUT_HTML": os.path.join(out, "report.html"), "OUTPUT_PDF": os.path.join(out, "report.pdf")}, log)
        print(f"  portreport: {res['_seconds']:.0f} s", flush=True)
    else:
        # the shipped model does it all in one run: water, ships and containers on the latest image, then
        # the time series of the folder and the report
        res = qgis_process(MODEL, {
            "folder": series_dir, "reference": os.path.join(series_dir, DATES[-1] + ".tif"), "piers": piers,
            "pier_name_field": "name", "yards": yards, "yard_name_field": "name", "stack_tiers": 1,
            "timeseries:activity": os.path.join(out, "activity.csv"),
            "timeseries:detections": os.path.join(out, "detections.gpkg"),
            "timeseries:chart": os.path.join(out, "activity.png"),
            "report:report_html": os.path.join(out, "report.html"),
            "report:report_pdf": os.path.join(out, "report.pdf"),
            "watermask:water": os.path.join(out, "latest_water.gpkg"),
            "detectships:ships": os.path.join(out, "latest_ships.gpkg"),
            "detectcontainers:stacks": os.path.join(out, "latest_stacks.gpkg"),
            "detectcontainers:yard_summary": os.path.join(out, "latest_yards.csv")}, log)
        print(f"  model port_activity (water, ships, containers, time series, report): {res['_seconds']:.0f} s",
              flush=True)
    if shutil.which("pdftoppm"):
        subprocess.run(["pdftoppm", "-r", "110", "-png", "-f", "1", "-l", "1", "-singlefile",
                        os.path.join(out, "report.pdf"), os.path.join(out, "report_page1")], check=False)

    lines = [f"{'date':<11} {'ships':>5} {'truth':>5}   {'TEU':>6} {'truth(top)':>10} {'truth(all tiers)':>16}"]
    with open(os.path.join(out, "activity.csv")) as fh:
        for row in csv.DictReader(fh):
            d = row["acquired"].replace("/", "-")
            t = truth_of(series_dir, d)
            teu = float(row["teu"]) if row["teu"] else float("nan")
            lines.append(f"{d:<11} {int(row['ships']):>5} {t['ships']:>5}   {teu:>6.0f} {t['teu_top']:>10} "
                         f"{t['teu_all']:>16}")
    lines.append(f"total {time.time() - t0:.0f} s; outputs in {out}")
    text = "\n".join(lines)
    print(text)
    with open(os.path.join(out, "summary.txt"), "w") as fh:
        fh.write(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
