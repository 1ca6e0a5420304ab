# ruff: noqa: N803, N806, E741
"""Synthetic port generator: determinism, seams, truth consistency, radiometry, shift, GSDs."""

import json
import math
import os

import numpy as np
import pytest
import rasterio
from quayside.core import synth
from rasterio import features
from shapely.geometry import shape
from shapely.ops import unary_union


def _spec(**kw):
    d = dict(width=512, height=512, gsd=1.0, seed=3)
    d.update(kw)
    return synth.SceneSpec(**d)


@pytest.fixture(scope="module")
def big():
    """2 km x 2 km at 1 m: large enough for every object kind (layout only, cheap)."""
    return synth.build_scene(synth.SceneSpec(width=2000, height=2000, gsd=1.0, seed=1))


@pytest.fixture(scope="module")
def big_truth(big):
    return {e: synth.truth_layers(big, e) for e in ("before", "after")}


def _geoms(fc, **where):
    out = []
    for f in fc["features"]:
        if all(f["properties"].get(k) == v for k, v in where.items()):
            out.append((shape(f["geometry"]), f["properties"]))
    return out


# ------------------------------------------------------------------------------ determinism, seams

def test_same_seed_same_bytes_different_seed_differs():
    cond = synth.Conditions()
    a = synth.render_array(synth.build_scene(_spec()), "before", cond, window=(0, 0, 200, 300))
    b = synth.render_array(synth.build_scene(_spec()), "before", cond, window=(0, 0, 200, 300))
    c = synth.render_array(synth.build_scene(_spec(seed=4)), "before", cond, window=(0, 0, 200, 300))
    assert a.dtype == np.uint8 and a.shape == (3, 200, 300)
    assert np.array_equal(a, b)
    assert np.mean(a != c) > 0.3
    t1 = json.dumps(synth.truth_layers(synth.build_scene(_spec()), "after"), sort_keys=True)
    t2 = json.dumps(synth.truth_layers(synth.build_scene(_spec()), "after"), sort_keys=True)
    assert t1 == t2


@pytest.mark.parametrize("gsd", [0.5, 10.0])
def test_window_seams_invisible(gsd):
    """A region rendered through different internal window sizes is identical, blur and shift included."""
    size = 400 if gsd < 1 else 220
    scene = synth.build_scene(_spec(gsd=gsd, width=size, height=size, seed=11))
    cond = synth.Conditions(blur_px=1.2, shift_px=(0.7, -1.6), haze=0.1, noise=0.02)
    win = (37, 21, size - 80, size - 50)
    a = synth.render_array(scene, "after", cond, window=win, block=64)
    b = synth.render_array(scene, "after", cond, window=win, block=256)
    assert np.array_equal(a, b)
    # and a sub-window of a whole render matches
    whole = synth.render_array(scene, "after", cond, block=128)
    assert np.array_equal(whole[:, 37:37 + win[2], 21:21 + win[3]], a)


# ------------------------------------------------------------------------------ GeoTIFF format

def test_geotiff_format_and_windowed_write(tmp_path):
    spec = _spec(width=600, height=300, gsd=2.0, nir=True, dtype="uint16", seed=5)
    scene = synth.build_scene(spec)
    p = str(tmp_path / "x.tif")
    fr = []
    synth.render_to_tiff(scene, p, "before", synth.Conditions(), date="2016-05-14", progress=fr.append, block=256)
    assert fr == sorted(fr) and fr[-1] == pytest.approx(1.0) and len(fr) == 6
    with rasterio.open(p) as ds:
        assert ds.count == 4 and ds.dtypes[0] == "uint16"
        assert ds.crs.to_epsg() == 32651
        assert ds.transform.a == 2.0 and ds.transform.c == 360000.0 and ds.transform.f == 4290000.0
        assert ds.block_shapes[0] == (256, 256) and ds.profile["tiled"]
        assert ds.compression.name.lower() == "deflate" and ds.nodata is None
        ci = [c.name for c in ds.colorinterp]
        assert ci[:3] == ["red", "green", "blue"] and ci[3] == "undefined"
        assert ds.descriptions == ("red", "green", "blue", "nir")
        tags = ds.tags()
        assert tags["TIFFTAG_DATETIME"] == "2016:05:14 10:30:00"
        assert tags["ACQUISITIONDATETIME"].startswith("2016-05-14T")
        img = ds.read()
    ref = synth.render_array(scene, "before", synth.Conditions())
    assert np.array_equal(img, ref)
    # reflectance x 10000: water a few hundred, nothing saturated, land brighter
    assert 100 < np.percentile(img[1], 5) < 900
    assert img.max() < 10000


