"""Build the Lambda layers into layers/build/<name>/python (stdlib only).

Third-party layers: every layers/<name>/requirements.txt, installed with manylinux wheels for the
functions' platform (CPython 3.13, x86_64) whatever machine runs this script. The `runtime` layer is
the base every function gets; other third-party layers are resolved against it and leave out what it
already holds, so one function never sees two copies (or two versions) of a package.
The `common` layer: functions/common/fileflow_common, copied as is.
The `web` layer: the package functions/web/fileflow_web, with the web page (web/), Uppy's browser bundle
(node_modules/uppy/dist) and hls.js's (node_modules/hls.js/dist), installed by `npm ci`, in its `static/`
directory.

A layer whose inputs (its requirements or sources, and this script) hash to the value stamped after
its last successful build is skipped, so re-running is instant; `--force` rebuilds every layer.

Usage: .venv/bin/python layers/build.py [--force]
"""

from __future__ import annotations

import argparse
import fcntl
import hashlib
import json
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from email.parser import HeaderParser
from pathlib import Path

LAYERS_DIR = Path(__file__).resolve().parent
REPO_ROOT = LAYERS_DIR.parent
BUILD_DIR = LAYERS_DIR / "build"
# Stamps live outside each layer's directory so they never ship inside the layer asset.
STAMP_DIR = BUILD_DIR / ".stamps"
COMMON_PACKAGE = REPO_ROOT / "functions" / "common" / "fileflow_common"
COMMON_LAYER = "common"
WEB_LAYER = "web"
WEB_PACKAGE = REPO_ROOT / "functions" / "web" / "fileflow_web"
WEB_DIR = REPO_ROOT / "web"
# The page's files, by the name the API serves them under (fileflow_web.STATIC_FILES lists the same names):
# web/'s HTML, stylesheet and ES modules, then Uppy's and hls.js's bundles.
WEB_SOURCES = {
    **{path.name: path for path in sorted(WEB_DIR.iterdir()) if path.suffix in {".html", ".css", ".js"}},
    "uppy.min.mjs": REPO_ROOT / "node_modules" / "uppy" / "dist" / "uppy.min.mjs",
    "uppy.min.css": REPO_ROOT / "node_modules" / "uppy" / "dist" / "uppy.min.css",
    "hls.min.mjs": REPO_ROOT / "node_modules" / "hls.js" / "dist" / "hls.min.mjs",
}
BASE_LAYER = "runtime"

# Must match the functions in infra/constructs/lambda_function.py (runtime and architecture).
# Every manylinux tag the python3.13 runtime's glibc (2.34, Amazon Linux 2023) satisfies: pip expands
# manylinux2014 to the older tags only, and some wheels (Pillow 12+) are tagged manylinux_2_28 alone.
GLIBC_MINORS = range(17, 35)
PIP_PLATFORM_ARGS = (
    *(arg for minor in GLIBC_MINORS for arg in ("--platform", f"manylinux_2_{minor}_x86_64")),
    "--platform",
    "manylinux2014_x86_64",
    "--implementation",
    "cp",
    "--python-version",
    "3.13",
    "--only-binary=:all:",
)
# The Lambda Python runtime ships these; a layer copy would shadow the runtime's and bloat the layer.
RUNTIME_PROVIDED = frozenset({"boto3", "botocore", "s3transfer"})
IGNORED_NAMES = ("__pycache__", "*.pyc")


class LayerBuildError(RuntimeError):
    """A layer could not be built."""


@dataclass(frozen=True)
class Layer:
    name: str
    input_hash: str
    populate: Callable[[Path], None]


def _sha256(*parts: bytes) -> str:
    # This script is an input of every layer: changing how layers are built rebuilds them.
    digest = hashlib.sha256(Path(__file__).read_bytes())
    for part in parts:
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


def _display(path: Path) -> str:
    return str(path.relative_to(REPO_ROOT)) if path.is_relative_to(REPO_ROOT) else str(path)


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def installed_distributions(site_dir: Path) -> dict[str, tuple[str, Path]]:
    """Canonical name -> (version, dist-info directory) of what pip installed into site_dir."""
    found: dict[str, tuple[str, Path]] = {}
    for dist_info in site_dir.glob("*.dist-info"):
        metadata = HeaderParser().parsestr((dist_info / "METADATA").read_text(encoding="utf-8"))
        found[_canonical(metadata["Name"])] = (metadata["Version"], dist_info)
    return found


