"""Ship detection on small hand-built scenes (and one synthetic port): docked ship
separated from its quay, rafted pair counted as two, lengths in ground metres whatever
the CRS, no double count or cut ship at window seams, pier attribution, bad input."""

import os
import warnings

import numpy as np
import pytest
import rasterio
from quayside.core.errors import Cancelled, InputError
from quayside.core.ships import detect_ships
from rasterio import features
from rasterio.transform import from_origin
from rasterio.warp import Resampling, calculate_default_transform, reproject
from shapely import affinity
from shapely.geometry import Polygon, box

PX = 3.0  # metres per pixel of the hand-built scenes
ORIGIN = (500000.0, 4500000.0)  # UTM 33N, about 40.6 N
WATER = (18, 32, 42)
QUAY = (125, 125, 118)


def hull(length, beam, cx, cy, heading_deg):
    """A ship outline in map metres: a box with a pointed bow, bow towards ``heading_deg``
    (clockwise from north)."""
    hl, hb = length / 2, beam / 2
    bow = 0.15 * length
    pts = [(-hb, -hl), (hb, -hl), (hb, hl - bow), (0, hl), (-hb, hl - bow)]
    g = Polygon(pts)
    g = affinity.rotate(g, -heading_deg, origin=(0, 0))
    return affinity.translate(g, cx, cy)


def render(path, shapes, size=(360, 360), crs="EPSG:32633", px=PX, seed=0, quay_rows=80, nodata=None, bands=3):
    """Write an RGB uint8 GeoTIFF: water, a quay along the top (``quay_rows`` pixels) and
    ``shapes`` = [(polygon in map metres, (r, g, b))], rendered at 4x and averaged (mixed
    edge pixels), lightly blurred, with sensor noise."""
    from scipy import ndimage

    h, w = size
    ss = 4
    tf_hi = from_origin(ORIGIN[0], ORIGIN[1], px / ss, px / ss)
    img = np.empty((3, h * ss, w * ss), np.float32)
    for b in range(3):
        img[b] = WATER[b]
    if quay_rows:
        img[:, : quay_rows * ss, :] = np.array(QUAY, np.float32)[:, None, None]
    for g, colour in shapes:
        m = features.rasterize([(g, 1)], out_shape=(h * ss, w * ss), transform=tf_hi).astype(bool)
        for b in range(3):
            img[b][m] = colour[b]
    img = img.reshape(3, h, ss, w, ss).mean(axis=(2, 4))
    rng = np.random.default_rng(seed)
    for b in range(3):
        img[b] = ndimage.gaussian_filter(img[b], 0.6)
    if quay_rows:
        img[:, :quay_rows, :] += rng.normal(0, 5.0, (3, quay_rows, w))
    img += rng.normal(0, 1.5, img.shape)
    data = np.clip(np.round(img), 1, 255).astype(np.uint8)
    if bands == 1:
        data = data[:1]
    profile = dict(driver="GTiff", width=w, height=h, count=data.shape[0], dtype="uint8",
                   transform=from_origin(ORIGIN[0], ORIGIN[1], px, px))
    if crs:
        profile["crs"] = crs
    if nodata is not None:
        profile["nodata"] = nodata
        data[:] = nodata
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(data)
    return path


QUAY_Y = ORIGIN[1] - 80 * PX  # the quay edge (map y)


def port_shapes():
    """A docked ship against the quay, an anchored one, and a rafted pair at the quay."""
    docked = hull(150, 24, ORIGIN[0] + 300, QUAY_Y - 12, 90)  # alongside, bow east
    anchored = hull(110, 18, ORIGIN[0] + 700, ORIGIN[1] - 800, 30)
    inner = hull(160, 26, ORIGIN[0] + 750, QUAY_Y - 13, 270)
    outer = hull(110, 20, ORIGIN[0] + 760, QUAY_Y - 26 - 10, 270)
    return {
        "docked": (docked, (150, 45, 40)),
        "anchored": (anchored, (190, 190, 184)),
        "inner": (inner, (40, 70, 160)),
        "outer": (outer, (40, 115, 50)),
    }


def matches(ships, g, min_iou=0.3):
    out = []
    for s in ships:
        if s.polygon.intersects(g):
            iou = s.polygon.intersection(g).area / s.polygon.union(g).area
            if iou >= min_iou:
                out.append(s)
    return out


@pytest.fixture(scope="module")
def port(tmp_path_factory):
    d = tmp_path_factory.mktemp("port")
    shapes = port_shapes()
    tif = render(str(d / "port.tif"), list(shapes.values()))
    return tif, shapes


@pytest.fixture(scope="module")
def port_result(port):
    tif, _ = port
    return detect_ships(tif)


def test_finds_docked_anchored_and_rafted(port, port_result):
    _, shapes = port
    res = port_result
    assert res.units == "m"
    assert abs(res.pixel_size_m - PX) < 0.05
    for name, (g, _) in shapes.items():
        found = matches(res.ships, g)
        assert len(found) == 1, (name, [(s.length_m, s.polygon.wkt) for s in res.ships])
    assert len(res.ships) == 4, [(s.length_m, s.state) for s in res.ships]


def test_lengths_in_metres(port, port_result):
    _, shapes = port
    truth = {"docked": 150, "anchored": 110, "inner": 160, "outer": 110}
    for name, (g, _) in shapes.items():
        (s,) = matches(port_result.ships, g)
        assert abs(s.length_m - truth[name]) <= max(0.05 * truth[name], 1.5 * PX), (name, s.length_m)
        assert 0.4 * (g.area / truth[name]) < s.width_m < 2.0 * (g.area / truth[name]) + 2 * PX


def test_states_and_heading(port, port_result):
    _, shapes = port
    (docked,) = matches(port_result.ships, shapes["docked"][0])
    (anchored,) = matches(port_result.ships, shapes["anchored"][0])
    (outer,) = matches(port_result.ships, shapes["outer"][0])
    assert docked.state == "docked"
    assert outer.state == "docked"  # rafted to a docked ship
    assert anchored.state == "anchored"
    assert min(abs(anchored.heading_deg - 30), 180 - abs(anchored.heading_deg - 30)) < 6
    assert min(abs(docked.heading_deg - 90), 180 - abs(docked.heading_deg - 90)) < 6
    for s in port_result.ships:
        assert 0.0 <= s.score <= 1.0
        assert 0.0 <= s.heading_deg < 180.0


def test_pier_attribution(port):
    tif, shapes = port
    west = box(ORIGIN[0], QUAY_Y, ORIGIN[0] + 500, QUAY_Y + 40)  # quay face in front of the docked ship
    east = box(ORIGIN[0] + 600, QUAY_Y, ORIGIN[0] + 1080, QUAY_Y + 40)
    res = detect_ships(tif, piers=[(west, "West berth"), (east, "East berth")])
    (docked,) = matches(res.ships, shapes["docked"][0])
    (anchored,) = matches(res.ships, shapes["anchored"][0])
    (inner,) = matches(res.ships, shapes["inner"][0])
    assert docked.pier == "West berth" and docked.pier_distance_m is not None and docked.pier_distance_m < 10
    assert inner.pier == "East berth"
    assert anchored.pier is None and anchored.pier_distance_m is None