# ------------------------------------------------------------------------------ ships

def test_ship_truth_geometry(big, big_truth):
    for e in ("before", "after"):
        tr = big_truth[e]
        ships = _geoms(tr["ships"])
        assert len(ships) >= 10
        kinds = {p["kind"] for _, p in ships}
        assert {"bulk_carrier", "container_ship", "tanker"} <= kinds
        assert {"docked", "anchored", "underway"} <= {p["state"] for _, p in ships}
        for g, p in ships:
            rect = g.minimum_rotated_rectangle
            xy = np.array(rect.exterior.coords)[:4]
            sides = [np.hypot(*(xy[(i + 1) % 4] - xy[i])) for i in range(4)]
            assert max(sides) == pytest.approx(p["length_m"], rel=0.01)
            assert min(sides) == pytest.approx(p["width_m"], rel=0.02)
            i = int(np.argmax(sides))
            dx, dy = xy[(i + 1) % 4] - xy[i]
            ang = math.degrees(math.atan2(dx, dy)) % 180.0
            diff = abs(ang - p["heading"]) % 180.0
            assert min(diff, 180 - diff) < 1.0
            r = p["length_m"] / p["width_m"]
            if p["kind"] == "tug":
                assert 2.8 <= r <= 3.6
            elif p["kind"] != "fishing" and p["length_m"] >= 100:
                assert 5.4 <= r <= 8.6
            assert 15.0 <= p["length_m"] <= 300.0


def test_docked_and_rafted_ships_touch(big, big_truth):
    tol = big.spec.gsd  # 1 px
    n_raft = 0
    for e in ("before", "after"):
        tr = big_truth[e]
        sea = unary_union([g for g, p in _geoms(tr["water"], kind="sea")])
        piers = unary_union([g for g, _ in _geoms(tr["piers"])])
        ext = big.layout.extent
        from shapely import affinity
        land = affinity.translate(ext, *big.spec.origin).difference(sea)
        structures = unary_union([piers, land])
        ships = _geoms(tr["ships"])
        polys = [g for g, _ in ships]
        for g, p in ships:
            # ships lie on the water, are not cut out of it, do not overlap structures or each other
            assert g.difference(sea).area < 0.01 * g.area
            assert g.intersection(structures).area < 0.5
            assert sum(1 for q in polys if q is not g and g.intersection(q).area > 0.5) == 0
            if p["state"] == "docked" and p["raft_position"] != "outer":
                assert g.distance(structures) <= tol, p
                assert p["pier"]
            if p["state"] in ("anchored", "underway"):
                assert p["pier"] is None and g.distance(structures) > 20
        rafts = {}
        for g, p in ships:
            if p["rafted"]:
                assert p["state"] == "docked"
                rafts.setdefault(p["raft_id"], []).append((g, p))
        for _rid, pair in rafts.items():
            assert len(pair) == 2
            (g1, p1), (g2, p2) = pair
            assert g1.distance(g2) <= tol and g1.intersection(g2).area < 0.5
            assert p1["pier"] == p2["pier"]
            assert {p1["raft_position"], p2["raft_position"]} == {"inner", "outer"}
        n_raft += len(rafts)
    assert n_raft >= 1


def test_ships_leave_and_arrive(big_truth):
    b = {p["id"] for _, p in _geoms(big_truth["before"]["ships"])}
    a = {p["id"] for _, p in _geoms(big_truth["after"]["ships"])}
    assert b - a and a - b and a & b
    holds = [p["holds_open"] for _, p in _geoms(big_truth["before"]["ships"], kind="bulk_carrier")]
    assert max(holds) >= 1


