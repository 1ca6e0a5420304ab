import datetime as dt

import numpy as np
import rasterio
from quayside.core.dates import acquisition_date_of, date_from_metadata, parse_date
from rasterio.transform import from_origin


def test_parse_common_forms():
    assert parse_date("nampho_2016-05-14_planet.tif") == dt.date(2016, 5, 14)
    assert parse_date("S2A_MSIL2A_20230611T021551_N0509") == dt.date(2023, 6, 11)
    assert parse_date("rajin_2018_10_03") == dt.date(2018, 10, 3)
    assert parse_date("2019:07:21 10:31:00") == dt.date(2019, 7, 21)
    assert parse_date("scene_v2_final") is None
    assert parse_date("20161341") is None  # month 13 is not a date


def test_metadata_keys_in_order():
    assert date_from_metadata({"TIFFTAG_DATETIME": "2017:01:02 00:00:00"}) == dt.date(2017, 1, 2)
    both = {"TIFFTAG_DATETIME": "2020:01:01 00:00:00", "ACQUISITIONDATETIME": "2019-12-30T10:00:00Z"}
    assert date_from_metadata(both) == dt.date(2019, 12, 30)  # the acquisition beats the file's write time
    assert date_from_metadata({"OTHER": "2019-12-30"}) is None


def test_acquisition_date_from_file(tmp_path):
    path = tmp_path / "image_without_date.tif"
    with rasterio.open(path, "w", driver="GTiff", width=4, height=4, count=1, dtype="uint8",
                       crs="EPSG:32651", transform=from_origin(0, 0, 1, 1)) as dst:
        dst.write(np.zeros((1, 4, 4), np.uint8))
        dst.update_tags(ACQUISITIONDATETIME="2018-09-20T02:00:00Z")
    assert acquisition_date_of(str(path)) == dt.date(2018, 9, 20)
    plain = tmp_path / "port_20160514.tif"
    with rasterio.open(plain, "w", driver="GTiff", width=4, height=4, count=1, dtype="uint8") as dst:
        dst.write(np.zeros((1, 4, 4), np.uint8))
    assert acquisition_date_of(str(plain)) == dt.date(2016, 5, 14)
    assert acquisition_date_of(str(tmp_path / "missing.tif"), name="layer 2021-03-04") == dt.date(2021, 3, 4)
