"""Container detection on a large raster: time as a multiple of a plain windowed
read of the same raster, and peak memory, measured side by side in one run.

usage: .venv/bin/python bench/bench_containers.py [--size 10000] [--gsd 1.0]

Each measurement runs in its own child process, so its peak RSS
(ru_maxrss of that child) is its own. The scene is a synthetic port
(3-band uint8) made with quayside.core.synth, cached under bench/out/ (the
same file as bench_ships.py uses). The detector runs without YARDS: automatic
yards, with the automatic water mask unless --no-water.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from _paths import REPO, import_quayside  # noqa: E402

CHILD = r"""
import json, resource, sys, time
sys.path.insert(0, {plugins!r})
mode, path = sys.argv[1], sys.argv[2]
t0 = time.perf_counter()
if mode == "read":
    import rasterio
    total = 0
    with rasterio.open(path) as src:
        for _, win in src.block_windows(1):
            total += int(src.read(window=win).sum()) % 256
    extra = {{"checksum": total}}
else:
    from quayside.core.containers import detect_containers
    res = detect_containers(path, auto_water=(sys.argv[3] == "1"))
    extra = {{"stacks": len(res.stacks), "teu": res.total_teu, "yards": len(res.yards)}}
dt = time.perf_counter() - t0
print(json.dumps(dict(seconds=dt, peak_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, **extra)))
"""


def child(mode: str, path: str, plugins: str, water: bool = True) -> dict:
    out = subprocess.run([sys.executable, "-c", CHILD.format(plugins=plugins), mode, path, "1" if water else "0"],
                         capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit(f"{mode} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--size", type=int, default=10000)
    ap.add_argument("--gsd", type=float, default=1.0)
    ap.add_argument("--no-water", action="store_true", help="skip the automatic water mask (auto_water=False)")
    a = ap.parse_args()
    import_quayside()
    from quayside.core import synth

    out = os.path.join(HERE, "out")
    os.makedirs(out, exist_ok=True)
    path = os.path.join(out, f"port_{a.size}_{a.gsd}.tif")
    if not os.path.exists(path):
        t0 = time.perf_counter()
        spec = synth.SceneSpec(width=a.size, height=a.size, gsd=a.gsd, seed=1, nir=False, dtype="uint8")
        synth.render_to_tiff(synth.build_scene(spec), path, epoch="before", conditions=synth.Conditions())
        print(f"scene {a.size} x {a.size} at {a.gsd} m written in {time.perf_counter() - t0:.0f} s: {path}")
    plugins = os.path.join(REPO, ".qgis", "profiles", "default", "python", "plugins")
    read = child("read", path, plugins)
    det = child("detect", path, plugins, water=not a.no_water)
    print(f"plain windowed read : {read['seconds']:8.1f} s   peak {read['peak_mb']:7.0f} MB")
    print(f"detect_containers   : {det['seconds']:8.1f} s   peak {det['peak_mb']:7.0f} MB   stacks {det['stacks']} "
          f"TEU {det['teu']:.0f} yards {det['yards']}")
    print(f"ratio detect/read   : {det['seconds'] / read['seconds']:8.1f} x")
    print(f"peak memory bar (<= 1536 MB): {'met' if det['peak_mb'] <= 1536 else 'NOT met'}")


if __name__ == "__main__":
    main()