def _remove_distribution(site_dir: Path, dist_info: Path) -> None:
    """Delete every file a distribution installed (its RECORD), then the directories it leaves empty."""
    touched: set[Path] = set()
    for line in (dist_info / "RECORD").read_text(encoding="utf-8").splitlines():
        relative = line.rsplit(",", 2)[0]
        path = (site_dir / relative).resolve()
        if relative and path.is_relative_to(site_dir.resolve()):
            path.unlink(missing_ok=True)
            touched.add(path.parent)
    shutil.rmtree(dist_info, ignore_errors=True)
    for directory in sorted(touched, key=lambda p: len(p.parts), reverse=True):
        while directory != site_dir.resolve() and directory.is_dir() and not any(directory.iterdir()):
            directory.rmdir()
            directory = directory.parent


def _remove_bytecode(root: Path) -> None:
    for cache_dir in sorted(root.rglob("__pycache__"), reverse=True):
        shutil.rmtree(cache_dir, ignore_errors=True)


def _strip(site_dir: Path, also_remove: frozenset[str] = frozenset()) -> None:
    for name, (_version, dist_info) in installed_distributions(site_dir).items():
        if name in RUNTIME_PROVIDED or name in also_remove:
            _remove_distribution(site_dir, dist_info)
    _remove_bytecode(site_dir)
    # Console scripts: their shebangs name the build machine's interpreter, and Lambda never runs them.
    shutil.rmtree(site_dir / "bin", ignore_errors=True)


def _pure_wheels(name: str, sdists: Path, wheel_dir: Path) -> None:
    """Build the sdist-only packages `sdists` lists into wheels, which must be pure Python (any platform)."""
    command = [
        sys.executable,
        "-m",
        "pip",
        "wheel",
        "--quiet",
        "--disable-pip-version-check",
        "--no-input",
        "--no-deps",
        "--no-binary=:all:",
        "--wheel-dir",
        str(wheel_dir),
        "-r",
        str(sdists),
    ]
    result = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
    if result.returncode != 0:
        raise LayerBuildError(
            f"pip could not build the wheels of {_display(sdists)} (layer {name!r}):\n"
            f"{result.stdout}{result.stderr}".rstrip()
        )
    for wheel in wheel_dir.glob("*.whl"):
        if not wheel.name.endswith(("-py3-none-any.whl", "-py2.py3-none-any.whl")):
            raise LayerBuildError(f"{wheel.name} (from {_display(sdists)}) is not a pure-Python wheel")


def _pip_install(
    name: str, requirements: Path, site_dir: Path, constraints: Path | None, find_links: Path | None = None
) -> None:
    command = [
        sys.executable,
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        "--no-input",
        "--no-compile",
        *PIP_PLATFORM_ARGS,
        "--target",
        str(site_dir),
        "-r",
        str(requirements),
        *(["-c", str(constraints)] if constraints else []),
        *(["--find-links", str(find_links)] if find_links else []),
    ]
    result = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
    if result.returncode != 0:
        raise LayerBuildError(
            f"pip failed (exit {result.returncode}) building layer {name!r} from "
            f"{_display(requirements)}:\n{result.stdout}{result.stderr}".rstrip()
        )


def _pip_layer(requirements: Path, base: Layer | None) -> Layer:
    name = requirements.parent.name
    # Packages PyPI has as sdists only (pure Python): built into wheels, which the install then finds.
    sdists = requirements.parent / "sdists.txt"

    def local_wheels(site_dir: Path) -> Path | None:
        if not sdists.is_file():
            return None
        wheel_dir = site_dir.parent / "sdist-wheels"
        _pure_wheels(name, sdists, wheel_dir)
        return wheel_dir

    def populate(site_dir: Path) -> None:
        wheels = local_wheels(site_dir)
        if base is None:
            _pip_install(name, requirements, site_dir, constraints=None, find_links=wheels)
            if wheels is not None:
                shutil.rmtree(wheels)
            _strip(site_dir)
            return
        # Pin what the base layer holds to its versions, then leave those out of this layer.
        base_dists = installed_distributions(BUILD_DIR / base.name / "python")
        constraints = site_dir.parent / "base-constraints.txt"
        constraints.parent.mkdir(parents=True, exist_ok=True)
        constraints.write_text(
            "".join(f"{dist}=={version}\n" for dist, (version, _) in sorted(base_dists.items()))
        )
        _pip_install(name, requirements, site_dir, constraints, find_links=wheels)
        constraints.unlink()
        if wheels is not None:
            shutil.rmtree(wheels)
        _strip(site_dir, also_remove=frozenset(base_dists))

    parts = [requirements.read_bytes(), *([sdists.read_bytes()] if sdists.is_file() else [])]
    if base is not None:
        parts.append(base.input_hash.encode())
    return Layer(name, _sha256(*parts), populate)


