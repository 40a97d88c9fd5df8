"""The centre's web console: server-rendered pages under ``/console/`` for researchers (dashboard, export)
and admins (sites, devices, users, audit log, GDPR), served by the same FastAPI app on the same services,
roles, tokens and audit as the ``/v1`` API. See docs/server.md, "Web console"."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from sync_server.console.web import HERE, PREFIX, LoginRequired, PageForbidden, finish, render


def install_console(app: FastAPI) -> None:
    """Mount the console's pages and static files on ``app``, with the handlers of its two page signals."""
    from sync_server.console.routes import router

    app.include_router(router)
    app.mount(f"{PREFIX}/static", StaticFiles(directory=HERE / "static"), name="console-static")

    @app.exception_handler(LoginRequired)
    async def _login(request: Request, exc: LoginRequired) -> Response:
        target = request.url.path if request.method == "GET" else f"{PREFIX}/dashboard"
        notice = "&notice=expired" if exc.expired else ""
        from urllib.parse import quote

        return finish(RedirectResponse(f"{PREFIX}/login?next={quote(target)}{notice}", status_code=303), request)

    @app.exception_handler(PageForbidden)
    async def _forbidden(request: Request, exc: PageForbidden) -> Response:
        return render(request, "forbidden.html", status_code=403, message_key=exc.message_key, values=exc.values)


__all__ = ["install_console"]
