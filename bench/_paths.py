"""Where benchmarks find the shared data and how they import the plugin
package as ``quayside`` without putting the repository root on sys.path."""

import os
import sys
import tempfile

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED = os.environ.get("QUAYSIDE_SHARED", os.path.join(os.path.dirname(REPO), "shared"))


def import_quayside():
    """Import the checkout as ``quayside`` through the profile's plugin link
    (made by make setup), or a temporary link when that is absent."""
    plugins = os.path.join(REPO, ".qgis", "profiles", "default", "python", "plugins")
    if not os.path.exists(os.path.join(plugins, "quayside")):
        plugins = tempfile.mkdtemp(prefix="quayside_path_")
        os.symlink(REPO, os.path.join(plugins, "quayside"))
    if plugins not in sys.path:
        sys.path.insert(0, plugins)
    import quayside

    return quayside
