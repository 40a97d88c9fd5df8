"""The API documentation: ``/openapi.json``, Swagger UI at ``/docs`` and ReDoc at ``/redoc``.

Who sees them is ``QLQ_API_DOCS``: ``public`` (the development default), ``admin`` (an admin bearer token on
each request, for API tools such as curl or a client generator; a browser needs a proxy or extension that
adds the header), or ``off`` (the production default: the three paths answer 404). The pages load their
JavaScript, CSS and icon from this server (``/docs/assets/…``, the files the ``fastapi-offline`` package
vendors), never from a CDN.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import fastapi_offline
from fastapi import APIRouter, Depends, FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles

from sync_server.auth import require_admin

ASSETS = Path(fastapi_offline.__file__).parent / "static"
ASSETS_URL = "/docs/assets"
OPENAPI_URL = "/openapi.json"


def install(app: FastAPI, access: Literal["public", "admin", "off"]) -> None:
    """Add the documentation routes to ``app`` as ``access`` allows."""
    if access == "off":
        return
    router = APIRouter(include_in_schema=False, dependencies=[Depends(require_admin)] if access == "admin" else [])
    title = app.title

    @router.get(OPENAPI_URL)
    async def openapi() -> JSONResponse:
        return JSONResponse(app.openapi())

    @router.get("/docs")
    async def swagger_ui() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=OPENAPI_URL,
            title=f"{title} — Swagger UI",
            swagger_js_url=f"{ASSETS_URL}/swagger-ui-bundle.js",
            swagger_css_url=f"{ASSETS_URL}/swagger-ui.css",
            swagger_favicon_url=f"{ASSETS_URL}/favicon.png",
        )

    @router.get("/redoc")
    async def redoc() -> HTMLResponse:
        return get_redoc_html(
            openapi_url=OPENAPI_URL,
            title=f"{title} — ReDoc",
            redoc_js_url=f"{ASSETS_URL}/redoc.standalone.js",
            redoc_favicon_url=f"{ASSETS_URL}/favicon.png",
            with_google_fonts=False,
        )

    app.include_router(router)
    app.mount(ASSETS_URL, StaticFiles(directory=ASSETS), name="docs-assets")
