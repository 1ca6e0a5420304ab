"""Export piers and observations to GeoPackage, GeoJSON, CSV and KML, read them back:
the same features, fields and geometries."""

import pytest
from qgis.core import QgsGeometry, QgsVectorLayer
from qgis.PyQt.QtCore import QDate, QDateTime, Qt

FIELDS = {
    "piers": ["name", "kind", "operator", "notes"],
    "observations": ["observed_at", "image", "kind", "pier", "length_m", "count", "teu", "area_m2", "notes",
                     "analyst", "source"],
}


@pytest.fixture()
def store(qgis_app, tmp_path):
    from quayside.ui.store import Observation, Pier, QuaysideStore

    s = QuaysideStore(str(tmp_path / "quayside.gpkg"))
    s.add_pier(Pier(name="Pier 7", kind="container", operator="APM Terminals", notes="east berth",
                    wkt="LINESTRING (-5.0 35.0, -5.001 35.002)"))
    s.add_pier(Pier(name="Jetée Nord", kind="oil", wkt="POLYGON ((-5 35, -5.002 35, -5.002 35.001, -5 35))"))
    s.add_observation(Observation(kind="ship", observed_at="2019-08-02", image="after.tif", pier="Pier 7",
                                  length_m=182.5, analyst="ana", source="quayside:detectships",
                                  wkt="POINT (-5.0005 35.001)"))
    s.add_observation(Observation(kind="containers", observed_at="2019-08-02", count=120, teu=180,
                                  notes="yard B full", analyst="ana"))
    return s


def norm(v):
    if v is None:
        return None
    try:
        if hasattr(v, "isNull") and v.isNull():
            return None
    except TypeError:
        pass
    if isinstance(v, QDate):  # GeoJSON readers recognise ISO dates
        return v.toString("yyyy-MM-dd")
    if isinstance(v, QDateTime):
        return v.toString(Qt.ISODate)
    s = str(v)
    if s in ("", "NULL"):
        return None
    try:
        f = float(s)
        return round(f, 6)
    except ValueError:
        return s


def rows_of(layer, fields, alias=None):
    alias = alias or {}
    out = []
    for f in layer.getFeatures():
        names = [alias.get(n, n) for n in fields]
        attrs = tuple(norm(f[name]) if layer.fields().indexOf(name) >= 0 else "MISSING" for name in names)
        out.append((attrs, f.geometry()))
    return sorted(out, key=lambda r: str(r[0]))


@pytest.mark.parametrize("fmt", ["gpkg", "geojson", "csv", "kml"])
def test_export_round_trip(store, tmp_path, fmt):
    from quayside.ui.export import FORMATS, export_store, output_paths

    target = tmp_path / f"export{FORMATS[fmt][2]}"
    written = export_store(store, str(target))
    assert written and all(p for p in written)
    outs = output_paths(str(target), fmt)
    for table, fields in FIELDS.items():
        uri = f"{outs[table]}|layername={table}" if fmt == "gpkg" else outs[table]
        layer = QgsVectorLayer(uri, table, "ogr")
        assert layer.isValid(), uri
        original = rows_of(QgsVectorLayer(store.layer_uri(table), table, "ogr"), fields)
        # KML keeps the name as the placemark's <name>, which readers call "Name"
        back = rows_of(layer, fields, {"name": "Name"} if fmt == "kml" else None)
        assert [r[0] for r in back] == [r[0] for r in original]
        for (_a, g0), (_b, g1) in zip(original, back):
            if g0.isNull() or g0.isEmpty():
                assert g1.isNull() or g1.isEmpty()
            else:
                assert g1.type() == g0.type()
                assert QgsGeometry(g1).hausdorffDistance(g0) < 1e-6


def test_unknown_format_and_missing_folder(store, tmp_path):
    from quayside.ui.export import export_store
    from quayside.ui.store import StoreError

    with pytest.raises(StoreError, match="Unknown export format"):
        export_store(store, str(tmp_path / "out.xyz"))
    with pytest.raises(StoreError, match="does not exist"):
        export_store(store, str(tmp_path / "nowhere" / "out.gpkg"))
