"""Benchmark of the synthetic port generator: render a large scene, print time and peak RSS.

    PYTHONPATH=<dir containing the quayside package link> python3 bench/bench_synth.py [size] [gsd] [workers]

Defaults: 10000 x 10000 px at 0.5 m (a 5 km x 5 km port), RGB uint8, all cores (max 2 by default).
Memory stays bounded per window (a few hundred MB per worker) whatever the raster size.
"""

import os
import resource
import sys
import tempfile
import time


def main():
    from quayside.core import synth

    size = int(sys.argv[1]) if len(sys.argv) > 1 else 10000
    gsd = float(sys.argv[2]) if len(sys.argv) > 2 else 0.5
    workers = int(sys.argv[3]) if len(sys.argv) > 3 else None
    spec = synth.SceneSpec(width=size, height=size, gsd=gsd, seed=1)
    t0 = time.time()
    scene = synth.build_scene(spec)
    t1 = time.time()
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "bench.tif")
        last = [0.0]

        def progress(f):
            if f - last[0] >= 0.1 or f >= 1.0:
                last[0] = f
                print(f"  {100 * f:3.0f}%  {time.time() - t1:.1f} s", flush=True)

        synth.render_to_tiff(scene, path, "before", synth.Conditions(), progress=progress, workers=workers)
        t2 = time.time()
        mb = os.path.getsize(path) / 1e6
        paths = synth.write_truth(scene, d, "before")
        t3 = time.time()
        ships = len(scene.ships("before"))
    self_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    child_rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024.0
    km = size * gsd / 1000.0
    print(f"scene {size} x {size} px at {gsd:.2f} m ({km:.1f} km), {ships} ships, {len(paths)} truth layers")
    rate = size * size / 1e6 / (t2 - t1)
    print(f"build {t1 - t0:.1f} s  render {t2 - t1:.1f} s ({rate:.2f} Mpx/s)  truth {t3 - t2:.1f} s  tif {mb:.0f} MB")
    print(f"peak RSS: main {self_rss:.0f} MB, largest worker {child_rss:.0f} MB")


if __name__ == "__main__":
    main()
