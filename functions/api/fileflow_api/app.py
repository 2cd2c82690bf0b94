"""The FastAPI application factory; the composition root (handler.py) injects real adapters."""

from collections.abc import Sequence

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from fileflow_api import (
    audit_routes,
    file_detail_routes,
    file_event_routes,
    file_routes,
    health,
    hls_routes,
    upload_routes,
    upload_tokens,
    uppy_routes,
    web_page,
)
from fileflow_api.dependencies import ApiDependencies
from fileflow_api.errors import register_exception_handlers
from fileflow_api.security import SecurityHeadersMiddleware


def create_app(dependencies: ApiDependencies, *, allowed_origins: Sequence[str] = ()) -> FastAPI:
    app = FastAPI(title="Fileflow API", version="0.1.0")
    app.state.dependencies = dependencies
    app.include_router(health.router)
    app.include_router(upload_tokens.router)
    app.include_router(upload_routes.router)
    app.include_router(uppy_routes.router)
    # /v1/files/search before /v1/files/{file_id}: the first router that matches a path serves it.
    app.include_router(file_routes.router)
    app.include_router(file_detail_routes.router)
    app.include_router(file_event_routes.router)
    app.include_router(hls_routes.router)
    app.include_router(audit_routes.router)
    app.include_router(web_page.router)
    register_exception_handlers(app)
    app.add_middleware(
        CORSMiddleware,
        allow_origins=list(allowed_origins),
        allow_methods=["GET", "POST", "PUT", "DELETE", "OPTIONS"],
        allow_headers=["Authorization", "Content-Type"],
        max_age=600,
    )
    # Added last = outermost: CORS preflights and 404/422 responses get the headers too.
    app.add_middleware(SecurityHeadersMiddleware)
    return app
