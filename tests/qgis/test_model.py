"""The shipped model (processing/models/port_activity.model3): qgis_process runs it on a
folder of images and writes the table, chart and report; install_models() puts it
under the Models provider and uninstall_models() takes it away."""

import csv
import os

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MODEL = os.path.join(REPO, "processing", "models", "port_activity.model3")
DATES = ("2016-05-14", "2016-09-20")


@pytest.fixture(scope="module")
def series(tmp_path_factory):
    from quayside.core import synth

    d = tmp_path_factory.mktemp("series_model")
    synth.make_port_series(str(d), synth.SceneSpec(width=512, height=512, gsd=1.0, seed=3), list(DATES))
    return str(d)


def test_model_file_is_the_generated_one():
    text = open(MODEL, encoding="utf-8").read()
    for alg in ("quayside:watermask", "quayside:detectships", "quayside:detectcontainers",
                "quayside:activitytimeseries", "quayside:portreport"):
        assert alg in text


def test_qgis_process_runs_the_model(qgis_process, series, tmp_path):
    out = str(tmp_path)
    proc = qgis_process(
        "run", MODEL, "--", f"folder={series}", f"reference={os.path.join(series, DATES[-1] + '.tif')}",
        f"piers={os.path.join(series, 'piers_' + DATES[0] + '.geojson')}", "pier_name_field=name",
        f"yards={os.path.join(series, 'yards.geojson')}", "yard_name_field=name", "stack_tiers=1",
        f"timeseries:activity={out}/activity.csv", f"timeseries:detections={out}/detections.gpkg",
        f"timeseries:chart={out}/chart.png", f"report:report_html={out}/report.html",
        f"report:report_pdf={out}/report.pdf", f"watermask:water={out}/water.gpkg",
        f"detectships:ships={out}/ships.gpkg", f"detectcontainers:stacks={out}/stacks.gpkg",
        f"detectcontainers:yard_summary={out}/yards.csv", timeout=600)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    with open(os.path.join(out, "activity.csv")) as fh:
        rows = list(csv.DictReader(fh))
    assert [r["acquired"].replace("/", "-") for r in rows] == list(DATES)
    assert all(int(r["ships"]) > 3 and float(r["teu"]) > 100 for r in rows)
    assert "ships_bulk_pier_1" in rows[0]
    assert os.path.getsize(os.path.join(out, "chart.png")) > 20000
    assert os.path.getsize(os.path.join(out, "chart.svg")) > 20000
    pdf = os.path.join(out, "report.pdf")
    assert open(pdf, "rb").read(4) == b"%PDF" and os.path.getsize(pdf) > 50000
    page = open(os.path.join(out, "report.html"), encoding="utf-8").read()
    assert "Ships per pier per date" in page and "Bulk pier 1" in page
    for name in ("before.png", "after.png"):
        assert os.path.getsize(os.path.join(out, "report_files", name)) > 10000
    assert os.path.getsize(os.path.join(out, "ships.gpkg")) > 0 and os.path.exists(os.path.join(out, "yards.csv"))


def test_install_and_uninstall_models(quayside_provider):
    from qgis.core import QgsApplication
    from quayside.processing.models import MODELS_DIR, install_models, models_folders, uninstall_models

    registry = QgsApplication.processingRegistry()
    if registry.providerById("model") is None:
        pytest.skip("the Processing plugin's model provider is not loaded in this QGIS")
    before = models_folders()
    try:
        install_models()
        assert MODELS_DIR in models_folders()
        assert registry.algorithmById("model:Port activity") is not None
        install_models()  # idempotent
        assert models_folders().count(MODELS_DIR) == 1
        uninstall_models()
        assert MODELS_DIR not in models_folders()
        assert registry.algorithmById("model:Port activity") is None
    finally:
        if MODELS_DIR in before:
            install_models()
        else:
            uninstall_models()
