"""Quicklook PNGs for evaluation notes: an image stretched to 8 bits with a
mask tinted over it and polygon outlines drawn on top (numpy + rasterio only)."""

from __future__ import annotations

import json
from typing import Iterable, Optional, Sequence, Tuple

import numpy as np
import rasterio
from rasterio import features
from shapely.geometry import shape


def stretched_rgb(path: str, bands: Sequence[int] = (1, 2, 3), max_size: int = 2000):
    with rasterio.open(path) as src:
        f = max(1.0, max(src.width, src.height) / max_size)
        h, w = int(src.height / f), int(src.width / f)
        data = src.read(list(bands), out_shape=(len(bands), h, w), out_dtype="float32")
        transform = src.transform * src.transform.scale(src.width / w, src.height / h)
    out = np.zeros_like(data, dtype=np.uint8)
    for i, b in enumerate(data):
        lo, hi = np.percentile(b, [1, 99])
        out[i] = np.clip((b - lo) / max(hi - lo, 1e-6) * 255, 0, 255).astype(np.uint8)
    return out, transform


def read_geojson(path: str):
    with open(path) as fh:
        fc = json.load(fh)
    return [shape(f["geometry"]) for f in fc["features"] if f.get("geometry")]


def quicklook(image: str, png: str, mask: Optional[str] = None, tint: Tuple[int, int, int] = (0, 90, 255),
              outlines: Iterable[Tuple[Iterable, Tuple[int, int, int]]] = (), max_size: int = 2000) -> str:
    rgb, transform = stretched_rgb(image, max_size=max_size)
    h, w = rgb.shape[1:]
    if mask:
        with rasterio.open(mask) as m:
            mk = m.read(1, out_shape=(h, w)) == 1
        for i, c in enumerate(tint):
            rgb[i][mk] = (0.55 * rgb[i][mk] + 0.45 * c).astype(np.uint8)
    for geoms, colour in outlines:
        lines = [g.boundary for g in geoms if not g.is_empty]
        if not lines:
            continue
        burn = features.rasterize(lines, out_shape=(h, w), transform=transform, all_touched=True) > 0
        for i, c in enumerate(colour):
            rgb[i][burn] = c
    with rasterio.open(png, "w", driver="PNG", width=w, height=h, count=3, dtype="uint8") as dst:
        dst.write(rgb)
    return png
