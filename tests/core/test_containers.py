"""Container detection on small synthetic ports with truth (quayside.core.containers)."""

import json
import os

import numpy as np
import pytest
import rasterio
from quayside.core import synth
from quayside.core.containers import ContainerResult, detect_containers
from quayside.core.errors import Cancelled, InputError
from rasterio.transform import from_origin
from scipy import ndimage
from shapely.geometry import box, shape
from shapely.ops import unary_union


def _truth(truth_dir):
    with open(os.path.join(truth_dir, "yards.geojson")) as f:
        yards = [(shape(ft["geometry"]), ft["properties"]["name"], ft["properties"]["capacity_teu"])
                 for ft in json.load(f)["features"]]
    with open(os.path.join(truth_dir, "containers_before.geojson")) as f:
        boxes = [ft for ft in json.load(f)["features"] if ft["properties"]["location"] == "yard"]
    out = {}
    for g, name, cap in yards:
        mine = [ft for ft in boxes if ft["properties"]["yard"] == name]
        occ = unary_union([shape(ft["geometry"]) for ft in mine]).intersection(g).area / g.area * 100 if mine else 0
        out[name] = dict(polygon=g, teu=sum(ft["properties"]["teu"] for ft in mine), occ=occ, cap=cap)
    return out


def _pooled_error(synth_scene, gsd, size, seeds):
    """|sum detected - sum true| / sum true TEU over several seeds (truth yards given)."""
    det = true = 0.0
    results = []
    for seed in seeds:
        tif, d = synth_scene(gsd, size, seed=seed)
        ty = _truth(d)
        res = detect_containers(tif, yards=[(v["polygon"], k) for k, v in ty.items()])
        det += res.total_teu
        true += sum(v["teu"] for v in ty.values())
        results.append((res, ty))
    return abs(det - true) / true, true, results


@pytest.fixture(scope="module")
def fine(synth_scene):
    tif, d = synth_scene(0.5, 1024, seed=7)
    return tif, _truth(d)


@pytest.fixture(scope="module")
def fine_result(fine):
    tif, ty = fine
    return detect_containers(tif, yards=[(v["polygon"], k) for k, v in ty.items()])


def test_box_mode_teu_within_5_percent_of_boxes_seen_from_above(synth_scene, fine, fine_result):
    # pooled over the evaluation's first three seeds (7 is the hardest: long shadows over dark boxes)
    err, true_teu, _ = _pooled_error(synth_scene, 0.5, 1024, (3, 7, 21))
    assert true_teu > 800
    assert err <= 0.05
    _, ty = fine
    res = fine_result
    assert isinstance(res, ContainerResult)
    assert res.mode == "boxes" and res.units == "m" and not res.auto_yards
    assert res.pixel_size_m == pytest.approx(0.5, rel=0.01)
    for s in res.stacks:
        assert s.teu == s.boxes_20ft + 2 * s.boxes_40ft
        assert s.yard in ty
        assert s.colour in ("red", "orange", "yellow", "green", "blue", "white", "grey", "brown")
        assert 10.0 < s.area_m2 < 40.0  # one 20 ft (14.8 m2) or 40 ft (29.7 m2) footprint
    n20 = sum(s.boxes_20ft for s in res.stacks)
    n40 = sum(s.boxes_40ft for s in res.stacks)
    assert n20 > 0 and n40 > 0


def test_box_mode_at_1_m_within_10_percent_and_occupancy(synth_scene):
    err, true_teu, results = _pooled_error(synth_scene, 1.0, 1024, (3, 7))
    assert true_teu > 1000
    assert err <= 0.10
    for res, ty in results:
        assert res.mode == "boxes"  # a nominal 1 m pixel (1.0002 m on the ellipsoid) still counts boxes
        for y in res.yards:
            assert abs(y.occupancy_pct - ty[y.name]["occ"]) <= 5.0


