"""The uploads capability's routes: upload tokens, upload sessions (bearer) and Uppy's S3 companion routes."""

from fastapi import APIRouter

from fileflow_api.uploads import session_routes, token_routes, uppy_routes

router = APIRouter()
router.include_router(token_routes.router)
router.include_router(session_routes.router)
router.include_router(uppy_routes.router)
