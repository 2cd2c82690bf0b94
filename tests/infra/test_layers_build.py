"""layers/build.py: platform wheels, nothing the runtime ships, no duplicates, instant re-runs."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest
from aws_cdk import App, Stack

from infra.constructs import layers as layers_construct
from tests.infra.synth import REPO_ROOT


def _load_build_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("fileflow_layers_build", REPO_ROOT / "layers" / "build.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses resolve their module through sys.modules
    spec.loader.exec_module(module)
    return module


build = _load_build_module()


@pytest.fixture
def site_dirs(built_layers: None) -> dict[str, Path]:
    return {layer.name: build.BUILD_DIR / layer.name / "python" for layer in build.discover_layers()}


def test_rerunning_the_build_is_a_no_op(built_layers: None, capsys: pytest.CaptureFixture[str]) -> None:
    # Given layers built by the session fixture
    # When the build runs again
    assert build.main([]) == 0
    lines = capsys.readouterr().out.splitlines()
    # Then it reports every layer up to date, one line each
    assert [line.split()[0] for line in lines] == [
        "runtime",
        "ai",
        "analysis",
        "api",
        "crypto",
        "documents",
        "images",
        "video",
        "webhooks",
        "common",
        "web",
    ]
    assert all("up to date" in line for line in lines), lines


def test_layers_hold_no_runtime_provided_packages_and_no_bytecode(site_dirs: dict[str, Path]) -> None:
    # Given every built layer
    for name, site_dir in site_dirs.items():
        # When listing its top-level entries and its caches
        top_level = {path.name for path in site_dir.iterdir()}
        # Then boto3/botocore/s3transfer (the Lambda runtime ships them) and __pycache__ are absent
        assert not top_level & {"boto3", "botocore", "s3transfer"}, name
        assert not any(site_dir.rglob("__pycache__")), name
        assert not any(site_dir.rglob("*.pyc")), name


def _is_elf_x86_64(path: Path) -> bool:
    header = path.read_bytes()[:20]
    # ELF magic, then e_machine (little-endian, offset 18): 62 is EM_X86_64
    return header[:4] == b"\x7fELF" and int.from_bytes(header[18:20], "little") == 62


def test_layers_hold_linux_x86_64_cpython_3_13_binaries(site_dirs: dict[str, Path]) -> None:
    # Given the runtime layer (pydantic-core is compiled)
    extensions = list(site_dirs["runtime"].rglob("*.so"))
    # Then its extension modules are built for CPython 3.13 (or the stable ABI)
    # on Linux x86_64, whatever machine built them
    assert extensions
    for path in extensions:
        assert "cpython-313-x86_64-linux-gnu" in path.name or path.name.endswith(".abi3.so"), path.name
        assert _is_elf_x86_64(path), path.name


def test_api_layer_leaves_out_what_the_runtime_layer_holds(site_dirs: dict[str, Path]) -> None:
    # Given the runtime and api layers (fastapi depends on pydantic, which the runtime layer holds)
    runtime = build.installed_distributions(site_dirs["runtime"])
    api = build.installed_distributions(site_dirs["api"])
    # Then no distribution is in both, so a function never sees two copies or versions of one
    assert "pydantic" in runtime
    assert "fastapi" in api
    assert not set(runtime) & set(api)


def test_stage_layers_hold_their_libraries_built_for_the_lambda_platform(site_dirs: dict[str, Path]) -> None:
    # Given the stages' layers (Pillow 13 publishes manylinux_2_28 wheels only)
    documents = build.installed_distributions(site_dirs["documents"])
    video = build.installed_distributions(site_dirs["video"])
    assert {"pypdf", "python-docx", "lxml", "charset-normalizer"} <= set(documents)
    assert "pillow" not in documents
    assert set(video) == {"imageio-ffmpeg"}
    [ffmpeg] = list((site_dirs["video"] / "imageio_ffmpeg" / "binaries").glob("ffmpeg-*"))
    assert ffmpeg.stat().st_mode & 0o111, "the ffmpeg binary lost its execute bit"
    processing = build.installed_distributions(site_dirs["images"])
    runtime = build.installed_distributions(site_dirs["runtime"])
    # Then it holds the processing libraries, none of the runtime layer's, and Pillow's compiled core
    # for CPython 3.13 on Linux x86_64 (with the codecs it links bundled in pillow.libs)
    assert set(processing) == {"pillow"}
    assert not set(processing) & set(runtime)
    [imaging] = list((site_dirs["images"] / "PIL").glob("_imaging.*.so"))
    assert "cpython-313-x86_64-linux-gnu" in imaging.name
    assert _is_elf_x86_64(imaging)
    assert any("webp" in path.name for path in (site_dirs["images"] / "pillow.libs").iterdir())


def _mib(site_dir: Path) -> float:
    return sum(path.stat().st_size for path in site_dir.rglob("*") if path.is_file()) / (1024 * 1024)


def test_analysis_layer_holds_the_local_ai_libraries_and_fits_with_its_stages_layers(
    site_dirs: dict[str, Path],
) -> None:
    # Given the analysis layer (langdetect is an sdist on PyPI: built here into a pure-Python wheel)
    analysis = build.installed_distributions(site_dirs["analysis"])
    # Then it holds numpy, faster-paddle (OCR models bundled), langdetect and yake, no Pillow, no scipy
    assert {"numpy", "faster-paddle", "langdetect", "yake"} <= set(analysis)
    assert not {"pillow", "scipy", "onnxruntime"} & set(analysis)
    assert analysis["faster-paddle"][0] == "1.0.4"
    [engine] = list((site_dirs["analysis"] / "faster_paddle").glob("*.so"))
    assert _is_elf_x86_64(engine)
    assert not (site_dirs["analysis"].parent / "sdist-wheels").exists()
    # And the analysis stage's layers, unzipped, stay under Lambda's 250 MiB (function code aside)
    total = sum(_mib(site_dirs[name]) for name in ("runtime", "common", "images", "analysis"))
    assert total < 240, f"the analysis stage's layers take {total:.1f} MiB"


def test_no_two_layers_hold_the_same_file(site_dirs: dict[str, Path]) -> None:
    # Given the files of every layer, as they land under /opt/python
    seen: dict[str, str] = {}
    for name, site_dir in site_dirs.items():
        for path in site_dir.rglob("*"):
            if path.is_file():
                relative = str(path.relative_to(site_dir))
                # Then no file comes from two layers, so the order Lambda stacks them in does not matter
                assert relative not in seen, f"{relative} is in layers {seen.get(relative)} and {name}"
                seen[relative] = name


def test_common_layer_is_a_copy_of_fileflow_common(site_dirs: dict[str, Path]) -> None:
    # Given the sources of fileflow_common and the common layer
    def files(root: Path) -> dict[str, bytes]:
        return {
            str(path.relative_to(root)): path.read_bytes()
            for path in root.rglob("*")
            if path.is_file() and "__pycache__" not in path.parts
        }

    # Then the layer holds exactly the package's files
    assert files(site_dirs["common"] / "fileflow_common") == files(build.COMMON_PACKAGE)


def layer_hash(name: str) -> str:
    return str(next(layer.input_hash for layer in build.discover_layers() if layer.name == name))


def test_common_layer_hash_follows_sources_but_not_bytecode(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a package standing in for fileflow_common
    package = tmp_path / "fileflow_common"
    package.mkdir()
    (package / "__init__.py").write_text("VERSION = 1\n")
    monkeypatch.setattr(build, "COMMON_PACKAGE", package)
    before = layer_hash("common")
    # When only bytecode appears, the hash stays; when a source changes, it moves
    (package / "__pycache__").mkdir()
    (package / "__pycache__" / "__init__.cpython-313.pyc").write_bytes(b"\x00")
    assert layer_hash("common") == before
    (package / "__init__.py").write_text("VERSION = 2\n")
    assert layer_hash("common") != before


def test_pip_failure_is_a_clear_error(tmp_path: Path) -> None:
    # Given a requirements file pip cannot parse
    requirements = tmp_path / "broken" / "requirements.txt"
    requirements.parent.mkdir()
    requirements.write_text("this is not a requirement\n")
    # When installing it
    with pytest.raises(build.LayerBuildError, match=r"pip failed \(exit \d+\) building layer 'broken'"):
        build._pip_install("broken", requirements, tmp_path / "site", constraints=None)


def test_synth_without_built_layers_says_to_run_make_layers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given no built layers
    monkeypatch.setattr(layers_construct, "LAYERS_BUILD_DIR", tmp_path / "layers" / "build")
    monkeypatch.setattr(layers_construct, "REPO_ROOT", tmp_path)
    # When the layers construct is created
    # Then it fails before synth with what to do
    with pytest.raises(layers_construct.LayerBuildMissingError, match="run `make layers`"):
        layers_construct.Layers(Stack(App(), "NoLayers"), "Layers")


def test_web_layer_holds_the_page_and_uppys_bundle_under_fileflow_web(site_dirs: dict[str, Path]) -> None:
    # Given the built web layer alone on an isolated interpreter's path (as in the API function)
    site_dir = site_dirs["web"]
    script = (
        "import hashlib, json, sys; sys.path.insert(0, sys.argv[1]); import fileflow_web; "
        "files = fileflow_web.read_static_files(); "
        "print(json.dumps({name: hashlib.sha256(body).hexdigest() for name, body in files.items()}))"
    )
    # When fileflow_web reads its static files through importlib.resources
    result = subprocess.run(
        [sys.executable, "-I", "-S", "-c", script, str(site_dir)], capture_output=True, text=True, check=True
    )
    digests = json.loads(result.stdout)
    # Then exactly the served names are there, byte for byte the sources (web/, node_modules/uppy/dist)
    assert set(digests) == set(build.WEB_SOURCES)
    assert {path.name for path in (site_dir / "fileflow_web" / "static").iterdir()} == set(digests)
    for name, source in build.WEB_SOURCES.items():
        assert digests[name] == hashlib.sha256(source.read_bytes()).hexdigest(), name


def test_web_layer_hash_follows_the_page_sources(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given web sources standing in for web/ and Uppy's bundle
    sources = {name: tmp_path / name for name in build.WEB_SOURCES}
    for path in sources.values():
        path.write_text("v1")
    monkeypatch.setattr(build, "WEB_SOURCES", sources)
    before = layer_hash("web")
    # When one of them changes, the layer's hash moves (so `make layers` rebuilds it)
    sources["app.js"].write_text("v2")
    assert layer_hash("web") != before


def test_web_layer_without_uppy_says_to_run_npm_ci(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given Uppy's bundle missing (no `npm ci` yet)
    sources = {**build.WEB_SOURCES, "uppy.min.mjs": tmp_path / "node_modules" / "uppy" / "uppy.min.mjs"}
    monkeypatch.setattr(build, "WEB_SOURCES", sources)
    (web,) = [layer for layer in build.discover_layers() if layer.name == "web"]
    # When building the web layer
    # Then it fails saying what to run
    with pytest.raises(build.LayerBuildError, match=r"run `npm ci`"):
        web.populate(tmp_path / "site")
