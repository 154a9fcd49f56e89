"""The build step of the Python package: builds the C interface's shared library from the Swift
package this folder belongs to (`swift build -c release --product LineupC`) and puts it, with
lineup.h, into the package. Everything else is in pyproject.toml.

LINEUP_SOURCE_ROOT names the Swift package when this folder is not inside it; SWIFT the swift
executable."""
import os
import shutil
import subprocess

from setuptools import setup
from setuptools.command.build_py import build_py
from setuptools.dist import Distribution

HERE = os.path.dirname(os.path.abspath(__file__))


class BuildWithLibrary(build_py):
    def run(self):
        super().run()
        root = os.environ.get("LINEUP_SOURCE_ROOT", os.path.join(HERE, "..", ".."))
        if not os.path.exists(os.path.join(root, "Package.swift")):
            raise SystemExit(f"error: {root} is not the Lineup package (set LINEUP_SOURCE_ROOT)")
        swift = os.environ.get("SWIFT", "swift")
        subprocess.run([swift, "build", "-c", "release", "--product", "LineupC", "--package-path", root], check=True)
        binaries = subprocess.run([swift, "build", "-c", "release", "--package-path", root, "--show-bin-path"],
                                  check=True, capture_output=True, text=True).stdout.strip()
        target = os.path.join(self.build_lib, "lineup")
        os.makedirs(target, exist_ok=True)
        shutil.copyfile(os.path.join(binaries, "libLineupC.so"), os.path.join(target, "liblineup.so"))
        shutil.copyfile(os.path.join(root, "Bindings", "C", "include", "lineup.h"), os.path.join(target, "lineup.h"))


class BinaryDistribution(Distribution):
    """The package carries a native library: its wheel is for this platform only."""

    def has_ext_modules(self):
        return True


setup(cmdclass={"build_py": BuildWithLibrary}, distclass=BinaryDistribution)
