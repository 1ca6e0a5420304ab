"""Ship detection on a large raster: time as a multiple of a plain windowed
read of the same raster, and peak memory, measured side by side in one run.

usage: .venv/bin/python bench/bench_ships.py [--size 10000] [--gsd 1.0] [--keep]

Each measurement runs in its own child process, so its peak RSS
(ru_maxrss of that child) is its own. The scene is a synthetic port
(3-band uint8) made with quayside.core.synth, cached under bench/out/.
"""

from __future__ import annotations

import argparse
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from _child import measure, port_scene  # noqa: E402

DETECT = """
from quayside.core.ships import detect_ships
res = detect_ships(path)
extra = {"ships": len(res.ships)}
"""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--size", type=int, default=10000)
    ap.add_argument("--gsd", type=float, default=1.0)
    a = ap.parse_args()
    path = port_scene(a.size, a.gsd)
    read = measure("read", path)
    det = measure("detect", path, DETECT)
    print(f"plain windowed read : {read['seconds']:8.1f} s   peak {read['peak_mb']:7.0f} MB")
    print(f"detect_ships        : {det['seconds']:8.1f} s   peak {det['peak_mb']:7.0f} MB   ships {det['ships']}")
    print(f"ratio detect/read   : {det['seconds'] / read['seconds']:8.1f} x")
    print(f"peak memory bar (<= 1536 MB): {'met' if det['peak_mb'] <= 1536 else 'NOT met'}")


if __name__ == "__main__":
    main()