def test_low_sun_at_1_m(tmp_path):
    """The first date of the demo series (1 m, a 34 degree sun: long shadows of stacks and cranes
    over the boxes): TEU within 12 % of the boxes seen from above. With a lattice cell counted only
    when half covered, whatever its light, it gave 390 TEU for 463 (-15.8 %); now -8.4 %, and the
    six dates of the demo series are all within 10 % (-9.6 to +7.8 %)."""
    spec = synth.SceneSpec(width=1200, height=1200, gsd=1.0, seed=2016, nir=True, dtype="uint8")
    out = synth.make_port_series(str(tmp_path), spec, ["2016-05-14"])  # its first date's sun: 34 deg
    tif = out["images"]["2016-05-14"]
    with open(os.path.join(str(tmp_path), "containers_2016-05-14.geojson")) as f:
        seen = sum(ft["properties"]["teu"] for ft in json.load(f)["features"] if ft["properties"]["location"] == "yard")
    with open(os.path.join(str(tmp_path), "yards.geojson")) as f:
        yards = [(shape(ft["geometry"]), ft["properties"]["name"]) for ft in json.load(f)["features"]]
    assert seen > 400
    res = detect_containers(tif, yards=yards)
    assert abs(res.total_teu - seen) <= 0.12 * seen


def test_block_of_mostly_white_and_grey_boxes_is_counted_at_0_5_m(synth_scene):
    """Seed 23's yard holds a block of 12 boxes, 8 of them white or grey: the median hue of its
    boxes is as uniform as a roof's, and the block was dropped (-11.5 % TEU against the boxes
    seen from above). At 0.5 m a quarter of its boxes far from the median hue (navy, teal,
    yellow) now keeps it: -2.3 %."""
    tif, d = synth_scene(0.5, 1024, seed=23)
    ty = _truth(d)
    res = detect_containers(tif, yards=[(v["polygon"], k) for k, v in ty.items()])
    true = sum(v["teu"] for v in ty.values())
    assert abs(res.total_teu - true) <= 0.05 * true


def test_hue_test_keeps_neutral_blocks_with_some_coloured_boxes_at_fine_pixels():
    from quayside.core.containers import _block_ok, _Box, _Params

    def block(rgbs):
        return [_Box(np.zeros((4, 2)), 20, 1.0, 60.0, "grey", 1.0, np.array(c, float)) for c in rgbs]

    neutral = [(0.55, 0.55, 0.56), (0.8, 0.8, 0.8), (0.35, 0.35, 0.36), (0.7, 0.7, 0.71)] * 2
    coloured = [(0.1, 0.15, 0.45), (0.1, 0.4, 0.4), (0.8, 0.7, 0.1), (0.3, 0.55, 0.8)]
    roof = [(0.3 * k, 0.32 * k, 0.36 * k) for k in (1.0, 1.6, 2.2, 1.3, 2.6, 1.9, 1.1, 2.4, 1.5, 2.0, 1.2, 2.8)]
    area = 12 * 60.0
    fine, coarse = _Params(px=0.5, box_mode=True, sensitivity=0.5), _Params(px=1.0, box_mode=True, sensitivity=0.5)
    assert _block_ok(block(neutral + coloured), area, fine)
    assert not _block_ok(block(roof), area, fine)  # one hue, brightness varying: a ribbed roof
    assert not _block_ok(block(neutral + coloured), area, coarse)  # at 1 m car rows look like this


def test_occupancy_within_5_points(fine, fine_result):
    _, ty = fine
    assert {y.name for y in fine_result.yards} == set(ty)
    for y in fine_result.yards:
        assert y.mode == "boxes"
        assert y.yard_area_m2 == pytest.approx(ty[y.name]["polygon"].area, rel=0.01)
        assert abs(y.occupancy_pct - ty[y.name]["occ"]) <= 5.0
        assert y.teu == pytest.approx(sum(s.teu for s in fine_result.stacks if s.yard == y.name))


def _scene_with_lookalikes(synth_scene, gsd, size, seed, kind=None):
    """A synthetic port: (its GeoTIFF, the true TEU of its yards, the union of its look-alikes at
    BEFORE, of one ``kind`` when given; there is at least one)."""
    tif, d = synth_scene(gsd, size, seed=seed)
    with open(os.path.join(d, "lookalikes_before.geojson")) as f:
        looks = [shape(ft["geometry"]) for ft in json.load(f)["features"]
                 if kind is None or ft["properties"]["kind"] == kind]
    assert looks
    return tif, sum(v["teu"] for v in _truth(d).values()), unary_union(looks)