def _reproject(src_path, dst_path, crs):
    with rasterio.open(src_path) as src:
        tf, w, h = calculate_default_transform(src.crs, crs, src.width, src.height, *src.bounds)
        profile = src.profile.copy()
        profile.update(crs=crs, transform=tf, width=w, height=h)
        with rasterio.open(dst_path, "w", **profile) as dst:
            for b in range(1, src.count + 1):
                reproject(rasterio.band(src, b), rasterio.band(dst, b), resampling=Resampling.bilinear)
    return dst_path


def test_lengths_do_not_depend_on_the_crs(tmp_path):
    g = hull(180, 28, ORIGIN[0] + 540, ORIGIN[1] - 600, 60)
    utm = render(str(tmp_path / "utm.tif"), [(g, (190, 60, 50))], quay_rows=0)
    lengths = {}
    for crs in ("EPSG:32633", "EPSG:3857", "EPSG:4326"):
        path = utm if crs == "EPSG:32633" else _reproject(utm, str(tmp_path / f"{crs[5:]}.tif"), crs)
        res = detect_ships(path)
        assert len(res.ships) == 1, crs
        lengths[crs] = res.ships[0].length_m
        assert res.units == "m"
    assert abs(lengths["EPSG:32633"] - 180) < 0.05 * 180
    for crs in ("EPSG:3857", "EPSG:4326"):
        assert abs(lengths[crs] - lengths["EPSG:32633"]) < 0.04 * 180, lengths


def test_window_seam_no_double_count(tmp_path):
    # a long ship right across the boundary between the first and second block
    g = hull(240, 32, ORIGIN[0] + 128 * PX, ORIGIN[1] - 180 * PX, 80)
    tif = render(str(tmp_path / "seam.tif"), [(g, (200, 70, 60))], size=(300, 300), quay_rows=0)
    small = detect_ships(tif, block=128, max_length_m=300)
    whole = detect_ships(tif, block=4096, max_length_m=300)
    assert len(small.ships) == 1 and len(whole.ships) == 1
    assert abs(small.ships[0].length_m - 240) < 0.05 * 240
    assert abs(small.ships[0].length_m - whole.ships[0].length_m) < 1.0


def test_progress_and_cancel(port):
    tif, _ = port
    seen = []
    detect_ships(tif, progress=seen.append)
    assert seen and seen[-1] == pytest.approx(1.0)
    assert all(b >= a - 1e-9 for a, b in zip(seen, seen[1:]))
    with pytest.raises(Cancelled):
        detect_ships(tif, cancel=lambda: True)


def test_aoi(port):
    tif, shapes = port
    g = shapes["anchored"][0]
    res = detect_ships(tif, aoi=[g.buffer(100)])
    assert len(res.ships) == 1 and matches(res.ships, g)


