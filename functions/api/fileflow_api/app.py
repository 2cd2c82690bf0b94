"""The FastAPI application factory; the composition root (handler.py) injects real adapters."""

from collections.abc import Sequence

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from fileflow_api.audit import routes as audit_routes
from fileflow_api.core.security import SecurityHeadersMiddleware
from fileflow_api.dependencies import ApiDependencies
from fileflow_api.errors import register_exception_handlers
from fileflow_api.events import routes as file_event_routes
from fileflow_api.files import detail_routes as file_detail_routes
from fileflow_api.files import routes as file_routes
from fileflow_api.health import routes as health
from fileflow_api.hls import routes as hls_routes
from fileflow_api.page import routes as web_page
from fileflow_api.uploads import routes as upload_routes
from fileflow_api.uploads import token_routes as upload_tokens
from fileflow_api.uploads import uppy_routes


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
