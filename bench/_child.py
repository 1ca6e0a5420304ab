"""What bench_ships.py and bench_containers.py share: the synthetic port scene they
measure on, and one child process per measurement (a plain windowed read, or a
detector), so that each peak RSS (ru_maxrss of that child) is its own."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time

from _paths import REPO, import_quayside

PLUGINS = os.path.join(REPO, ".qgis", "profiles", "default", "python", "plugins")

_CHILD = r"""
import json, resource, sys, time
sys.path.insert(0, {plugins!r})
mode, path, args = sys.argv[1], sys.argv[2], sys.argv[3:]
t0 = time.perf_counter()
if mode == "read":
    import rasterio
    total = 0
    with rasterio.open(path) as src:
        for _, win in src.block_windows(1):
            total += int(src.read(window=win).sum()) % 256
    extra = {{"checksum": total}}
else:
{detect}
dt = time.perf_counter() - t0
print(json.dumps(dict(seconds=dt, peak_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, **extra)))
"""


def port_scene(size: int, gsd: float) -> str:
    """The cached synthetic port (3-band uint8, seed 1) of ``size`` px at ``gsd`` m under bench/out/."""
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "out")
    os.makedirs(out, exist_ok=True)
    path = os.path.join(out, f"port_{size}_{gsd}.tif")
    if not os.path.exists(path):
        import_quayside()
        from quayside.core import synth

        t0 = time.perf_counter()
        spec = synth.SceneSpec(width=size, height=size, gsd=gsd, seed=1, nir=False, dtype="uint8")
        synth.render_to_tiff(synth.build_scene(spec), path, epoch="before", conditions=synth.Conditions())
        print(f"scene {size} x {size} at {gsd} m written in {time.perf_counter() - t0:.0f} s: {path}")
    return path


def measure(mode: str, path: str, detect: str = "extra = {}", *args: str) -> dict:
    """Run one measurement in a child process: ``mode`` 'read' (a plain windowed read) or
    anything else to run ``detect`` (code that sets ``extra``, a dict of results; it sees
    ``path`` and ``args``). Returns seconds, peak_mb and the extra results."""
    code = _CHILD.format(plugins=PLUGINS, detect=textwrap.indent(textwrap.dedent(detect).strip(), "    "))
    out = subprocess.run([sys.executable, "-c", code, mode, path, *args], capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit(f"{mode} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])