def _lookalike_teu_without_yards(synth_scene, gsd, seeds, size=1024):
    """Over ``size``-px ports of ``seeds``, detected without YARDS (automatic yards): the TEU of
    stacks centred on look-alikes, the true yard TEU and the total TEU found."""
    look = true = auto_teu = 0.0
    for seed in seeds:
        tif, true_teu, looks = _scene_with_lookalikes(synth_scene, gsd, size, seed)
        true += true_teu
        res = detect_containers(tif)
        assert res.auto_yards and res.mode == ("boxes" if gsd <= 1.0 else "area")
        look += sum(s.teu for s in res.stacks if looks.contains(s.polygon.centroid))
        auto_teu += res.total_teu
    return look, true, auto_teu


def test_lookalikes_at_1_m_add_under_5_percent_per_scene(synth_scene):
    """Car and trailer parks, ribbed roofs and heaps without YARDS (automatic yards), each
    scene on its own under the 5 % bar.

    Seed 7's trailer park (trailers side by side at 3.4-4.2 m) was cut into a yard block's
    lattice and added 114 TEU (7.1 % of the true yard TEU) until a block repeating more
    strongly at a vehicle's pitch than at a box row's was dropped; now 0 % on seeds 3 and
    7 (bench/eval_containers.py: 0-1.8 % over seeds 3, 5, 7, 11, 17, 21; seed 17's trailer
    park was 23.7 %). Before the hue test roofs and heaps added 200-900 %."""
    for seed in (3, 7):
        look, true, _ = _lookalike_teu_without_yards(synth_scene, 1.0, (seed,))
        assert look <= 0.05 * true, seed


def test_vehicle_pitch_tells_parks_from_box_rows():
    """Boundary profiles of a block at 1 m: box rows 2.44 m wide at a 2.8 m pitch repeat at the
    row pitch across the rows and at the box ends (6.3 m) along them; trailers side by side at
    3.8 m repeat at 3.8 m, across the 'rows' or along them, whichever way the lattice was laid."""
    from quayside.core.containers import VEHICLE_EXCESS, _vehicle_pitch

    rng = np.random.default_rng(5)
    x = np.arange(80) * 1.0 + 0.5  # pixel centres, metres

    def gaps(pitch, width, n=80):
        # colour change at a pixel: the boundary between two objects falls in it
        phase = (x % pitch)
        return np.where(np.minimum(phase, pitch - phase) < 0.6, 1.0, 0.15) + rng.uniform(0, 0.1, n)

    rows_v, ends_u = gaps(2.8, 2.44), gaps(6.3, 6.06)
    trailers_v, flat_u = gaps(3.8, 2.55), 0.15 + rng.uniform(0, 0.1, 80)
    assert _vehicle_pitch(rows_v, ends_u, 1.0) < 0.5 * VEHICLE_EXCESS
    assert _vehicle_pitch(trailers_v, flat_u, 1.0) > VEHICLE_EXCESS  # rows along the trailers
    assert _vehicle_pitch(flat_u, trailers_v, 1.0) > VEHICLE_EXCESS  # rows across them


def test_car_parks_at_0_5_m_add_under_5_percent(synth_scene):
    """Without YARDS at 0.5 m: a car park next to a grass verge was one block of 1241 boxes
    (178 TEU on the car rows of seed 5, 50 % of the true yard TEU, plus an automatic
    yard of 2147 TEU) until each row had to show its own box ends; now 0 TEU on seed 5
    and 0 on seed 7 (bench/eval_containers.py: 0-2.1 % over seeds 3, 5, 7, 11, 21)."""
    look, true, auto_teu = _lookalike_teu_without_yards(synth_scene, 0.5, (5, 7))
    assert true > 500
    assert look <= 0.05 * true
    assert auto_teu <= 1.5 * true  # no automatic yard of false boxes


def test_car_park_joined_to_a_yard_at_0_5_m_under_5_percent(synth_scene):
    """Seed 11's car park joins an automatic yard; clusters of white cars passed as blocks
    of 5-7 boxes (26 TEU on the car rows, 7.4 % of the true yard TEU) until a block with
    over 15 % of its mask in pieces smaller than a box was taken for parked cars: 14 TEU,
    4.0 % (bench/eval_containers.py; the TEU with the yards given is unchanged on seeds 3,
    5, 7, 11, 13, 17, 21, 23 and 29, and so is the real terminal's count)."""
    look, true, _ = _lookalike_teu_without_yards(synth_scene, 0.5, (11,))
    assert look <= 0.05 * true