def _common_layer() -> Layer:
    parts = [
        part
        for path in sorted(COMMON_PACKAGE.rglob("*"))
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc"
        for part in (path.relative_to(COMMON_PACKAGE).as_posix().encode(), path.read_bytes())
    ]

    def populate(site_dir: Path) -> None:
        if not COMMON_PACKAGE.is_dir():
            raise LayerBuildError(
                f"{_display(COMMON_PACKAGE)} is missing: nothing to build the {COMMON_LAYER!r} layer from"
            )
        shutil.copytree(
            COMMON_PACKAGE, site_dir / COMMON_PACKAGE.name, ignore=shutil.ignore_patterns(*IGNORED_NAMES)
        )

    return Layer(COMMON_LAYER, _sha256(*parts), populate)


def _web_layer() -> Layer:
    missing = [path for path in WEB_SOURCES.values() if not path.is_file()]
    package_files = sorted(
        path
        for path in WEB_PACKAGE.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc"
    )
    parts = [
        part
        for name, path in [
            *((path.relative_to(WEB_PACKAGE).as_posix(), path) for path in package_files),
            *((f"static/{name}", path) for name, path in sorted(WEB_SOURCES.items()) if path.is_file()),
        ]
        for part in (name.encode(), path.read_bytes())
    ]

    def populate(site_dir: Path) -> None:
        if missing:
            raise LayerBuildError(
                f"the {WEB_LAYER!r} layer needs {', '.join(_display(path) for path in missing)}: "
                "run `npm ci` (or `make deps`) for Uppy's and hls.js's bundles; web/ holds the page"
            )
        package_dir = site_dir / WEB_PACKAGE.name
        shutil.copytree(WEB_PACKAGE, package_dir, ignore=shutil.ignore_patterns(*IGNORED_NAMES))
        static_dir = package_dir / "static"
        static_dir.mkdir()
        for name, path in WEB_SOURCES.items():
            shutil.copyfile(path, static_dir / name)

    return Layer(WEB_LAYER, _sha256(*parts), populate)


def discover_layers() -> list[Layer]:
    """The layers in build order: the base layer, the other third-party layers, then common and web."""
    requirement_files = {
        path.parent.name: path
        for path in sorted(LAYERS_DIR.glob("*/requirements.txt"))
        if path.parent != BUILD_DIR
    }
    for reserved in (COMMON_LAYER, WEB_LAYER):
        if reserved in requirement_files:
            raise LayerBuildError(f"layers/{reserved}/ is reserved for the layer built from our sources")
    base = _pip_layer(requirement_files.pop(BASE_LAYER), None) if BASE_LAYER in requirement_files else None
    others = [_pip_layer(path, base) for path in requirement_files.values()]
    return [*([base] if base else []), *others, _common_layer(), _web_layer()]


def _stamp_path(name: str) -> Path:
    return STAMP_DIR / f"{name}.json"


def is_up_to_date(layer: Layer) -> bool:
    stamp = _stamp_path(layer.name)
    if not stamp.is_file() or not (BUILD_DIR / layer.name / "python").is_dir():
        return False
    try:
        return bool(json.loads(stamp.read_text())["input_hash"] == layer.input_hash)
    except (ValueError, KeyError):
        return False


def _size_mb(root: Path) -> float:
    return sum(path.stat().st_size for path in root.rglob("*") if path.is_file()) / 1_000_000


def build_layer(layer: Layer, *, force: bool = False) -> str:
    """Build one layer unless it is up to date; return the line to print."""
    started = time.monotonic()
    layer_dir = BUILD_DIR / layer.name
    if not force and is_up_to_date(layer):
        # Running code from the layer (a local executor, a test) may have written bytecode since.
        _remove_bytecode(layer_dir)
        status = "up to date"
    else:
        # Build beside the old copy and swap at the end: a failed build never leaves a half-built layer.
        staging = BUILD_DIR / f".{layer.name}.staging"
        shutil.rmtree(staging, ignore_errors=True)
        _stamp_path(layer.name).unlink(missing_ok=True)
        try:
            layer.populate(staging / "python")
            shutil.rmtree(layer_dir, ignore_errors=True)
            staging.rename(layer_dir)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        STAMP_DIR.mkdir(parents=True, exist_ok=True)
        _stamp_path(layer.name).write_text(json.dumps({"input_hash": layer.input_hash}) + "\n")
        status = "built"
    elapsed = time.monotonic() - started
    return f"{layer.name:<10} {status:<10} {_size_mb(layer_dir):7.1f} MB {elapsed:6.1f} s"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--force", action="store_true", help="rebuild the layers that are up to date too")
    args = parser.parse_args(argv)
    BUILD_DIR.mkdir(parents=True, exist_ok=True)
    try:
        # One build at a time (parallel test workers, make -j): the others wait, then find it up to date.
        with (BUILD_DIR / ".lock").open("w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            for layer in discover_layers():
                print(build_layer(layer, force=args.force), flush=True)
    except LayerBuildError as error:
        print(f"layers/build.py: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
