"""The Lambda layers, from what layers/build.py put in layers/build/<name>/."""

from __future__ import annotations

from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from infra.constructs.lambda_function import ARCHITECTURE, RUNTIME
from infra.paths import LAYERS_BUILD_DIR, REPO_ROOT


class LayerBuildMissingError(RuntimeError):
    """A layer has not been built: synth would package an empty or stale directory."""


class Layers(Construct):
    """`runtime` (Powertools, pydantic, PyJWT), `crypto` (cryptography: RS256/ES256 tokens, encrypted PDFs),
    `api` (FastAPI), `images`, `documents`, `video`, `analysis` (the stages'), `ai` (the AI stage's),
    `webhooks` (the sender's), `common`, `web` (the upload page and Uppy's browser bundle, served by the API
    function)."""

    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        self.runtime = self._layer("Runtime", "runtime", "Powertools, pydantic and pydantic-settings")
        self.crypto = self._layer(
            "Crypto",
            "crypto",
            "cryptography: RS256/ES256 tokens, AES-encrypted PDFs (needs the runtime layer)",
        )
        self.api = self._layer("Api", "api", "FastAPI and Mangum (needs the runtime layer)")
        self.images = self._layer("Images", "images", "Pillow, for the image stage (needs the runtime layer)")
        self.documents = self._layer(
            "Documents",
            "documents",
            "pypdf, python-docx, charset-normalizer: the detect, document and archive stages",
        )
        self.video = self._layer("Video", "video", "imageio-ffmpeg (a static ffmpeg), for the video stage")
        self.ai = self._layer(
            "Ai", "ai", "anthropic (the Claude SDK), for the AI stage (needs the runtime layer)"
        )
        self.analysis = self._layer(
            "Analysis",
            "analysis",
            "numpy, faster-paddle, langdetect, yake: the analysis stage's local features (with images)",
        )
        self.webhooks = self._layer(
            "Webhooks",
            "webhooks",
            "httpx and standardwebhooks: the webhook sender (needs the runtime layer)",
        )
        self.common = self._layer("Common", "common", "fileflow_common, the code every function shares")
        self.web = self._layer("Web", "web", "fileflow_web: the upload page's static files and Uppy's bundle")

    def _layer(self, construct_id: str, name: str, description: str) -> lambda_.LayerVersion:
        build_dir = LAYERS_BUILD_DIR / name
        if not (build_dir / "python").is_dir():
            raise LayerBuildMissingError(
                f"Layer {name!r} is not built ({build_dir.relative_to(REPO_ROOT)}/python is missing): "
                "run `make layers` (or `.venv/bin/python layers/build.py`) first."
            )
        return lambda_.LayerVersion(
            self,
            construct_id,
            # Bytecode written by whatever ran the layer's code locally must not change the asset.
            code=lambda_.Code.from_asset(str(build_dir), exclude=["**/__pycache__", "**/*.pyc"]),
            compatible_runtimes=[RUNTIME],
            compatible_architectures=[ARCHITECTURE],
            description=description,
        )
