"""Builds headscan._headscan through the project's CMake (one source of truth for the
library's sources, flags and Debian dependencies): `cmake --build --target _headscan`
in setuptools' build folder, then the module is copied where setuptools expects it.

    pip install --no-build-isolation .     # offline: Debian's python3-dev, -numpy, -setuptools, cmake
"""
import glob
import os
import shutil
import subprocess
import sys

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

ROOT = os.path.dirname(os.path.abspath(__file__))


class CMakeBuild(build_ext):
    def build_extension(self, ext):
        bdir = os.path.join(os.path.abspath(self.build_temp), "cmake")
        jobs = os.environ.get("CMAKE_BUILD_PARALLEL_LEVEL", "2")
        subprocess.check_call(["cmake", "-S", ROOT, "-B", bdir, "-DCMAKE_BUILD_TYPE=Release", "-DHS_BUILD_TESTS=OFF",
                               "-DHS_REPORT_NPM=OFF", "-DHS_PYTHON=ON", f"-DPython3_EXECUTABLE={sys.executable}"])
        subprocess.check_call(["cmake", "--build", bdir, "--target", "_headscan", "-j", jobs])
        built = glob.glob(os.path.join(bdir, "python", "headscan", "_headscan*.so"))
        if len(built) != 1:
            raise RuntimeError(f"the CMake build produced {built!r}, not one _headscan module")
        dest = self.get_ext_fullpath(ext.name)
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        shutil.copyfile(built[0], dest)


setup(ext_modules=[Extension("headscan._headscan", sources=[])], cmdclass={"build_ext": CMakeBuild})