def test_aoi_processes_only_the_blocks_around_it(tmp_path, monkeypatch):
    # 600 x 600 px at 3 m: nine blocks of 256 working pixels (halo 56) without an area of interest;
    # one ship at anchor in the south-east, another in the north-west
    from quayside.core import ships as ships_mod

    se = hull(120, 20, ORIGIN[0] + 1500, ORIGIN[1] - 1450, 60)
    nw = hull(130, 22, ORIGIN[0] + 300, ORIGIN[1] - 700, 20)
    tif = render(str(tmp_path / "two.tif"), [(se, (200, 70, 60)), (nw, (190, 190, 184))], size=(600, 600),
                 quay_rows=60)
    seen = []
    real = ships_mod._block_candidates

    def spy(x, valid, *a, **k):
        seen.append(valid.shape)
        return real(x, valid, *a, **k)

    monkeypatch.setattr(ships_mod, "_block_candidates", spy)
    whole = detect_ships(tif, block=256, max_length_m=200)
    whole_px = sum(h * w for h, w in seen)
    assert len(seen) == 9 and whole_px == (312 + 368 + 144) ** 2
    seen.clear()
    aoi = se.buffer(150)
    part = detect_ships(tif, block=256, max_length_m=200, aoi=[aoi])
    # one block: the area's bounding box (about 120 x 120 px) and the halo (56 px) on each side,
    # clipped to the raster's edge
    x0, y0, x1, y1 = aoi.bounds
    c0, c1 = int((x0 - ORIGIN[0]) // PX), int(-(-(x1 - ORIGIN[0]) // PX))
    r0, r1 = int((ORIGIN[1] - y1) // PX), int(-(-(ORIGIN[1] - y0) // PX))
    assert seen == [(min(600, r1 + 56) - (r0 - 56), min(600, c1 + 56) - (c0 - 56))]
    assert sum(h * w for h, w in seen) < 0.4 * whole_px
    # the same ship as without the area of interest, and only it
    assert len(part.ships) == 1 and matches(part.ships, se, 0.6)
    same = matches(whole.ships, se, 0.6)
    assert len(same) == 1 and len(matches(whole.ships, nw, 0.5)) == 1
    assert part.ships[0].length_m == pytest.approx(same[0].length_m, abs=3.0)
    assert part.ships[0].length_m == pytest.approx(120, rel=0.1)
    assert part.ships[0].polygon.intersection(same[0].polygon).area > 0.9 * same[0].polygon.area


def test_aoi_windows_tile_the_box_when_it_is_larger_than_a_block():
    from quayside.core.ships import _aoi_windows
    from rasterio.transform import from_origin as fo

    tf = fo(0.0, 1000.0, 1.0, 1.0)  # a 1000 x 1000 grid of 1 m pixels
    small = _aoi_windows(1000, 1000, 128, 32, box(100, 700, 150, 760), tf)
    assert [(tuple(c.flatten()), tuple(r.flatten())) for c, r in small] == \
        [((100, 240, 50, 60), (68, 208, 114, 124))]
    # two pieces far apart: their box is larger than a block, so it is tiled as the raster is, and the
    # blocks far from both pieces are left out
    big = _aoi_windows(1000, 1000, 128, 32, box(0, 990, 10, 1000).union(box(500, 500, 510, 510)), tf)
    cores = [tuple(c.flatten()) for c, _ in big]
    assert cores == [(0, 0, 128, 128), (384, 384, 126, 116)]
    assert [tuple(r.flatten()) for _, r in big] == [(0, 0, 160, 160), (352, 352, 190, 180)]


def test_given_water_mask(port, tmp_path):
    tif, shapes = port
    water = box(ORIGIN[0], ORIGIN[1] - 360 * PX, ORIGIN[0] + 360 * PX, QUAY_Y)
    res = detect_ships(tif, water_geoms=[water])
    assert len(matches(res.ships, shapes["anchored"][0])) == 1
    assert len(matches(res.ships, shapes["docked"][0])) == 1
    # the same water as a 0/1 raster on a coarser grid of the same CRS
    mask = str(tmp_path / "water.tif")
    with rasterio.open(tif) as src:
        tf = src.transform * src.transform.scale(2, 2)
        shape = (src.height // 2, src.width // 2)
        data = features.rasterize([(water, 1)], out_shape=shape, transform=tf, fill=0, dtype="uint8")
        with rasterio.open(mask, "w", driver="GTiff", width=shape[1], height=shape[0], count=1, dtype="uint8",
                           crs=src.crs, transform=tf, nodata=255) as dst:
            dst.write(data, 1)
    res2 = detect_ships(tif, water_path=mask)
    assert len(matches(res2.ships, shapes["anchored"][0])) == 1
    assert len(matches(res2.ships, shapes["docked"][0])) == 1


def test_no_crs_gives_pixels(tmp_path):
    g = hull(150, 24, ORIGIN[0] + 540, ORIGIN[1] - 600, 0)
    tif = render(str(tmp_path / "nocrs.tif"), [(g, (200, 70, 60))], quay_rows=0, crs=None)
    res = detect_ships(tif, min_length_m=5, max_length_m=150)
    assert res.units == "px"
    assert any("CRS" in n for n in res.notes)
    assert len(res.ships) == 1
    assert abs(res.ships[0].length_m - 150 / PX) < 0.06 * 150 / PX


def test_no_georeferencing_at_all_gives_pixels(tmp_path):
    # no CRS and no geotransform (a plain picture): rasterio's identity transform has rows
    # running up the y axis, where reading the computed water mask over a block once failed
    # ("Bounds and transform are inconsistent")
    g = hull(150, 24, ORIGIN[0] + 540, ORIGIN[1] - 600, 0)
    tif = render(str(tmp_path / "geo.tif"), [(g, (200, 70, 60))], quay_rows=0, crs=None)
    with rasterio.open(tif) as src:
        data, profile = src.read(), src.profile
    profile.pop("transform")
    plain = str(tmp_path / "plain.tif")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", rasterio.errors.NotGeoreferencedWarning)
        with rasterio.open(plain, "w", **profile) as dst:
            dst.write(data)
        res = detect_ships(plain, min_length_m=5, max_length_m=150)
    assert res.units == "px"
    assert len(res.ships) == 1
    assert abs(res.ships[0].length_m - 150 / PX) < 0.06 * 150 / PX


@pytest.mark.parametrize("case", ["one_band", "all_nodata", "aoi_outside", "min_gt_max", "sensitivity"])
def test_bad_input(tmp_path, case):
    kw = {}
    if case == "one_band":
        tif = render(str(tmp_path / "a.tif"), [], bands=1)
    elif case == "all_nodata":
        tif = render(str(tmp_path / "a.tif"), [], nodata=0)
    else:
        tif = render(str(tmp_path / "a.tif"), [])
        if case == "aoi_outside":
            kw["aoi"] = [box(0, 0, 10, 10)]
        elif case == "sensitivity":
            kw["sensitivity"] = 1.5
        else:
            kw.update(min_length_m=200, max_length_m=100)
    with pytest.raises(InputError) as err:
        detect_ships(tif, **kw)
    msg = str(err.value)
    assert len(msg) > 30 and msg.endswith(".")


@pytest.mark.skipif(os.environ.get("QUAYSIDE_FAST") == "1", reason="synthetic port skipped")
def test_synthetic_port_10m(synth_scene):
    """The project's synthetic port at 10 m: most ships of 5 px or more are found, the docked
    ones at the right pier when the piers are given."""
    import json

    from shapely.geometry import shape

    tif, truth_dir = synth_scene(10.0, 512)
    with open(os.path.join(truth_dir, "ships_before.geojson")) as fh:
        truth = [(shape(f["geometry"]), f["properties"]) for f in json.load(fh)["features"]]
    piers = []
    for layer in ("piers_before.geojson", "quays_before.geojson"):
        path = os.path.join(truth_dir, layer)
        if os.path.exists(path):
            with open(path) as fh:
                piers += [(shape(f["geometry"]), f["properties"]["name"]) for f in json.load(fh)["features"]]
    res = detect_ships(tif, piers=piers)
    big = [(g, p) for g, p in truth if p["length_m"] >= 50]
    found = [(g, p) for g, p in big if any(s.polygon.intersects(g) and
                                            s.polygon.intersection(g).area / s.polygon.union(g).area >= 0.25
                                            for s in res.ships)]
    assert len(found) >= 0.6 * len(big), (len(found), len(big))
    near = 0
    for s in res.ships:
        if any(s.polygon.intersects(g) for g, _ in truth):
            near += 1
    assert near >= 0.6 * len(res.ships)


def test_ships_anchored_in_a_line_are_not_wakes(tmp_path):
    # two anchored ships one behind the other on the same axis, the second dimmer: with no
    # disturbed water behind the first, the second is not a piece of its wake
    lead = hull(150, 24, ORIGIN[0] + 300, ORIGIN[1] - 540, 90)
    second = hull(120, 20, ORIGIN[0] + 570, ORIGIN[1] - 540, 90)
    tif = render(str(tmp_path / "line.tif"), [(lead, (215, 215, 210)), (second, (120, 60, 50))],
                 size=(360, 360), quay_rows=0)
    res = detect_ships(tif)
    assert len(matches(res.ships, lead)) == 1 and len(matches(res.ships, second)) == 1, \
        [(s.length_m, s.state) for s in res.ships]
    assert len(res.ships) == 2
    assert all(s.state == "anchored" for s in res.ships)


def test_coarse_anchored_ship_is_not_a_jetty(tmp_path):
    # at 10 m a 200 m ship is 20 x 3 pixels: its blurred ends, trimmed from the hypothesis,
    # must not count as land it touches (which would make it a jetty joined at one end)
    px = 10.0
    g = hull(200, 30, ORIGIN[0] + 1500, ORIGIN[1] - 1500, 130)
    tif = render(str(tmp_path / "coarse.tif"), [(g, (180, 60, 45))], size=(300, 300), quay_rows=0, px=px)
    res = detect_ships(tif)
    (s,) = matches(res.ships, g, 0.25)
    assert s.state == "anchored"
    assert abs(s.length_m - 200) <= max(0.03 * 200, px) + px, s.length_m


def wake_shapes(cx, cy, heading_deg, hull_len, beam, wake_len, start=0.75, steps=12):
    """A bright, tapering turbulent wake behind a hull's stern, as strips of foam whose
    brightness falls from ``start`` (share of foam over water) to nothing over ``wake_len``."""
    out = []
    seg = wake_len / steps
    for i in range(steps):
        a = hull_len / 2 + i * seg
        half = 0.4 * beam * (1 + 0.8 * i / steps)
        strip = Polygon([(-half, -a - seg - 0.5), (half, -a - seg - 0.5), (half, -a), (-half, -a)])
        strip = affinity.translate(affinity.rotate(strip, -heading_deg, origin=(0, 0)), cx, cy)
        share = start * (1 - i / steps) ** 1.5
        out.append((strip, tuple(int(w + (225 - w) * share) for w in WATER)))
    return out


def test_underway_ship_is_measured_without_its_wake(tmp_path):
    # a boat under way: the foam right behind the stern is nearly as bright as the hull, so
    # the contrast mask runs on into the wake; the hull ends where the plateau stops and the
    # decaying ramp of the wake starts
    cx, cy, hd = ORIGIN[0] + 540, ORIGIN[1] - 540, 60
    boat = hull(60, 12, cx, cy, hd)
    wake = wake_shapes(cx, cy, hd, 60, 12, 120)
    tif = render(str(tmp_path / "underway.tif"), wake + [(boat, (205, 205, 200))], quay_rows=0)
    res = detect_ships(tif)
    assert len(res.ships) == 1, [(s.length_m, s.state) for s in res.ships]
    (s,) = res.ships
    assert abs(s.length_m - 60) <= 2 * PX, s.length_m
    assert s.state == "underway"
    assert s.polygon.centroid.distance(boat.centroid) <= 2 * PX


def test_crane_boom_across_a_berth_is_not_a_ship(tmp_path):
    # a ship-to-shore crane's boom reaches from the quay across the ship it works and out over
    # the water: the part beyond the hull is a bright slim body free in the water, square to
    # the berth face and not touching it; a vessel lies alongside the face instead
    px = 1.0
    face_y = ORIGIN[1] - 80 * px
    ship = hull(120, 20, ORIGIN[0] + 180, face_y - 11, 90)
    boom = box(ORIGIN[0] + 150, face_y - 11 - 10 - 24, ORIGIN[0] + 156, face_y + 25)
    tif = render(str(tmp_path / "boom.tif"), [(ship, (150, 45, 40)), (boom, (235, 205, 40))], px=px)
    quay = box(ORIGIN[0] - 10, face_y, ORIGIN[0] + 370, ORIGIN[1] + 10)
    res = detect_ships(tif, piers=[(quay, "Quay A")])
    assert len(matches(res.ships, ship)) == 1, [(s.length_m, s.state) for s in res.ships]
    assert len(res.ships) == 1, [(round(s.length_m), round(s.width_m), s.state, s.pier_distance_m)
                                 for s in res.ships]
    assert res.ships[0].pier == "Quay A" and res.ships[0].state == "docked"


def test_a_boom_square_to_the_berth_beside_a_ship_alongside_is_dropped_a_boat_stern_to_is_not():
    # within the docking distance of a quay, a body square to its face is a vessel moored
    # stern-to -- unless it lies right beside a hull moored alongside that quay: there it is the
    # boom of the crane working the ship, reaching out from the quay past the stern
    from quayside.core.ships import Ship, _drop_crossing
    from rasterio.crs import CRS

    x0, y0 = ORIGIN
    quay = box(x0, y0 - 50, x0 + 300, y0)  # face along x at y0, water to the north

    def body(xa, ya, xb, yb, heading):
        g = box(x0 + xa, y0 + ya, x0 + xb, y0 + yb)
        length, width = max(xb - xa, yb - ya), min(xb - xa, yb - ya)
        return Ship(g, length, width, heading, g.area, 0.9, "docked", "Quay A", ya)

    ship = body(100, 2, 220, 22, 90.0)  # 120 m alongside, 2 m off the face
    boom = body(224, 0.5, 229, 32.5, 0.0)  # 32 x 5 m, square to the face, 4 m past the stern
    boat = body(20, 0.5, 25, 12.5, 0.0)  # 12 m moored stern-to, nothing alongside near it
    kept = _drop_crossing([ship, boom, boat], [(quay, "Quay A")], CRS.from_epsg(32633), 0.5, 1.0)
    assert [k.length_m for k in kept] == [120, 12]
    # the same body with no ship alongside the quay is a boat moored stern-to
    assert [k.length_m for k in _drop_crossing([boom], [(quay, "Quay A")], CRS.from_epsg(32633), 0.5, 1.0)] == [32]


def test_a_trail_cut_off_as_wake_must_have_the_colour_of_foam():
    # foam brightens the water without changing its hue: its contrast is brightness. A dark
    # green hull carrying coloured boxes behind a white deckhouse is no wake, however its
    # contrast profile falls away from the deckhouse
    from types import SimpleNamespace

    from quayside.core.ships import FOAM_HUE_MAX, _foam_coloured

    d = np.full((4, 10), 12.0, np.float32)
    zb = np.empty_like(d)
    zb[0] = 12.0  # the white deckhouse: all brightness
    zb[1] = 11.9  # foam: brightness, a little hue (share 0.13)
    zb[2] = 7.0  # the green hull and its boxes: over half the contrast is hue
    zb[3] = 6.0  # a hull painted as colourfully as that
    ctx = SimpleNamespace(d=d, zb=zb)
    cols = np.arange(10)

    def row(k):
        return np.full(10, k), cols

    share = float(np.sqrt(12.0 ** 2 - 7.0 ** 2) / 12.0)
    assert share > FOAM_HUE_MAX
    assert _foam_coloured(ctx, *row(1), *row(0))  # foam behind a white deckhouse
    assert not _foam_coloured(ctx, *row(2), *row(0))  # a coloured hull behind it
    assert _foam_coloured(ctx, *row(2), *row(3))  # the blurred end of a coloured hull: as coloured


def test_the_stern_of_a_dark_hull_under_a_white_deckhouse_before_a_brighter_wake():
    # the contrast along a boat under way at 1 m, sampled every 0.25 m and blurred by the sensor
    from quayside.core.ships_wake import wake_cut
    from scipy import ndimage

    t = np.arange(0.0, 110.0, 0.25)

    def profile(parts, foam=0.0):
        """Levels over [a, b) metres, then foam fading from ``foam`` behind the stern at 35 m."""
        prof = np.full(t.shape, 1.0)
        for a, b, level in parts:
            prof[(t >= a) & (t < b)] = level
        wk = (t >= 35) & (t < 100)
        if foam:
            prof[wk] = foam * np.exp(-(t[wk] - 35.0) / 25.0) + 2.0
        return ndimage.gaussian_filter1d(prof, 0.6 / 0.25)

    # a dark bow (10), a white deckhouse (48), the dark hull (8), then white foam (39)
    cut = wake_cut(t, profile([(2, 7, 10.0), (7, 15, 48.0), (15, 35, 8.0)], foam=39.0), 1, 0.0, 100.0, 1.0, 13.5)
    assert cut is not None and abs(cut - 35.0) <= 1.0, cut
    # the usual case, a bright hull before a dimmer wake, is cut at its stern as well
    cut = wake_cut(t, profile([(2, 35, 40.0)], foam=25.0), 1, 0.0, 100.0, 1.0, 13.5)
    assert cut is not None and abs(cut - 35.0) <= 1.0, cut
    # a hull with no wake (a flat deck behind its deckhouse) is not cut
    assert wake_cut(t, profile([(2, 7, 8.0), (7, 15, 48.0), (15, 35, 8.0)]), 1, 0.0, 40.0, 1.0, 13.5) is None


def test_beach_between_wood_and_water_is_not_a_ship(tmp_path):
    # a wavy shore: a wood, a pale beach a few metres wide, the water. Pieces of the beach
    # stand out from both the wood and the water and look like hulls lying against the land;
    # vessels are moored against quays, piers and other vessels, never against vegetation
    xs = np.linspace(ORIGIN[0] - 10, ORIGIN[0] + 1090, 120)
    shore = ORIGIN[1] - 300 + 25 * np.sin((xs - ORIGIN[0]) / 70.0) + 12 * np.sin((xs - ORIGIN[0]) / 23.0)
    top = [(ORIGIN[0] + 1090, ORIGIN[1] + 10), (ORIGIN[0] - 10, ORIGIN[1] + 10)]
    beach = Polygon(list(zip(xs, shore - 9)) + top)
    wood = Polygon(list(zip(xs, shore)) + top)
    boat = hull(90, 16, ORIGIN[0] + 540, ORIGIN[1] - 800, 40)
    tif = render(str(tmp_path / "shore.tif"), [(beach, (196, 182, 150)), (wood, (34, 62, 28)),
                                               (boat, (190, 190, 184))], quay_rows=0)
    res = detect_ships(tif)
    assert len(matches(res.ships, boat)) == 1
    assert len(res.ships) == 1, [(round(s.length_m), round(s.width_m), s.state) for s in res.ships]


def test_ships_nose_to_tail_along_a_pier_at_10m(tmp_path):
    # at 10 m the gap between bow and stern of two ships moored one behind the other is a
    # pixel or less: the land mask joins them into one body too long and slim for a hull,
    # which is cut across its axis where the colour steps or the contrast dips
    px = 10.0
    face_y = ORIGIN[1] - 40 * px
    pier = box(ORIGIN[0] + 1500, face_y - 700, ORIGIN[0] + 1525, face_y + 5)
    first = hull(230, 32, ORIGIN[0] + 1500 - 17, face_y - 20 - 115, 180)
    second = hull(200, 30, ORIGIN[0] + 1500 - 16, face_y - 20 - 230 - 12 - 100, 180)
    tif = render(str(tmp_path / "line10.tif"), [(pier, QUAY), (first, (160, 60, 45)), (second, (60, 110, 70))],
                 size=(200, 300), px=px, quay_rows=40)
    res = detect_ships(tif, piers=[(pier, "Pier 1")])
    for g, length in ((first, 230), (second, 200)):
        found = matches(res.ships, g, 0.25)
        assert len(found) == 1, [(round(s.length_m), round(s.width_m), s.state) for s in res.ships]
        assert abs(found[0].length_m - length) <= 0.1 * length + px, found[0].length_m
        assert found[0].pier == "Pier 1"


def test_sliver_along_a_given_quay_face_is_not_a_ship(tmp_path):
    # a pale strip a couple of metres wide along the face of a given quay (a fender line, a
    # kerb seen past the edge, mixed pixels): slim, and lying within a pixel or two of the
    # quay's outline, where a moored hull reaches a whole beam out from the face
    px = 1.0
    face_y = ORIGIN[1] - 80 * px
    strip = box(ORIGIN[0] + 60, face_y - 2.2, ORIGIN[0] + 90, face_y + 0.3)
    ship = hull(120, 20, ORIGIN[0] + 230, face_y - 11, 90)
    tif = render(str(tmp_path / "sliver.tif"), [(strip, (215, 212, 200)), (ship, (150, 45, 40))], px=px)
    quay = box(ORIGIN[0] - 10, face_y, ORIGIN[0] + 370, ORIGIN[1] + 10)
    res = detect_ships(tif, piers=[(quay, "Quay A")])
    assert len(matches(res.ships, ship)) == 1, [(s.length_m, s.state) for s in res.ships]
    assert len(res.ships) == 1, [(round(s.length_m), round(s.width_m, 1), s.state) for s in res.ships]


def test_body_cut_lengthwise_by_the_image_edge_is_not_a_ship(tmp_path):
    # a bright structure lying along the bottom edge of the image: beyond the edge the ground
    # is unknown, and the border would pass for a quay it is moored against
    strip = box(ORIGIN[0] + 300, ORIGIN[1] - 360 * PX, ORIGIN[0] + 450, ORIGIN[1] - 360 * PX + 7)
    boat = hull(100, 18, ORIGIN[0] + 500, ORIGIN[1] - 500, 40)
    tif = render(str(tmp_path / "edge.tif"), [(strip, (200, 200, 190)), (boat, (190, 190, 184))], quay_rows=0)
    res = detect_ships(tif)
    assert len(matches(res.ships, boat)) == 1
    assert len(res.ships) == 1, [(round(s.length_m), round(s.width_m), s.state) for s in res.ships]


def test_short_blob_against_land_at_coarse_pixels_is_rejected():
    # at 10 m a docked body three pixels long has no resolved hull shape (a pier corner, a
    # crane leg); the same body anchored, or at 1 m, is judged on its other merits
    from quayside.core import ships as sh

    def feat(length):
        return dict(L=length, W=18.0, n=6.0, fill=0.9, elong=length / 18.0, run_cv=0.1, zb_mean=40.0,
                    zb_top=60.0, integ=200.0, water_ring=0.6, speckle=0.3, pier_side=0.0, rafted=0.0,
                    veg_side=0.0, source="runs", end_a=0.0, end_b=0.0, side_a=1.0, side_b=0.0)

    def params(px):
        return sh._Params(x_m=px, y_m=px, min_len=15.0, max_len=400.0, k_obj=4.5, n_dir=24,
                          floor=np.zeros(3))

    assert sh._score(feat(32.0), params(10.0)) == 0.0
    assert sh._score(feat(60.0), params(10.0)) > 0.0
    assert sh._score(feat(32.0), params(1.0)) > 0.0
    anchored = dict(feat(32.0), side_a=0.0)
    assert sh._score(anchored, params(10.0)) > 0.0


def test_no_side_by_side_cut_at_coarse_pixels(tmp_path, monkeypatch):
    # at 10 m two hulls side by side are 2-3 px each and the step between them is blurred
    # away: a wide body alongside is not cut into parallel strips or bumps (on real ports such
    # cuts split piers and quay rims); at 3 m it still is
    from quayside.core import ships as sh

    calls = []
    real = sh._split_parallel

    def spy(*a, **k):
        calls.append(a[-1].p.px)
        return real(*a, **k)

    monkeypatch.setattr(sh, "_split_parallel", spy)
    px = 10.0
    face_y = ORIGIN[1] - 40 * px
    inner = hull(250, 30, ORIGIN[0] + 900, face_y - 15, 90)
    outer = hull(250, 30, ORIGIN[0] + 900, face_y - 45, 90)
    tif = render(str(tmp_path / "raft10.tif"), [(inner, (200, 200, 195)), (outer, (150, 40, 35))],
                 size=(200, 200), px=px, quay_rows=40)
    res = detect_ships(tif)
    assert len(res.ships) >= 1
    assert not [v for v in calls if v > 5.0], calls
    # at 3 m the rafted pair of the hand-built port is still cut in two
    tif3 = render(str(tmp_path / "port3.tif"), list(port_shapes().values()))
    detect_ships(tif3)
    assert [v for v in calls if v <= 5.0]


def _ship_along_pier_at_10m(path, length, beam, axis_off_m, down_m, colour):
    """A 10 m image of an 800 m pier (given as PIERS) with a hull of ``length`` x ``beam`` m against its
    west face (its axis ``axis_off_m`` off the face), ``down_m`` below the quay: (detect_ships result,
    the hull)."""
    px = 10.0
    face_y = ORIGIN[1] - 40 * px
    pier = box(ORIGIN[0] + 1003, face_y - 800, ORIGIN[0] + 1028, face_y + 5)
    ship = hull(length, beam, ORIGIN[0] + 1003 - axis_off_m, face_y - down_m, 180)
    tif = render(str(path), [(pier, (205, 205, 198)), (ship, colour)], size=(200, 200), px=px, quay_rows=40)
    return detect_ships(tif, piers=[(pier, "Pier 1")]), ship


def _one_docked_at_pier_1(res, ship, length_m, rel_tol):
    """Exactly one detection matches ``ship``: its length within ``rel_tol`` + one 10 m pixel, docked at
    'Pier 1'."""
    found = matches(res.ships, ship, 0.25)
    assert len(found) == 1, [(round(s.length_m), round(s.width_m), s.state) for s in res.ships]
    assert abs(found[0].length_m - length_m) <= rel_tol * length_m + 10.0, found[0].length_m
    assert found[0].pier == "Pier 1" and found[0].state == "docked"


def test_ship_against_a_given_pier_at_10m_is_not_a_piece_of_it(tmp_path):
    # at 10 m a hull of 16 m beam is two pixels wide; moored against a given pier, the mixed
    # pixels of the pier's edge run on past its bow and stern in line with its inner column,
    # so half of each end band was 'land' and the ship passed for a piece of the pier. The
    # berth continues beyond the ends, the hull does not: the ends are judged on the outer
    # half of the beam
    res, ship = _ship_along_pier_at_10m(tmp_path / "pier10.tif", 130, 16, 9, 400, (60, 110, 70))
    _one_docked_at_pier_1(res, ship, 130, 0.10)


def test_ship_anchored_ahead_of_a_bow_is_not_its_wake(tmp_path):
    # a ship under way trails its wake behind the stern; a dimmer ship anchored in line ahead
    # of its bow lies in calm water, not in its wake
    cx, cy = ORIGIN[0] + 400, ORIGIN[1] - 600
    boat = hull(60, 12, cx, cy, 90)  # bow east, wake to the west
    wake = wake_shapes(cx, cy, 90, 60, 12, 120)
    ahead = hull(50, 12, cx + 150, cy + 6, 90)
    tif = render(str(tmp_path / "ahead.tif"), wake + [(boat, (205, 205, 200)), (ahead, (120, 60, 50))],
                 quay_rows=0)
    res = detect_ships(tif)
    assert len(matches(res.ships, boat)) == 1, [(round(s.length_m), s.state) for s in res.ships]
    assert len(matches(res.ships, ahead)) == 1, [(round(s.length_m), s.state) for s in res.ships]
    assert [s.state for s in matches(res.ships, boat)] == ["underway"]


def test_ship_trailing_a_long_wake_at_10m(tmp_path):
    # at 10 m the bright foam behind the stern joins the hull into one free body longer than
    # any ship, which only the wake cut finds; the foam cut off is not land the hull is
    # joined to at one end (which would make it a jetty)
    px = 10.0
    cx, cy, hd = ORIGIN[0] + 1400, ORIGIN[1] - 1000, 60
    boat = hull(160, 26, cx, cy, hd)
    wake = wake_shapes(cx, cy, hd, 160, 26, 600, start=0.8)
    tif = render(str(tmp_path / "longwake.tif"), wake + [(boat, (210, 210, 205))], size=(200, 200), px=px,
                 quay_rows=0)
    res = detect_ships(tif)
    found = matches(res.ships, boat, 0.25)
    assert len(found) == 1, [(round(s.length_m), round(s.width_m), s.state) for s in res.ships]
    assert abs(found[0].length_m - 160) <= 0.1 * 160 + px, found[0].length_m
    assert found[0].state == "underway"


def test_foam_on_the_kelvin_arms_beside_an_underway_ship_is_not_a_ship(tmp_path):
    # the bow wave of a ship under way spreads behind the bow at 19.5 deg (the Kelvin wedge):
    # patches of foam along its arms lie beside the hull and beside the turbulent wake, not
    # behind the stern, and are much dimmer than the hull
    import math

    cx, cy, hd = ORIGIN[0] + 500, ORIGIN[1] - 560, 90
    length, beam = 150, 24
    boat = hull(length, beam, cx, cy, hd)
    foam = []
    for dist in (60.0, 110.0, 160.0, 210.0):  # metres behind the bow
        for sgn in (1, -1):
            g = affinity.rotate(box(-5, -9, 5, 9), 19.5 * sgn)
            g = affinity.translate(g, sgn * math.tan(math.radians(19.5)) * dist, length / 2 - dist)
            g = affinity.translate(affinity.rotate(g, -hd, origin=(0, 0)), cx, cy)
            foam.append((g, tuple(int(w + (225 - w) * 0.22) for w in WATER)))
    wake = wake_shapes(cx, cy, hd, length, beam, 300)
    tif = render(str(tmp_path / "kelvin.tif"), wake + foam + [(boat, (215, 215, 210))], quay_rows=0)
    res = detect_ships(tif)
    assert len(matches(res.ships, boat)) == 1
    assert len(res.ships) == 1, [(round(s.length_m), round(s.width_m), s.state) for s in res.ships]
    assert res.ships[0].state == "underway"


def test_narrow_craft_rafted_against_part_of_a_hull_at_3m(tmp_path):
    # a fishing boat 5.5 m wide (under two pixels) rafted against the outer side of a ship
    # moored at the quay: it stands out of the ship's side line over part of its length
    # only, unlike the ship's own rim, and is a hull of its own
    ship = hull(150, 24, ORIGIN[0] + 400, QUAY_Y - 12, 90)
    boat = hull(22, 5.5, ORIGIN[0] + 430, QUAY_Y - 24 - 2.75 - 0.5, 90)
    tif = render(str(tmp_path / "bump.tif"), [(ship, (150, 45, 40)), (boat, (200, 200, 190))])
    res = detect_ships(tif)
    assert len(matches(res.ships, ship)) == 1, [(round(s.length_m), round(s.width_m)) for s in res.ships]
    found = matches(res.ships, boat, 0.25)
    assert len(found) == 1, [(round(s.length_m), round(s.width_m)) for s in res.ships]
    assert found[0].state == "docked"
    assert len(res.ships) == 2


def test_narrow_hull_along_a_given_pier_at_10m(tmp_path):
    # at 10 m a hull of 10 m beam is a pixel wide and blends into the mixed pixels of the
    # pier's edge: no opening keeps it. Along a given pier the edge is the known mix of pier
    # and water; the hull is what that mix does not explain, over a ship's length of the
    # face, while the rest of the face (an empty berth) is explained
    res, ship = _ship_along_pier_at_10m(tmp_path / "narrow10.tif", 90, 10, 5, 450, (150, 60, 45))
    _one_docked_at_pier_1(res, ship, 90, 0.15)
    # nothing along the empty stretches of the pier, nor on its other side
    assert len(res.ships) == 1, [(round(s.length_m), round(s.width_m), s.state) for s in res.ships]


def test_whole_hull_beats_its_brighter_fragments():
    # the contrast levels and strip cuts find pieces of a hull (a bright deck, the rim of one
    # side) with a sharper shape, hence a higher score, than the hull's own outline; the hull
    # that holds them, small and within its side lines, replaces them. A craft rafted against
    # part of the hull stands out of its side line and is kept
    from quayside.core import ships as sh

    def cand(mask, score, contact="alongside"):
        rows, cols = np.nonzero(mask)
        sl = (slice(rows.min(), rows.max() + 1), slice(cols.min(), cols.max() + 1))
        return sh._Cand(sl, mask[sl].copy(), score, rows.mean(), cols.mean(), 0.0, float(np.ptp(cols) + 1),
                        float(np.ptp(rows) + 1), 0.5, 0, dict(contact=contact))

    shape = (60, 120)
    whole = np.zeros(shape, bool)
    whole[20:34, 10:110] = True  # a hull 100 x 14 px, axis along the columns
    deck = np.zeros(shape, bool)
    deck[24:28, 30:50] = True
    rim = np.zeros(shape, bool)
    rim[31:34, 70:95] = True
    out = sh._suppress([cand(whole, 0.85), cand(deck, 0.9, "moored"), cand(rim, 0.88)], shape)
    assert len(out) == 1 and out[0].mask.sum() == whole.sum(), [(c.score, int(c.mask.sum())) for c in out]
    # a tug against part of the hull's side: the merged body does not replace it
    tug = np.zeros(shape, bool)
    tug[34:40, 40:60] = True
    merged = whole | tug
    out = sh._suppress([cand(merged, 0.85), cand(tug, 0.9, "anchored")], shape)
    assert [int(c.mask.sum()) for c in out] == [int(tug.sum())]


def test_foam_alongside_a_patch_of_its_wake_is_dropped():
    # a piece of a ship's turbulent wake lies against the rest of the foam, which (brighter
    # than the CFAR threshold) is 'land' to the contact tests: the piece passes as a craft
    # moored alongside. Land no larger than a ship, with no given pier, is not a quay: behind
    # the stern, along the track and dimmer than the ship, the piece is wake. A craft alongside
    # a quay (a large piece of land) in the same place is kept
    from quayside.core import ships as sh

    p = sh._Params(x_m=1.0, y_m=1.0, min_len=15.0, max_len=400.0, k_obj=4.5, n_dir=24,
                   floor=np.zeros(3, np.float32))

    def cand(cx, cy, length, width, zb_top, **feat):
        m = np.ones((3, 3), bool)
        return sh._Cand((slice(0, 3), slice(0, 3)), m, 0.8, cy, cx, 0.0, length, width, 0.5, 0,
                        dict(zb_top=zb_top, **feat))

    # under way to the east (+x), the wake to the west (wake_side -1)
    ship = cand(300.0, 100.0, 100.0, 20.0, 50.0, contact="anchored", wake=0.6, wake_side=-1)
    foam = cand(190.0, 102.0, 16.0, 4.0, 12.0, contact="alongside", pier_side=0.0, side_land_m2=1300.0)
    out = sh._drop_wakes([ship, foam], p)
    assert [id(c) for c in out] == [id(ship)], [(c.cx, c.feat.get("contact")) for c in out]
    boat = cand(190.0, 102.0, 16.0, 4.0, 12.0, contact="alongside", pier_side=0.0, side_land_m2=5e5)
    assert [id(c) for c in sh._drop_wakes([ship, boat], p)] == [id(ship), id(boat)]
    at_pier = cand(190.0, 102.0, 16.0, 4.0, 12.0, contact="alongside", pier_side=1.0, side_land_m2=1300.0)
    assert [id(c) for c in sh._drop_wakes([ship, at_pier], p)] == [id(ship), id(at_pier)]


@pytest.mark.parametrize("strip, n_ships", [((40, 4, (60, 80, 70)), 1), ((24, 6, (200, 200, 190)), 2)])
def test_slender_strip_along_part_of_a_hull_is_its_rim_but_a_stubby_craft_is_a_boat(tmp_path, strip, n_ships):
    # at 1 m a pale strip 40 m x 4 m along part of a ship's side (its rim, its shadow, foam
    # along it) split off by the brightness levels is no craft: craft alongside part of a hull
    # (tugs, launches, barges) are stubby; a 24 m x 6 m launch there is a boat of its own
    length, width, colour = strip
    ship = hull(200, 28, ORIGIN[0] + 250, ORIGIN[1] - 200, 90)
    side = affinity.translate(box(-length / 2, -width / 2, length / 2, width / 2),
                              ORIGIN[0] + 270, ORIGIN[1] - 200 - 14 - width / 2 - 0.3)
    tif = render(str(tmp_path / "rim.tif"), [(ship, (40, 110, 60)), (side, colour)], size=(400, 500), px=1.0,
                 quay_rows=0)
    res = detect_ships(tif)
    assert len(matches(res.ships, ship)) == 1
    assert len(res.ships) == n_ships, [(round(s.length_m), round(s.width_m), s.state) for s in res.ships]


def test_strips_of_a_beach_are_not_ships_where_the_berths_are_given(tmp_path):
    # at 1 m a sand beach with a darker wet edge between grass and the water: strips cut off
    # its edge look like hulls lying against land. With the berths given (a quay here), a
    # strip split off land where no berth was drawn is the land's own rim
    xs = np.linspace(ORIGIN[0] - 10, ORIGIN[0] + 410, 80)
    shore = ORIGIN[1] - 150 - 0.08 * (xs - ORIGIN[0])
    top = [(ORIGIN[0] + 410, ORIGIN[1] + 10), (ORIGIN[0] - 10, ORIGIN[1] + 10)]
    wet = Polygon(list(zip(xs, shore - 4.5)) + top)
    beach = Polygon(list(zip(xs, shore)) + top)
    grass = Polygon(list(zip(xs, shore + 20)) + top)
    quay = box(ORIGIN[0] + 300, ORIGIN[1] - 400, ORIGIN[0] + 420, ORIGIN[1] - 300)
    boat = hull(60, 12, ORIGIN[0] + 240, ORIGIN[1] - 350, 90)
    tif = render(str(tmp_path / "beach.tif"), [(wet, (150, 140, 115)), (beach, (196, 182, 150)),
                                               (grass, (60, 90, 40)), (quay, QUAY), (boat, (190, 60, 50))],
                 size=(450, 420), px=1.0, quay_rows=0)
    res = detect_ships(tif, piers=[(quay, "Quay")])
    assert len(matches(res.ships, boat)) == 1
    assert len(res.ships) == 1, [(round(s.length_m), round(s.width_m), s.state) for s in res.ships]


def test_free_boat_measured_under_the_minimum_length_is_not_reported(tmp_path):
    # at 1 m a 13 m boat passes the hypotheses' 1.5 px tolerance (its blurred outline) but is
    # measured at about 12 m: with the default 15 m minimum it is not reported, with 8 m it is;
    # the 24 m boat beside it is reported either way
    small = hull(13.0, 4.0, ORIGIN[0] + 100, ORIGIN[1] - 100, 60)
    big = hull(24.0, 6.0, ORIGIN[0] + 60, ORIGIN[1] - 40, 120)
    tif = render(str(tmp_path / "free.tif"), [(small, (200, 200, 195)), (big, (200, 200, 195))],
                 size=(200, 200), quay_rows=0, px=1.0)
    res = detect_ships(tif)
    assert len(matches(res.ships, big)) == 1
    assert not matches(res.ships, small, 0.2), [(s.length_m, s.state) for s in res.ships]
    assert len(res.ships) == 1
    res8 = detect_ships(tif, min_length_m=8.0)
    (s,) = matches(res8.ships, small)
    assert abs(s.length_m - 13.0) <= 2.0, s.length_m
    assert len(matches(res8.ships, big)) == 1


def test_reported_lengths_honour_the_limits_asked_for():
    from quayside.core.ships import Ship, _within_lengths

    def ship(length, state):
        return Ship(box(0, 0, length, 10), length, 10.0, 0.0, 10.0 * length, 0.8, state)

    ships = [ship(12.0, "anchored"), ship(12.0, "docked"), ship(13.6, "underway"), ship(150.0, "docked"),
             ship(176.0, "docked"), ship(176.0, "anchored")]
    ships.insert(1, ship(12.0, "underway"))
    kept = _within_lengths(ships, 15.0, 170.0, 1.5)
    # at 1 m an anchored 12 m body is under 15 - 1.5 (the docked one and the one under way, whose
    # wake cut may have shortened it, stay); 176 m is over 170 + 1.5
    assert [(s.length_m, s.state) for s in kept] == [(12.0, "underway"), (12.0, "docked"), (13.6, "underway"),
                                                     (150.0, "docked")]


def test_notes_name_the_bands_used(port_result):
    assert "Bands: red 1, green 2, blue 3 (the NIR band, when there is one, only for the computed water mask)." \
        in port_result.notes


def test_docked_pieces_end_to_end_are_one_hull_cut_across():
    # a container ship split by a crane's boom into a 55 m piece and its 21 x 13 m bow, 3 m
    # apart on one line at one pier, is one hull; ships moored nose to tail 12 m apart, pieces
    # at different piers, and a join too slim for a hull stay apart
    from quayside.core.ships import JOIN_GAP_M, Ship, _join_split_hulls
    from rasterio.crs import CRS

    crs = CRS.from_epsg(32633)
    x0, y0 = ORIGIN[0] + 100, ORIGIN[1] - 300

    def docked(xa, xb, beam, pier="Quay 3", yc=y0):
        return Ship(box(xa, yc - beam / 2, xb, yc + beam / 2), xb - xa, beam, 90.0, (xb - xa) * beam, 0.8,
                    "docked", pier, 5.0)

    main, bow = docked(x0, x0 + 55, 11), docked(x0 + 58, x0 + 79, 13.5)
    (one,) = _join_split_hulls([main, bow], JOIN_GAP_M, 400.0, crs)
    assert one.length_m == pytest.approx(79, abs=1.0) and one.state == "docked" and one.pier == "Quay 3"
    apart = [docked(x0, x0 + 55, 11), docked(x0 + 67, x0 + 120, 11)]
    assert len(_join_split_hulls(apart, JOIN_GAP_M, 400.0, crs)) == 2
    other_pier = [docked(x0, x0 + 55, 11), docked(x0 + 58, x0 + 79, 13.5, pier="Quay 4")]
    assert len(_join_split_hulls(other_pier, JOIN_GAP_M, 400.0, crs)) == 2
    slim = [docked(x0, x0 + 60, 6), docked(x0 + 62, x0 + 122, 6)]  # 122 x 6 m: too slim for one hull
    assert len(_join_split_hulls(slim, JOIN_GAP_M, 400.0, crs)) == 2
    beside = [docked(x0, x0 + 55, 11), docked(x0 + 58, x0 + 79, 11, yc=y0 + 12)]  # a beam off the line
    assert len(_join_split_hulls(beside, JOIN_GAP_M, 400.0, crs)) == 2


def test_a_strip_of_box_rows_a_third_of_the_hull_is_a_fragment_at_fine_pixels_only():
    # at 1 m a strip of a container ship's box rows split off along a hatch line can hold a
    # third of the hull and score higher than the hull's own outline; it is a piece of the
    # hull there. At 3 m a body a third of a merge is as often a rafted partner: kept apart
    from quayside.core import ships as sh

    def cand(mask, score):
        rows, cols = np.nonzero(mask)
        sl = (slice(rows.min(), rows.max() + 1), slice(cols.min(), cols.max() + 1))
        return sh._Cand(sl, mask[sl].copy(), score, rows.mean(), cols.mean(), 0.0, float(np.ptp(cols) + 1),
                        float(np.ptp(rows) + 1), 0.5, 0, dict(contact="alongside"))

    shape = (60, 140)
    whole = np.zeros(shape, bool)
    whole[20:50, 10:130] = True  # a hull 120 x 30 px
    strip = np.zeros(shape, bool)
    strip[22:32, 15:125] = True  # box rows along one side: 31 % of the hull
    assert 0.25 < strip.sum() / whole.sum() < 0.4
    p = sh._Params(x_m=1.0, y_m=1.0, min_len=15.0, max_len=400.0, k_obj=4.5, n_dir=24, floor=np.zeros(3))
    out = sh._suppress([cand(whole, 0.78), cand(strip, 0.79)], shape, p)
    assert [int(c.mask.sum()) for c in out] == [int(whole.sum())]
    p3 = sh._Params(x_m=3.0, y_m=3.0, min_len=15.0, max_len=400.0, k_obj=4.5, n_dir=24, floor=np.zeros(3))
    out = sh._suppress([cand(whole, 0.78), cand(strip, 0.79)], shape, p3)
    assert [int(c.mask.sum()) for c in out] == [int(strip.sum())]


def test_strips_of_a_wharf_at_10m_are_not_ships_but_ships_at_a_jetty_are(tmp_path, monkeypatch):
    # at 10 m, without piers given, the runs cut the rims of a wharf 300 m wide into strips of a
    # hull's size lying against land; the quay a ship lies alongside runs on past its ends, the
    # wharf's rim turns away from them. Two ships moored on either side of a narrow jetty (one
    # reaching past its tip) lie against the jetty and each other, with water beyond: kept.
    from quayside.core import ships as sh

    px = 10.0
    face_y = ORIGIN[1] - 40 * px
    wharf = box(ORIGIN[0] + 500, face_y - 500, ORIGIN[0] + 800, face_y + 5)
    jetty = box(ORIGIN[0] + 1400, face_y - 300, ORIGIN[0] + 1425, face_y + 5)
    quay_ship = hull(200, 30, ORIGIN[0] + 2300, face_y - 16, 90)
    past_tip = hull(220, 32, ORIGIN[0] + 1400 - 17, face_y - 10 - 230, 180)
    inner = hull(150, 24, ORIGIN[0] + 1425 + 13, face_y - 30 - 75, 0)
    tif = render(str(tmp_path / "wharf10.tif"),
                 [(wharf, QUAY), (jetty, QUAY), (quay_ship, (160, 60, 45)), (past_tip, (60, 110, 70)),
                  (inner, (170, 170, 165))], size=(200, 300), px=px, quay_rows=40)
    res = detect_ships(tif)
    for g in (quay_ship, past_tip, inner):
        assert len(matches(res.ships, g, 0.25)) == 1, [(round(s.length_m), s.state) for s in res.ships]
    assert len(res.ships) == 3, [(round(s.length_m), round(s.width_m), s.state) for s in res.ships]
    # without the test at the ends the wharf's rims pass for ships
    monkeypatch.setattr(sh, "SHOULDER_MIN", 0.0)
    assert len(detect_ships(tif).ships) > 3


def test_a_square_outline_several_pixels_long_is_not_a_hull():
    # the measured outline of a hull is at least about twice as long as wide; a square one
    # resolved over several pixels is a portal or a stack on the quay's edge, while a boat two
    # or three pixels long is blurred into a round blob and stays
    from quayside.core import ships as sh

    def ship(length, width):
        return sh.Ship(polygon=box(0, 0, length, width), length_m=length, width_m=width, heading_deg=90.0,
                       area_m2=length * width, score=0.8, state="docked")

    px = 3.0
    kept = sh._hull_shaped([ship(31.1, 30.8), ship(19.5, 18.4), ship(10.9, 9.6), ship(30.0, 11.0), ship(24.0, 19.5)],
                           sh.SQUARE_MIN_PX * px)
    assert [(s.length_m, s.width_m) for s in kept] == [(10.9, 9.6), (30.0, 11.0), (24.0, 19.5)]
