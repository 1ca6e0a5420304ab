"""Benchmark: a 10000 x 10000 pair through quayside's detect_changes and through
Orfeo ToolBox's MultivariateAlterationDetector (Debian otb-bin), in one run.

Each method runs in a child process; its wall time and peak memory (max RSS of the
child, from resource.getrusage(RUSAGE_CHILDREN) measured around each child) are
printed with the time ratio. The pair is a synthetic port (core/synth) at 1 m,
cached in bench/out/change_bench_<size>/ (made on first use): a 2500 x 2500 pair is rendered
once and mosaicked 4 x 4 into the 10000 x 10000 pair (rasterio window writes), because
rendering 10000 x 10000 directly takes too long on this 2-CPU machine. The mosaic repeats
the same port 16 times; the seams are where the tiles' edges meet.

usage: python bench/bench_change.py [--size 10000] [--prepare-only]
"""

import argparse
import os
import resource
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from _paths import import_quayside  # noqa: E402

OTB = "otbcli_MultivariateAlterationDetector"

CHILD = r"""
import sys, time
sys.path.insert(0, {here!r})
from _paths import import_quayside
import_quayside()
from quayside.core.change import detect_changes
t = time.time()
r = detect_changes({before!r}, {after!r}, change_raster_path={cr!r}, workdir={wd!r})
print("quayside: %d footprints, %.0f m2 new, shift %+.2f,%+.2f px, %.1f s" % (
    r.count, r.total_new_m2, r.shift.dx_px, r.shift.dy_px, time.time() - t))
"""


def _mosaic(src_path, dst_path, tiles, tile_px):
    """Tile ``src_path`` ``tiles`` x ``tiles`` times into a GeoTIFF (rasterio window writes: the
    same as a GDAL VRT of shifted copies translated to GeoTIFF, without the extra tools)."""
    import rasterio
    from rasterio.transform import Affine

    with rasterio.open(src_path) as src:
        prof = src.profile.copy()
        data = src.read(window=((0, tile_px), (0, tile_px)))
        tf = src.transform
    n = tiles * tile_px
    prof.update(width=n, height=n, transform=tf * Affine.translation(0, 0), tiled=True, blockxsize=256,
                blockysize=256, compress="deflate", BIGTIFF="YES")
    with rasterio.open(dst_path, "w", **prof) as dst:
        for i in range(tiles):
            for j in range(tiles):
                dst.write(data, window=((i * tile_px, (i + 1) * tile_px), (j * tile_px, (j + 1) * tile_px)))


def prepare(size, tile=2500):
    qs = import_quayside()
    from quayside.core import synth

    d = os.path.join(HERE, "out", f"change_bench_{size}")
    if not os.path.exists(os.path.join(d, "after.tif")):
        t = time.time()
        tiles = max(1, -(-size // tile))
        tile_px = size // tiles
        src = os.path.join(d, f"tile_{tile_px}")
        print(f"making the {size} x {size} pair in {d}: a {tile_px} x {tile_px} synthetic pair rendered once and "
              f"mosaicked {tiles} x {tiles} (rendering {size} x {size} directly is too slow on 2 CPUs) ...",
              flush=True)
        if not os.path.exists(os.path.join(src, "after.tif")):
            synth.make_port_pair(src, synth.SceneSpec(width=tile_px, height=tile_px, gsd=1.0, seed=5))
        for e in ("before", "after"):
            _mosaic(os.path.join(src, e + ".tif"), os.path.join(d, e + ".tif"), tiles, tile_px)
        print(f"  made in {time.time() - t:.0f} s", flush=True)
    del qs
    return os.path.join(d, "before.tif"), os.path.join(d, "after.tif"), d


def run_child(cmd, env=None):
    """Wall time and the child's peak RSS (MB): ru_maxrss of RUSAGE_CHILDREN is the maximum over
    all children waited for so far, so children run in increasing-memory order would hide one
    another; we read it before and after and also ask /usr/bin/time when available."""
    use_time = os.path.exists("/usr/bin/time")
    full = (["/usr/bin/time", "-f", "MAXRSS_KB %M"] if use_time else []) + cmd
    t = time.time()
    p = subprocess.run(full, capture_output=True, text=True, env=env)
    wall = time.time() - t
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024.0
    if use_time:
        for line in p.stderr.splitlines():
            if line.startswith("MAXRSS_KB"):
                peak = int(line.split()[1]) / 1024.0
    return wall, peak, p


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--size", type=int, default=10000)
    ap.add_argument("--prepare-only", action="store_true")
    ap.add_argument("--ram", type=int, default=256, help="OTB's -ram (MB)")
    a = ap.parse_args()
    before, after, d = prepare(a.size)
    if a.prepare_only:
        return
    wd = os.path.join(d, "work")
    os.makedirs(wd, exist_ok=True)
    code = CHILD.format(here=HERE, before=before, after=after, cr=os.path.join(wd, "quayside_change.tif"), wd=wd)
    wq, mq, pq = run_child([sys.executable, "-c", code])
    print(pq.stdout.strip())
    if pq.returncode:
        print(pq.stderr[-2000:])
    print(f"quayside detect_changes: {wq:.1f} s, peak RSS {mq:.0f} MB")
    if shutil.which(OTB) is None:
        print(f"{OTB} not found (apt-get install otb-bin): OTB not measured")
        return
    out = os.path.join(wd, "otb_mad.tif")
    env = dict(os.environ, OTB_MAX_RAM_HINT=str(a.ram))
    wo, mo, po = run_child([OTB, "-in1", before, "-in2", after, "-out", out, "-ram", str(a.ram)], env=env)
    if po.returncode:
        print(po.stdout[-1500:], po.stderr[-1500:])
    print(f"OTB MultivariateAlterationDetector: {wo:.1f} s, peak RSS {mo:.0f} MB (-ram {a.ram})")
    print(f"time ratio quayside / OTB = {wq / wo:.2f}; memory ratio = {mq / mo:.2f}")
    print("(OTB's MAD computes only the change magnitude image (MAD variates); quayside also co-registers, "
          "normalises, computes water masks, thresholds, polygonises and types the footprints.)")


if __name__ == "__main__":
    main()