# ------------------------------------------------------------------------------ containers, yards, piers

def test_containers_and_yards(big, big_truth):
    for e in ("before", "after"):
        boxes = _geoms(big_truth[e]["containers"])
        assert len(boxes) > 500
        n20 = sum(1 for _, p in boxes if p["size_ft"] == 20)
        n40 = sum(1 for _, p in boxes if p["size_ft"] == 40)
        assert sum(p["teu"] for _, p in boxes) == n20 + 2 * n40
        assert n20 > 0 and n40 > 0
        assert len({p["colour"] for _, p in boxes}) >= 8
        for g, p in boxes[::37]:
            rect = g.minimum_rotated_rectangle
            xy = np.array(rect.exterior.coords)[:4]
            s = sorted(np.hypot(*(xy[(i + 1) % 4] - xy[i])) for i in range(4))
            assert s[-1] == pytest.approx(12.19 if p["size_ft"] == 40 else 6.06, abs=0.01)
            assert s[0] == pytest.approx(2.44, abs=0.01)
        # no two boxes overlap
        u = unary_union([g for g, _ in boxes])
        assert u.area == pytest.approx(sum(g.area for g, _ in boxes), rel=1e-6)
        per_yard = {}
        for _, p in boxes:
            if p["location"] == "yard":
                per_yard[p["yard"]] = per_yard.get(p["yard"], 0) + p["teu"]
        cap = {y["name"]: y["capacity_teu"] for y in big.layout.yards}
        assert per_yard and all(per_yard[y] <= cap[y] for y in per_yard)
    la = _geoms(big_truth["before"]["lookalikes"])
    kinds = {p["kind"] for _, p in la}
    assert {"car_row", "trailer_row", "ribbed_roof", "coal_heap"} <= kinds


def test_piers_names_kinds_and_extension(big, big_truth):
    pb = {p["name"]: (g, p) for g, p in _geoms(big_truth["before"]["piers"])}
    pa = {p["name"]: (g, p) for g, p in _geoms(big_truth["after"]["piers"])}
    assert len(pb) >= 3 and set(pb) == set(pa)
    for _g, p in pb.values():
        assert p["kind"] in ("container", "coal", "oil", "bulk", "general")
        assert 12.0 <= p["width_m"] <= 40.0 and p["length_m"] >= 20.0
    longer = [n for n in pb if pa[n][1]["length_m"] > pb[n][1]["length_m"] + 1]
    assert len(longer) == 1
    lines = _geoms(big_truth["before"]["piers_lines"])
    assert len(lines) == len(pb)


# ------------------------------------------------------------------------------ changes

def test_changes(big, big_truth):
    ch = synth.changes_between(big, "before", "after")
    assert ch["crs"] == {"type": "name", "properties": {"name": "EPSG:32651"}}
    feats = _geoms(ch)
    types = {p["type"] for _, p in feats}
    assert {"new_structure", "removed_structure", "water_to_land", "other_surface"} <= types
    cx = [(g, p) for g, p in feats if p["complex"]]
    assert len(cx) == 1
    g, p = cx[0]
    assert p["area_m2"] == pytest.approx(22500, rel=0.05)
    assert g.area == pytest.approx(p["area_m2"], rel=1e-3)
    assert len(getattr(g, "geoms", [g])) == 4
    # the construction site around it was soil and is paved after: a surface change beside the roofs
    paved = [(pg, pp) for pg, pp in feats if pp["description"].startswith("ground paved")]
    assert len(paved) == 1 and paved[0][1]["type"] == "other_surface"
    assert paved[0][0].intersection(g).area < 1.0 and paved[0][0].area > 0.2 * g.area
    # the complex exists only after
    nb = _geoms(big_truth["after"]["buildings"], kind="complex")
    assert len(nb) == 4 and not _geoms(big_truth["before"]["buildings"], kind="complex")
    # pond: water before, land after, matching the change polygon
    pond_b = _geoms(big_truth["before"]["water"], kind="pond")
    assert len(pond_b) == 1 and not _geoms(big_truth["after"]["water"], kind="pond")
    w2l = [g for g, p in feats if p["type"] == "water_to_land"]
    assert w2l[0].symmetric_difference(pond_b[0][0]).area < 1.0