def test_small_piece_share_tells_cars_from_boxes():
    """At 0.5 m: boxes 2.44 m wide at a 2.8 m pitch, end to end, make one piece of mask (their
    gaps are under a pixel); cars 1.8 m wide at a 2.5 m pitch and 4.6 m long, nose to nose,
    are pieces of their own, each smaller than a box."""
    from quayside.core.containers import CAR_SHARE_MAX, _small_piece_share

    boxes = np.zeros((40, 80), bool)
    for r in range(5):  # five rows of 5 px boxes, the gaps between rows merged by blur
        boxes[2 + r * 6:2 + r * 6 + 6, 4:76] = True
    assert _small_piece_share(boxes, 0.5) == 0.0
    cars = np.zeros((40, 80), bool)
    for k in range(14):  # 3.6 x 9.2 px cars at a 5 px pitch, in two rows nose to nose
        c0 = 4 + 5 * k
        cars[4:13, c0:c0 + 4] = True
        cars[14:23, c0:c0 + 4] = True
    assert _small_piece_share(cars, 0.5) > 2 * CAR_SHARE_MAX
    mixed = boxes.copy()
    mixed[34:40, 10:14] = True  # one car beside a block: a small share of its mask
    assert _small_piece_share(mixed, 0.5) < 0.5 * CAR_SHARE_MAX


def test_lookalikes_at_3_m_add_under_5_percent(synth_scene):
    """Area mode without YARDS: bulk heaps, car and trailer parks and roofs add under 5 % of the
    true yard TEU, and the automatic yards hold most of the true TEU.

    Judged piece by piece, seed 7's bulk heaps (red ore and grey gravel) were 675 TEU and its
    car and trailer parks 520 (40 % of the true yard TEU); once fragments were grouped into
    blocks, the heaps joined into one piece of two hues (1679 TEU) until the pixel-to-pixel
    hue change was asked for (bench/eval_containers.py: 0 % on seeds 3, 7, 21, 5, 11)."""
    look, true, auto_teu = _lookalike_teu_without_yards(synth_scene, 3.0, (7,), size=512)
    assert true > 2000
    assert look <= 0.05 * true
    assert 0.6 * true <= auto_teu <= 1.5 * true


def test_area_pieces_group_fragments_and_drop_one_material():
    """At 3 m a block's box pixels are scattered pieces of a few pixels (grey boxes leave holes):
    grouped by a closing of one pixel they count whole. Two heaps of different colours side by
    side (one piece of two hues, each smooth) and a white machine are not containers."""
    from quayside.core.containers import AREA_LOCAL_HUE_T, _area_pieces, _local_hue_change

    rng = np.random.default_rng(4)
    h = w = 80
    ground = np.array([0.40, 0.40, 0.42])
    x = np.ones((3, h, w)) * ground[:, None, None] + rng.normal(0, 0.004, (3, h, w))
    gl = np.ones((3, h, w)) * ground[:, None, None]
    m = np.zeros((h, w), bool)
    paints = np.array([[0.36, 0.07, 0.06], [0.06, 0.12, 0.30], [0.50, 0.23, 0.05], [0.07, 0.20, 0.10],
                       [0.52, 0.44, 0.08]])
    # a block 10 x 24 px: pieces of 2 px between holes of 1 px (grey boxes, gaps between rows)
    for r in range(10, 20, 2):
        for c in range(10, 34):
            if c % 3 != 2:
                m[r, c] = True
                x[:, r, c] = paints[rng.integers(len(paints))]
    # two heaps side by side: red ore and grey-brown gravel, shaded smoothly
    yy, xx = np.mgrid[0:h, 0:w]
    shade = 0.85 + 0.15 * np.cos((xx - 50) / 6.0)
    for c0, col in ((40, (0.45, 0.20, 0.12)), (56, (0.25, 0.22, 0.18))):
        sl = (slice(40, 60), slice(c0, c0 + 16))
        m[sl] = True
        for b in range(3):
            x[b][sl] = col[b] * shade[sl]
    # a white machine: 4 x 3 px, colourless
    m[65:69, 10:13] = True
    x[:, 65:69, 10:13] = 0.62
    block = np.zeros((h, w), bool)
    block[10:20, 10:34] = True
    assert _local_hue_change(x, block & m) > 1.5 * AREA_LOCAL_HUE_T
    heaps = np.zeros((h, w), bool)
    heaps[40:60, 40:72] = True
    assert _local_hue_change(x, heaps) < AREA_LOCAL_HUE_T
    got = list(_area_pieces(m, x, gl, 3.0, (0, h, 0, w)))
    assert len(got) == 1
    sl, comp, npx, outline = got[0]
    assert npx == int(m[10:20, 10:34].sum()) == 80  # every fragment counted, holes not
    assert sl[0].start >= 9 and sl[0].stop <= 21 and sl[1].start >= 9 and sl[1].stop <= 35
    # piece by piece (no grouping) every fragment was under the size of two boxes
    lab, n = ndimage.label(m[10:20, 10:34])
    assert np.bincount(lab.ravel())[1:].max() < 2 * 14.8 / 9.0


