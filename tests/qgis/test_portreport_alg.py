"""quayside:portreport through processing.run: a PDF with maps and a chart, an
HTML page with its pictures, dates filtered, observations listed, clear errors."""

import os
import shutil
import subprocess

import pytest

DATES = ("2016-05-14", "2016-07-02", "2016-09-20")


@pytest.fixture(scope="module")
def series(tmp_path_factory):
    from quayside.core import synth

    d = tmp_path_factory.mktemp("series_report")
    spec = synth.SceneSpec(width=512, height=512, gsd=1.0, seed=3)
    synth.make_port_series(str(d), spec, list(DATES))
    return str(d)


def _observations():
    from qgis.core import QgsFeature, QgsVectorLayer

    layer = QgsVectorLayer("None?field=observed_at:string&field=image:string&field=kind:string&field=pier:string"
                           "&field=length_m:double&field=count:integer&field=notes:string&field=analyst:string",
                           "observations", "memory")
    feats = []
    for when, note in (("2016-05-14", "bulk carrier about 110 m at the bulk pier"),
                       ("2016-09-20", "new warehouse roofed"), ("2015-01-01", "outside the range")):
        f = QgsFeature(layer.fields())
        f.setAttributes([when, "img", "ship", "Bulk pier 1", 110.0, 1, note, "jd"])
        feats.append(f)
    layer.dataProvider().addFeatures(feats)
    return layer


def test_report_pdf_and_html(quayside_provider, series, tmp_path):
    from qgis.core import QgsVectorLayer

    import processing

    piers = QgsVectorLayer(os.path.join(series, f"piers_{DATES[0]}.geojson"), "piers", "ogr")
    yards = QgsVectorLayer(os.path.join(series, "yards.geojson"), "yards", "ogr")
    pdf, page = str(tmp_path / "report.pdf"), str(tmp_path / "report.html")
    res = processing.run("quayside:portreport", {
        "FOLDER": series, "START_DATE": "2016-05-01", "END_DATE": "2016-08-01", "PIERS": piers,
        "PIER_NAME_FIELD": "name", "YARDS": yards, "YARD_NAME_FIELD": "name", "OBSERVATIONS": _observations(),
        "TITLE": "Test port", "OUTPUT_HTML": page, "OUTPUT_PDF": pdf})
    assert res["OUTPUT_PDF"] == pdf and os.path.getsize(pdf) > 50000
    with open(pdf, "rb") as fh:
        data = fh.read()
    assert data.startswith(b"%PDF") and data.count(b"/Type /Page\n") + data.count(b"/Type/Page\n") \
        + data.count(b"/Type /Page ") + data.count(b"/Type /Page>") >= 3 or b"/Count 3" in data
    text = open(page, encoding="utf-8").read()
    # the date range keeps the first two dates: the last one is out
    assert "2016-05-14" in text and "2016-07-02" in text and "2016-09-20" not in text.split("Observations")[0]
    assert "bulk carrier about 110 m" in text and "outside the range" not in text
    assert "Bulk pier 1" in text and "Ships per pier per date" in text
    files = os.path.join(str(tmp_path), "report_files")
    for name in ("before.png", "after.png", "activity.png", "activity.svg"):
        assert os.path.getsize(os.path.join(files, name)) > 10000
    # the before map is a picture of the port, not a blank page
    from qgis.PyQt.QtGui import QImage

    img = QImage(os.path.join(files, "before.png"))
    colours = {img.pixel(x, y) for x in range(0, img.width(), 37) for y in range(0, img.height(), 37)}
    assert len(colours) > 50
    if shutil.which("pdftoppm"):
        subprocess.run(["pdftoppm", "-r", "30", "-png", pdf, str(tmp_path / "page")], check=True)
        pages = sorted(p for p in os.listdir(tmp_path) if p.startswith("page"))
        assert len(pages) == 3
        first = QImage(str(tmp_path / pages[0]))
        dark = sum(1 for x in range(0, first.width(), 3) for y in range(0, first.height(), 3)
                   if QImage(first).pixelColor(x, y).lightness() < 200)
        assert dark > 500  # maps fill the first page


def test_report_errors(quayside_provider, series, tmp_path):
    import processing

    with pytest.raises(Exception) as err:
        processing.run("quayside:portreport", {"FOLDER": series, "START_DATE": "2020-01-01",
                                               "OUTPUT_HTML": str(tmp_path / "r.html"),
                                               "OUTPUT_PDF": str(tmp_path / "r.pdf")})
    assert "No image between" in str(err.value) and "2016-05-14" in str(err.value)
    with pytest.raises(Exception) as err:
        processing.run("quayside:portreport", {"OUTPUT_HTML": str(tmp_path / "r.html"),
                                               "OUTPUT_PDF": str(tmp_path / "r.pdf")})
    assert "Folder" in str(err.value)
