"""Benchmark: a long series (default 50 images of 2000 x 2000 px) through the time
series core with bounded memory: time per image, peak RSS, progress, and a cancel
between images.

Images are made cheaply: a few epochs of one synthetic port are rendered once, then
copied with a date in the file name and a small radiometric variation (a gain applied
to a copy, no re-rendering), so the 50 images are distinct files with distinct dates.

    .venv/bin/python bench/bench_timeseries.py [--images 50] [--size 2000] [--render 3]

Prints one line per image (seconds, ships, TEU, RSS) and the summary: mean and
median seconds per image, peak RSS, RSS growth from the 2nd to the last image, and
that a cancel after image k stops before image k+1.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import resource
import shutil
import statistics
import sys
import tempfile
import time

from _paths import import_quayside

quayside = import_quayside()


def rss_mb() -> float:
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return float("nan")


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def make_images(out: str, n: int, size: int, n_render: int, gsd: float) -> list:
    import numpy as np
    import rasterio
    from quayside.core import synth

    base_dates = [str(dt.date(2016, 1, 1) + dt.timedelta(days=30 * i)) for i in range(n_render)]
    rdir = os.path.join(out, "rendered")
    t0 = time.time()
    synth.make_port_series(rdir, synth.SceneSpec(width=size, height=size, gsd=gsd, seed=11), base_dates)
    print(f"rendered {n_render} epochs of {size} x {size} px in {time.time() - t0:.0f} s", flush=True)
    sdir = os.path.join(out, "series")
    os.makedirs(sdir, exist_ok=True)
    paths = []
    rng = np.random.default_rng(5)
    for i in range(n):
        src = os.path.join(rdir, f"{base_dates[i % n_render]}.tif")
        d = dt.date(2017, 1, 2) + dt.timedelta(days=7 * i)
        dst = os.path.join(sdir, f"port_{d:%Y%m%d}.tif")
        gain = float(rng.uniform(0.94, 1.06))
        with rasterio.open(src) as s:
            profile = s.profile
            with rasterio.open(dst, "w", **profile) as o:
                o.colorinterp = s.colorinterp
                for _, w in s.block_windows(1):  # windowed copy with a gain: bounded memory
                    a = s.read(window=w).astype("float32") * gain
                    o.write(np.clip(a, 0, 255).astype(profile["dtype"]), window=w)
        paths.append(dst)
    return paths


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--images", type=int, default=50)
    ap.add_argument("--size", type=int, default=2000)
    ap.add_argument("--render", type=int, default=3, help="epochs actually rendered (the rest are copies)")
    ap.add_argument("--gsd", type=float, default=1.0)
    ap.add_argument("--keep", help="folder to keep the images in (default: a temporary folder)")
    a = ap.parse_args(argv)
    from quayside.core import timeseries as ts
    from quayside.core.errors import Cancelled

    out = a.keep or tempfile.mkdtemp(prefix="quayside_bench_ts_")
    try:
        paths = make_images(out, a.images, a.size, a.render, a.gsd)
        refs = ts.resolve_dates(paths)
        print(f"{len(refs)} images dated {refs[0].date} .. {refs[-1].date} (from {refs[0].date_source})", flush=True)
        times, rss = [], []
        last = [time.time()]
        progress = []

        def on_image(o):
            now = time.time()
            times.append(now - last[0])
            last[0] = now
            rss.append(rss_mb())
            teu = "-" if o.row.teu is None else f"{o.row.teu:.0f}"
            print(f"  {len(times):>3} {o.ref.date} {times[-1]:6.1f} s  ships {o.row.ships:>3}  TEU {teu:>6}  "
                  f"RSS {rss[-1]:7.0f} MB  progress {progress[-1] if progress else 0:.2f}", flush=True)

        t0 = time.time()
        result = ts.run_series(refs, on_image=on_image, progress=progress.append)
        total = time.time() - t0
        print(f"\n{len(result.rows)} images in {total:.0f} s: mean {statistics.mean(times):.1f} s per image, "
              f"median {statistics.median(times):.1f} s ({a.size} x {a.size} px, {a.gsd} m)")
        print(f"peak RSS {peak_rss_mb():.0f} MB; RSS after image 2 {rss[min(1, len(rss) - 1)]:.0f} MB, after the "
              f"last {rss[-1]:.0f} MB (growth {rss[-1] - rss[min(1, len(rss) - 1)]:+.0f} MB)")
        print(f"progress calls {len(progress)}, monotonic {progress == sorted(progress)}, last {progress[-1]:.2f}")
        done = []
        try:
            ts.run_series(refs[:3], containers=False, on_image=lambda o: done.append(o.ref.date),
                          cancel=lambda: len(done) >= 1)
            print("cancel: NOT honoured")
        except Cancelled:
            print(f"cancel after image 1: stopped with {len(done)} image(s) done")
    finally:
        if not a.keep:
            shutil.rmtree(out, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
