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
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from _child import measure, port_scene  # noqa: E402

DETECT = """
from quayside.core.containers import detect_containers
res = detect_containers(path, auto_water=(args[0] == "1"))
extra = {"stacks": len(res.stacks), "teu": res.total_teu, "yards": len(res.yards)}
"""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--size", type=int, default=10000)
    ap.add_argument("--gsd", type=float, default=1.0)
    ap.add_argument("--no-water", action="store_true", help="skip the automatic water mask (auto_water=False)")
    a = ap.parse_args()
    path = port_scene(a.size, a.gsd)
    read = measure("read", path)
    det = measure("detect", path, DETECT, "0" if a.no_water else "1")
    print(f"plain windowed read : {read['seconds']:8.1f} s   peak {read['peak_mb']:7.0f} MB")
    print(f"detect_containers   : {det['seconds']:8.1f} s   peak {det['peak_mb']:7.0f} MB   stacks {det['stacks']} "
          f"TEU {det['teu']:.0f} yards {det['yards']}")
    print(f"ratio detect/read   : {det['seconds'] / read['seconds']:8.1f} x")
    print(f"peak memory bar (<= 1536 MB): {'met' if det['peak_mb'] <= 1536 else 'NOT met'}")


if __name__ == "__main__":
    main()
