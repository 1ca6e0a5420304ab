"""Mark the quayside plugin enabled in a QGIS3.ini (what the Plugin Manager's
checkbox writes), keeping every other setting."""

import configparser
import os
import sys


def enable(ini_path: str, name: str = "quayside") -> None:
    os.makedirs(os.path.dirname(ini_path), exist_ok=True)
    cp = configparser.RawConfigParser()
    cp.optionxform = str  # QGIS keys are case-sensitive
    cp.read(ini_path)
    if not cp.has_section("PythonPlugins"):
        cp.add_section("PythonPlugins")
    cp.set("PythonPlugins", name, "true")
    with open(ini_path, "w") as fh:
        cp.write(fh, space_around_delimiters=False)


if __name__ == "__main__":
    enable(sys.argv[1])