def test_coal_heaps_are_not_counted_at_3_m(synth_scene):
    """Area mode over the whole image: coal heaps (dark, colourless) add nothing.

    Before the dark-neutral test the coal heaps of seed 21 were an automatic yard of
    4120 TEU (95 % of the true yard TEU); measured now 0 TEU on coal over seeds 3, 7, 21
    (bench/eval_containers.py)."""
    coal = true = 0.0
    for seed in (3, 7, 21):
        tif, true_teu, heaps_u = _scene_with_lookalikes(synth_scene, 3.0, 512, seed, kind="coal_heap")
        true += true_teu
        with rasterio.open(tif) as src:
            whole = box(*src.bounds)
        res = detect_containers(tif, yards=[(whole, "whole image")])  # every piece, no yard finding
        assert res.mode == "area"
        coal += sum(s.teu for s in res.stacks if heaps_u.contains(s.polygon.centroid))
    assert true > 5000
    assert coal <= 0.01 * true


def test_stack_tiers_multiply_teu(fine, fine_result):
    tif, ty = fine
    res3 = detect_containers(tif, yards=[(v["polygon"], k) for k, v in ty.items()], stack_tiers=3)
    assert res3.total_teu == pytest.approx(3 * fine_result.total_teu)
    assert len(res3.stacks) == len(fine_result.stacks)


def test_window_seams_count_nothing_twice(fine, fine_result):
    tif, ty = fine
    small = detect_containers(tif, yards=[(v["polygon"], k) for k, v in ty.items()], block=192)
    assert abs(small.total_teu - fine_result.total_teu) <= 0.03 * fine_result.total_teu
    # no two stacks overlap by more than a sliver
    polys = [s.polygon for s in small.stacks]
    overl = sum(1 for i, a in enumerate(polys) for b in polys[i + 1:]
                if a.intersects(b) and a.intersection(b).area > 0.3 * min(a.area, b.area))
    assert overl <= 0.01 * len(polys)


def test_automatic_yards(fine):
    tif, ty = fine
    res = detect_containers(tif)
    assert res.auto_yards
    assert any("automatically" in n for n in res.notes)
    assert res.yards and all(y.name.startswith("Auto yard") for y in res.yards)
    assert all(s.yard is not None for s in res.stacks)
    # the automatic yards cover most of the true yards' boxes
    true_yards = unary_union([v["polygon"] for v in ty.values()])
    found = unary_union([y.polygon for y in res.yards])
    assert found.intersection(true_yards).area > 0.3 * found.area


@pytest.mark.parametrize("gsd,seeds,size", [(0.5, (3, 7), 1024), (1.0, (11, 23), 1024), (3.0, (7,), 512)])
def test_empty_yard_under_2_percent_of_capacity(tmp_path, gsd, seeds, size):
    # at 1 m, seed 11's emptied yard holds ~35 gantry cranes: their girders gave 5.5 %;
    # seed 23's gave 2.7 % from their houses until small blocks had to show their shadow;
    # at 3 m, seed 7's straddle carriers gave 5.6 % (white cabins and grey frames: colourless)
    for seed in seeds:
        spec = synth.SceneSpec(width=size, height=size, gsd=gsd, seed=seed)
        scene = synth.build_scene(spec)
        yd = max(scene.layout.yards, key=lambda y: y["capacity_teu"])
        for g in yd["grids"]:
            g.tiers[:] = 0
            g._runs = {}
        out = tmp_path / str(seed)
        out.mkdir()
        tif = str(out / "empty.tif")
        synth.render_to_tiff(scene, tif, epoch="before", conditions=synth.Conditions())
        paths = synth.write_truth(scene, str(out), epoch="before")
        ty = _truth(os.path.dirname(paths["yards"]))
        assert ty[yd["name"]]["teu"] == 0 and ty[yd["name"]]["cap"] > 100
        res = detect_containers(tif, yards=[(ty[yd["name"]]["polygon"], yd["name"])])
        assert res.yards[0].occupancy_pct < 2.0
        assert res.total_teu < 0.02 * ty[yd["name"]]["cap"]


