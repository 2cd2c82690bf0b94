"""The FastAPI application factory; the composition root (handler.py) injects real adapters."""

from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from fileflow_api.audit import routes as audit
from fileflow_api.core.security import SecurityHeadersMiddleware
from fileflow_api.dependencies import ApiDependencies
from fileflow_api.errors import register_exception_handlers
from fileflow_api.events import routes as events
from fileflow_api.files import routes as files
from fileflow_api.health import routes as health
from fileflow_api.hls import routes as hls
from fileflow_api.page import routes as page
from fileflow_api.reviews import routes as reviews
from fileflow_api.uploads import routes as uploads
from fileflow_api.usage import routes as usage
from fileflow_api.webhooks import routes as webhooks


def create_app(dependencies: ApiDependencies, *, allowed_origins: Sequence[str] = ()) -> FastAPI:
    app = _routed_app(allowed_origins)
    app.state.dependencies = dependencies
    return app


def openapi_document() -> dict[str, Any]:
    """The API's OpenAPI description: its routes' alone, so no dependency is built for it."""
    return _routed_app(()).openapi()


def _routed_app(allowed_origins: Sequence[str]) -> FastAPI:
    app = FastAPI(title="Fileflow API", version="0.1.0")
    # Order matters where paths overlap: the first route that matches a path serves it.
    for capability in (health, uploads, files, events, hls, webhooks, reviews, usage, audit, page):
        app.include_router(capability.router)
    register_exception_handlers(app)
    app.add_middleware(
        CORSMiddleware,
        allow_origins=list(allowed_origins),
        allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
        allow_headers=["Authorization", "Content-Type"],
        max_age=600,
    )
    # Added last = outermost: CORS preflights and 404/422 responses get the headers too.
    app.add_middleware(SecurityHeadersMiddleware)
    return app
