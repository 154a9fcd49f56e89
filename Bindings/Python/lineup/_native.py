"""The C interface (lineup.h) through cffi's ABI mode: the declarations are read from the
header itself, the library is opened with dlopen. cffi releases the GIL for the duration of
every call into the library, so Python threads identify in parallel."""
import os
import re

from cffi import FFI

_HERE = os.path.dirname(os.path.abspath(__file__))


def _header_path():
    for candidate in (os.path.join(_HERE, "lineup.h"),
                      os.path.join(_HERE, "..", "..", "C", "include", "lineup.h")):
        if os.path.exists(candidate):
            return candidate
    raise ImportError("lineup.h is missing from the package")


def _declarations():
    with open(_header_path()) as f:
        text = f.read()
    match = re.search(r"/\* LINEUP_DECLARATIONS_BEGIN \*/(.*)/\* LINEUP_DECLARATIONS_END \*/", text, re.S)
    if not match:
        raise ImportError("lineup.h has no LINEUP_DECLARATIONS_BEGIN/END block")
    return match.group(1)


def _library_path():
    explicit = os.environ.get("LINEUP_LIBRARY")
    if explicit:
        return explicit
    bundled = os.path.join(_HERE, "liblineup.so")
    if os.path.exists(bundled):
        return bundled
    raise ImportError("liblineup.so is not in the package; reinstall it (pip install Bindings/Python) "
                      "or set LINEUP_LIBRARY to the library's path")


ffi = FFI()
ffi.cdef(_declarations())
lib = ffi.dlopen(_library_path())