def test_side_shadow_finds_the_shadow_beside_a_block():
    from quayside.core.containers import _side_shadow, _sun_directions

    m = np.zeros((60, 60), bool)
    m[20:30, 20:26] = True  # a block
    shadow = np.zeros_like(m)
    shadow[18:32, 26:30] = True  # its shadow, touching it on the east
    dirs = _sun_directions(1.0)
    sl = (slice(20, 30), slice(20, 26))
    v = _side_shadow(sl, m[sl], m, shadow, dirs)
    assert len(v) == len(dirs) == 16
    assert v[0] > 0.9  # direction 0: east (+column)
    assert v[8] == 0.0  # west: lit ground
    assert int(np.nanargmax(v)) == 0
    # a crane's house: its shadow falls 6 px away, lit ground between
    shadow2 = np.zeros_like(m)
    shadow2[18:32, 32:36] = True
    assert np.nanmax(_side_shadow(sl, m[sl], m, shadow2, dirs)) == 0.0
    # other boxes beside the block are not ground: no share where only boxes are
    m2 = m.copy()
    m2[16:34, 26:30] = True
    assert np.isnan(_side_shadow(sl, m[sl], m2, shadow, dirs)[0])


def test_small_blocks_without_shadow_go_only_under_a_low_sun():
    from quayside.core.containers import _unshadowed_small_blocks

    rng = np.random.default_rng(0)
    shares = {}
    for i in range(20):  # stacks: shadow on side 4, lit ground elsewhere
        v = rng.uniform(0.0, 0.2, 16)
        v[4] = rng.uniform(0.7, 1.0)
        shares[i] = v
    house = np.full(16, 0.1)  # a crane's house: no shadow beside it
    box = np.full(16, 0.1)
    box[4] = 0.8  # a lone box with its shadow
    edge = np.full(16, np.nan)  # nothing to judge
    shares.update({20: house, 21: box, 22: edge})
    assert _unshadowed_small_blocks(shares, {20, 21, 22}) == {20}
    # a high sun: short shadows everywhere, nothing is judged
    high = {k: v * 0.5 for k, v in shares.items()}
    assert _unshadowed_small_blocks(high, {20, 21, 22}) == set()
    # too few blocks to find the sun
    assert _unshadowed_small_blocks({20: house, 21: box}, {20, 21}) == set()


def test_block_cut_by_the_image_edge_keeps_its_bays():
    """A block cut by the image's edge starts inside a box: the bay lattice may begin before
    the cut and then meets the true box ends; held to the cut it fell between them and the
    block was dropped (three blocks of seed 3 at 0.5 m: occupancy 19.3 % against 24.6 %)."""
    from quayside.core.containers import L40, _fit_bays

    px, nu, a = 0.5, 100, 3
    pitch = (L40 + 0.45) / px  # 40 ft boxes and their handling gap, in pixels
    ends = [a + 5 + k * pitch for k in range(3)]  # 5 px of the first box are inside the image
    b = int(round(ends[-1]))
    rows = []
    for r in range(3):
        o = np.zeros(nu)
        o[a:b] = 1.0
        ev = np.ones(nu)
        for e in ends[:-1]:
            ev[int(round(e)) - 1:int(round(e)) + 1] = 6.0  # the gap between two boxes
        rows.append((r * 5.6, o, ev, None))
    assert _fit_bays(rows, nu, px) == []  # without the cut: no lattice shows box ends
    bays = _fit_bays(rows, nu, px, (True, False))
    inside = [(u0, u1, ft) for u0, u1, ft in bays if u1 > a + 2]
    assert [ft for _, _, ft in inside] == [40, 40, 40]
    for (u0, _u1, _), e in zip(inside[1:], ends):
        assert abs(u0 - e) <= 1.5  # each bay starts at a box end
    assert abs(inside[-1][1] - b) <= 2


