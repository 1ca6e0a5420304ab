"""Synthetic scenes shared by the core and QGIS tests (made once per session,
small). No QGIS import here: core tests run without it."""

import os

import pytest


@pytest.fixture(scope="session")
def synth_scene(tmp_path_factory):
    """make(gsd, size, nir=False, seed=7, epoch='before') -> (tif path, truth dir)."""
    from quayside.core import synth

    cache = {}
    base = tmp_path_factory.mktemp("synth")

    def make(gsd, size, nir=False, seed=7, epoch="before", dtype="uint8"):
        key = (gsd, size, nir, seed, epoch, dtype)
        if key not in cache:
            d = base / f"s_{gsd}_{size}_{int(nir)}_{seed}_{epoch}_{dtype}"
            os.makedirs(d, exist_ok=True)
            spec = synth.SceneSpec(width=size, height=size, gsd=gsd, seed=seed, nir=nir, dtype=dtype)
            scene = synth.build_scene(spec)
            tif = str(d / "port_2016-05-14.tif")
            synth.render_to_tiff(scene, tif, epoch=epoch, conditions=synth.Conditions(), date="2016-05-14")
            synth.write_truth(scene, str(d), epoch=epoch)
            cache[key] = (tif, str(d))
        return cache[key]

    return make
