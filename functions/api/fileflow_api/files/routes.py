"""The files capability's routes: listing and search first, then one file's detail, tags and deletion."""

from fastapi import APIRouter

from fileflow_api.files import detail_routes, listing_routes

router = APIRouter()
# /v1/files/search before /v1/files/{file_id}: the first route that matches a path serves it.
router.include_router(listing_routes.router)
router.include_router(detail_routes.router)