def test_thin_staircases_go_blocks_stay():
    from quayside.core.containers import _near_core

    m = np.zeros((60, 60), bool)
    for i in range(40):  # a thin bar at ~27 degrees whose mixed pixels make 2 x 2 steps
        m[10 + i // 2, 5 + i:8 + i] = True
    m[45:48, 10:17] = True  # one 20 ft box at 1 m: 3 x 7 px
    m[40:52, 30:52] = True  # a block
    m[52:54, 30:52] = True  # its 2-px fringe (a half-detected row in shadow)
    opened = ndimage.binary_opening(m, np.ones((2, 2), bool))
    assert opened[10:31, 5:46].sum() > 20  # the 2 x 2 opening keeps the staircase
    keep = opened & _near_core(opened)
    assert keep[10:31, 5:46].sum() == 0
    assert keep[45:48, 10:17].all()
    assert keep[40:54, 30:52].sum() >= 0.97 * m[40:54, 30:52].sum()


def test_area_mode_at_3_m(synth_scene):
    err, true_teu, results = _pooled_error(synth_scene, 3.0, 512, (3, 7))
    assert true_teu > 3000
    assert err <= 0.20
    res, ty = results[1]
    assert res.mode == "area"
    assert any("too coarse" in n for n in res.notes)
    assert res.stacks and all(s.boxes_20ft is None and s.boxes_40ft is None for s in res.stacks)
    for s in res.stacks:
        assert s.teu == pytest.approx(s.area_m2 / 14.8, rel=0.01)
    assert all(y.mode == "area" for y in res.yards)
    for r, t in results:
        for y in r.yards:
            assert abs(y.occupancy_pct - t[y.name]["occ"]) <= 5.0  # 3.6 worst measured (see eval)


def _write(path, data, crs="EPSG:32651", transform=None, nodata=None):
    count, h, w = data.shape
    prof = dict(driver="GTiff", width=w, height=h, count=count, dtype=data.dtype.name, nodata=nodata)
    if crs is not None:
        prof.update(crs=crs, transform=transform or from_origin(360000, 4290000, 0.5, 0.5))
    with rasterio.open(path, "w", **prof) as dst:
        dst.write(data)
    return path


def test_no_crs_reports_pixels(fine, tmp_path):
    tif, _ = fine
    with rasterio.open(tif) as src:
        data = src.read(window=((0, 640), (0, 640)))
    p = _write(str(tmp_path / "nocrs.tif"), data, crs=None)
    whole = box(0, -1000, 1000, 1000)
    res = detect_containers(p, yards=[(whole, "all")])
    assert res.units == "px"
    assert any("no CRS" in n for n in res.notes)
    assert res.yards[0].yard_area_m2 == pytest.approx(640 * 640, rel=0.01)


def test_input_errors(fine, tmp_path):
    tif, ty = fine
    one = _write(str(tmp_path / "one.tif"), np.full((1, 64, 64), 100, np.uint8))
    with pytest.raises(InputError, match="band"):
        detect_containers(one)
    nod = _write(str(tmp_path / "nodata.tif"), np.zeros((3, 64, 64), np.uint8), nodata=0)
    with pytest.raises(InputError, match="nodata"):
        detect_containers(nod)
    far = box(0, 0, 10, 10)
    with pytest.raises(InputError, match="overlap"):
        detect_containers(tif, aoi=[far])
    with pytest.raises(InputError, match="overlap"):
        detect_containers(tif, yards=[(far, "far")])
    with pytest.raises(InputError, match="tiers"):
        detect_containers(tif, stack_tiers=0)
    with pytest.raises(InputError, match="Sensitivity"):
        detect_containers(tif, sensitivity=1.5)


def test_progress_and_cancel(fine):
    tif, ty = fine
    seen = []
    yards = [(v["polygon"], k) for k, v in ty.items()]
    detect_containers(tif, yards=yards, block=256, progress=seen.append)
    assert seen and seen[-1] == 1.0 and all(0.0 <= f <= 1.0 for f in seen)
    assert seen == sorted(seen)
    with pytest.raises(Cancelled):
        detect_containers(tif, yards=yards, block=256, cancel=lambda: True)