def test_small_extent_scales_complex_down():
    s = synth.build_scene(_spec(width=512, height=512, gsd=0.5))
    feats = _geoms(synth.changes_between(s, 0, 1))
    cx = [p for _, p in feats if p["complex"]]
    assert cx and 0 < cx[0]["area_m2"] < 22500 * 0.95
    assert s.complex_area_m2 == pytest.approx(cx[0]["area_m2"], abs=0.01)


# ------------------------------------------------------------------------------ rendered content

def _mask(geoms, ds_shape, transform):
    if not geoms:
        return np.zeros(ds_shape, bool)
    return features.rasterize([(g, 1) for g in geoms], out_shape=ds_shape, transform=transform, fill=0).astype(bool)


def test_rendered_content_water_quay_ndwi(tmp_path):
    spec = synth.SceneSpec(width=500, height=500, gsd=2.0, seed=2, nir=True)
    scene = synth.build_scene(spec)
    img = synth.render_array(scene, "before", synth.Conditions()).astype(float)
    tr = synth.truth_layers(scene, "before")
    T = scene.transform
    sea = _mask([g.buffer(-6) for g, _ in _geoms(tr["water"], kind="sea")], img.shape[1:], T)
    ships = _mask([g.buffer(10) for g, _ in _geoms(tr["ships"])], img.shape[1:], T)
    quay = _mask([g.buffer(-4) for g, _ in _geoms(tr["quays"])], img.shape[1:], T)
    water = sea & ~ships
    grey = img[:3].mean(0)
    assert water.sum() > 1000 and quay.sum() > 100
    assert grey[water].mean() < 0.5 * grey[quay].mean()
    g, n = img[1], img[3]
    ndwi = (g - n) / np.maximum(g + n, 1)
    assert np.median(ndwi[water]) > 0.2
    from shapely import affinity
    veg = [affinity.translate(o.polygon(), *spec.origin) for o in scene.layout.objects
           if type(o).__name__ == "Blob" and o.kind == "trees"]
    veg += [affinity.translate(o.polygon(), *spec.origin) for o in scene.layout.objects
            if type(o).__name__ == "Ground" and o.surface == "grass"]
    vm = _mask([v.buffer(-4) for v in veg], img.shape[1:], T)
    assert vm.sum() > 100
    assert np.median(ndwi[vm]) < -0.2


@pytest.mark.parametrize("gsd,size", [(0.5, 384), (3.0, 300), (10.0, 256)])
def test_gsd_handling(gsd, size):
    spec = synth.SceneSpec(width=size, height=size, gsd=gsd, seed=9)
    scene = synth.build_scene(spec)
    tr = synth.truth_layers(scene, "before")
    ext = size * gsd
    piers = _geoms(tr["piers"])
    assert piers
    for _, p in piers:
        assert p["length_m"] <= 600 and p["length_m"] <= 0.8 * ext
    ships = _geoms(tr["ships"])
    assert ships
    cond = synth.Conditions(noise=0.0)
    img = synth.render_array(scene, "before", cond).astype(float).mean(0)
    sea = _mask([g.buffer(-3 * gsd) for g, _ in _geoms(tr["water"], kind="sea")], img.shape, scene.transform)
    shp = _mask([g.buffer(2 * gsd) for g, _ in ships], img.shape, scene.transform)
    wmed = np.median(img[sea & ~shp])
    for g, p in ships:
        if p["state"] == "docked":
            continue
        m = _mask([g], img.shape, scene.transform)
        if not m.any():  # sub-pixel ship: take the pixel under its centre
            c = g.centroid
            r, cc = rasterio.transform.rowcol(scene.transform, c.x, c.y)
            vals = img[r, cc]
        else:
            vals = img[m]
        # even a 15 m boat at 10 m GSD leaves a visible blob
        assert np.max(np.abs(vals - wmed)) > 2.0, (p, wmed)


