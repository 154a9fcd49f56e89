"""The binding's suite: imports `lineup` from Bindings/Python (or an installed copy), with the
library from $LINEUP_LIBRARY (make test-python points it at the debug build)."""
import os
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
if os.environ.get("LINEUP_TEST_INSTALLED") != "1":
    sys.path.insert(0, os.path.join(ROOT, "Bindings", "Python"))
os.environ.setdefault("LINEUP_LIBRARY", os.path.join(ROOT, ".build", "debug", "liblineup.so"))
