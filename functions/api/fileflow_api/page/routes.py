"""The upload page: `GET /app/` and `GET /app/static/{name}`, public, from the `web` layer's files.

Served by the API function so the page and the API share one origin (no CORS for its API calls), on
AWS and on the local cloud alike; what is served, and with which headers, is assets.py's.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response, status
from fastapi.exceptions import HTTPException

from fileflow_api.dependencies import ApiDependencies, get_dependencies
from fileflow_api.page.assets import INDEX, WebPage


def get_web_page(dependencies: Annotated[ApiDependencies, Depends(get_dependencies)]) -> WebPage:
    return dependencies.web_page()


Page = Annotated[WebPage, Depends(get_web_page)]

router = APIRouter(prefix="/app", include_in_schema=False)


@router.get("")
def page_without_slash() -> Response:
    # Relative, so it stays under the stage or base path, which this function does not see in `path`.
    return Response(status_code=status.HTTP_308_PERMANENT_REDIRECT, headers={"Location": "app/"})


@router.get("/")
def page(request: Request, web: Page) -> Response:
    return web.respond(INDEX, request)


@router.get("/static/{name}")
def static_file(name: str, request: Request, web: Page) -> Response:
    if name == INDEX:  # the page lives at /app/ only: one URL, one cache entry
        raise HTTPException(status_code=status.HTTP_404_NOT_FOUND)
    return web.respond(name, request)
