"""The piers-and-observations GeoPackage: every edit on disk at once, clear messages for a
missing or read-only file, and two writers on one file without corruption."""

import os
import sqlite3
import stat
import subprocess
import sys
import textwrap

import pytest

STORE_PY = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "ui",
                        "store.py")


def test_edits_are_on_disk_at_once(qgis_app, tmp_path):
    from quayside.ui.store import Observation, Pier, QuaysideStore

    path = str(tmp_path / "quayside.gpkg")
    store = QuaysideStore(path)
    fid = store.add_pier(Pier(name="Quay 3", kind="bulk", operator="OCP", wkt="LINESTRING (1 2, 1.001 2)"))
    store.add_observation(Observation(kind="ship", length_m=120.0, pier="Quay 3", observed_at="2019-08-02"))
    # a plain SQLite reader sees both rows straight away (no connection is held open)
    with sqlite3.connect(path) as db:
        assert db.execute("select name, kind, operator from piers").fetchall() == [("Quay 3", "bulk", "OCP")]
        assert db.execute("select kind, length_m, pier from observations").fetchall() == [("ship", 120.0, "Quay 3")]
        assert db.execute("pragma journal_mode").fetchone()[0] == "wal"
    pier = store.pier(fid)
    pier.name, pier.notes = "Quay 3 North", "renamed"
    store.update_pier(pier)
    again = QuaysideStore(path, create=False)
    assert [(p.name, p.notes, p.kind) for p in again.piers()] == [("Quay 3 North", "renamed", "bulk")]
    again.delete_pier(fid)
    assert store.piers() == []
    assert len(store.observations()) == 1 and store.observations()[0].length_m == 120.0


def test_missing_and_read_only_geopackage_messages(qgis_app, tmp_path):
    from quayside.ui.store import Pier, QuaysideStore, StoreError

    with pytest.raises(StoreError, match="does not exist"):
        QuaysideStore(str(tmp_path / "gone.gpkg"), create=False)
    with pytest.raises(StoreError, match="folder .* does not exist"):
        QuaysideStore(str(tmp_path / "no" / "where.gpkg"))
    path = str(tmp_path / "ro.gpkg")
    store = QuaysideStore(path)
    store.add_pier(Pier(name="A", kind="oil"))
    os.chmod(path, stat.S_IRUSR | stat.S_IRGRP)
    try:
        assert store.read_only
        assert [p.name for p in store.piers()] == ["A"]  # reading still works
        with pytest.raises(StoreError, match="read-only: nothing was saved"):
            store.add_pier(Pier(name="B", kind="oil"))
    finally:
        os.chmod(path, stat.S_IRUSR | stat.S_IWUSR)
    os.remove(path)
    with pytest.raises(StoreError, match="missing"):
        store.piers()
    with pytest.raises(StoreError, match="needs a name"):
        QuaysideStore(str(tmp_path / "v.gpkg")).add_pier(Pier(name=" ", kind="oil"))
    with pytest.raises(StoreError, match="Unknown pier kind"):
        QuaysideStore(str(tmp_path / "v.gpkg")).add_pier(Pier(name="x", kind="ferry"))


def test_two_stores_on_one_file(qgis_app, tmp_path):
    """Two stores (two projects) interleave writes; two other processes write at the same time."""
    from quayside.ui.store import Observation, Pier, QuaysideStore

    path = str(tmp_path / "shared.gpkg")
    a, b = QuaysideStore(path), QuaysideStore(path)
    for i in range(5):
        a.add_pier(Pier(name=f"a{i}", kind="oil", wkt=f"POINT ({i} 0)"))
        b.add_pier(Pier(name=f"b{i}", kind="coal", wkt=f"POINT ({i} 1)"))
    assert sorted(p.name for p in a.piers()) == sorted(p.name for p in b.piers())
    assert len(a.piers()) == 10

    script = textwrap.dedent(f"""
        import importlib.util, sys
        spec = importlib.util.spec_from_file_location("qstore", {STORE_PY!r})
        st = importlib.util.module_from_spec(spec); sys.modules["qstore"] = st; spec.loader.exec_module(st)
        s = st.QuaysideStore(sys.argv[1])
        for i in range(15):
            s.add_observation(st.Observation(kind="ship", notes=sys.argv[2] + str(i), length_m=float(i)))
    """)
    procs = [subprocess.Popen([sys.executable, "-c", script, path, tag], stderr=subprocess.PIPE)
             for tag in ("p", "q")]
    for i in range(10):  # and this process writes too, meanwhile
        a.add_observation(Observation(kind="other", notes=f"main{i}"))
    for p in procs:
        _out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err.decode()
    notes = sorted(o.notes for o in b.observations())
    assert len(notes) == 40 and len(set(notes)) == 40
    with sqlite3.connect(path) as db:
        assert db.execute("pragma integrity_check").fetchone()[0] == "ok"
