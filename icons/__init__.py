"""Icons shipped with the plugin, loaded from files beside this module."""

import os

ICON_DIR = os.path.dirname(__file__)


def icon_path(name: str) -> str:
    return os.path.join(ICON_DIR, name)


def icon(name: str):
    from qgis.PyQt.QtGui import QIcon

    return QIcon(icon_path(name))