def test_after_shift_recovered_by_correlation(tmp_path):
    spec = synth.SceneSpec(width=384, height=384, gsd=1.0, seed=21)
    req = (1.3, -0.7)
    paths = synth.make_port_pair(str(tmp_path), spec, before=synth.Conditions(),
                                 after=synth.Conditions(shift_px=req, gain=1.05, haze=0.05))
    with rasterio.open(paths["before"]) as a, rasterio.open(paths["after"]) as b:
        A = a.read().astype(float).mean(0)
        B = b.read().astype(float).mean(0)
    # static region: land away from ships / containers changes: use the whole land part
    tr = synth.truth_layers(paths["scene"], "before")
    sea = _mask([g for g, _ in _geoms(tr["water"])], A.shape, paths["scene"].transform)
    rows = np.where((~sea).mean(1) > 0.95)[0]
    r0, r1 = rows.min() + 8, rows.max() - 8
    A, B = A[r0:r1, 8:-8], B[r0:r1, 8:-8]
    A = (A - A.mean()) / A.std()
    B = (B - B.mean()) / B.std()
    F = np.fft.fft2(B) * np.conj(np.fft.fft2(A))
    F /= np.maximum(np.abs(F), 1e-9)
    cc = np.fft.fftshift(np.real(np.fft.ifft2(F)))
    iy, ix = np.unravel_index(np.argmax(cc), cc.shape)

    def sub(c_m, c_0, c_p):
        return 0.5 * (c_m - c_p) / (c_m - 2 * c_0 + c_p)

    dy = iy - cc.shape[0] // 2 + sub(cc[iy - 1, ix], cc[iy, ix], cc[iy + 1, ix])
    dx = ix - cc.shape[1] // 2 + sub(cc[iy, ix - 1], cc[iy, ix], cc[iy, ix + 1])
    assert abs(dx - req[0]) < 0.3 and abs(dy - req[1]) < 0.3, (dx, dy)


def test_make_port_pair_files(tmp_path):
    spec = synth.SceneSpec(width=256, height=256, gsd=2.0, seed=4)
    paths = synth.make_port_pair(str(tmp_path), spec)
    assert os.path.exists(paths["before"]) and os.path.exists(paths["after"])
    for k in ("ships_before", "ships_after", "containers_before", "containers_after", "piers_before",
              "piers_lines_after", "water_before", "water_after", "lookalikes_after", "yards", "changes"):
        assert os.path.exists(paths["truth"][k]), k
        with open(paths["truth"][k]) as fh:
            fc = json.load(fh)
        assert fc["crs"]["properties"]["name"] == "EPSG:32651"
    with rasterio.open(paths["before"]) as a, rasterio.open(paths["after"]) as b:
        assert a.tags()["TIFFTAG_DATETIME"].startswith("2016:05:14")
        assert b.tags()["TIFFTAG_DATETIME"].startswith("2016:09:20")
        assert a.transform == b.transform
        assert json.loads(b.tags()["QUAYSIDE_SYNTH_CONDITIONS"])["shift_px"] == [1.3, 0.0]
    out = synth.make_port_scene(str(tmp_path / "one" / "p.tif"), spec, epoch="after")
    assert os.path.exists(out["image"]) and os.path.basename(out["ships"]) == "p_ships_after.geojson"


def test_series_epochs(tmp_path):
    dates = ["2016-01-05", "2016-02-10", "2016-03-15", "2016-04-20", "2016-05-25", "2016-06-30"]
    spec = synth.SceneSpec(width=128, height=128, gsd=8.0, seed=6)
    res = synth.make_port_series(str(tmp_path), spec, dates)
    assert list(res["images"]) == dates
    sc = res["scene"]
    ids = [{s.sid for s in sc.ships(d)} for d in dates]
    assert all(ids)
    assert any(ids[i] & ids[i + 1] for i in range(5)) and any(ids[i + 1] - ids[i] for i in range(5))
    fills = [sum(int((g.state(i)[0] > 0).sum()) for y in sc.layout.yards for g in y["grids"]) for i in range(6)]
    assert len(set(fills)) > 1
    with rasterio.open(res["images"][dates[3]]) as ds:
        assert ds.tags()["TIFFTAG_DATETIME"] == "2016:04:20 10:30:00"
