"""The console as an ASGI application: pages, static files, the guard, its state.

``create_app(config)`` opens the account store and the gateway channel once; every
page module in :data:`PAGES` that exists adds its routes (a screen is one module).
"""

from __future__ import annotations

import contextlib
import importlib
from collections.abc import AsyncIterator
from pathlib import Path

import structlog
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount
from starlette.staticfiles import StaticFiles

from hedui.console import web
from hedui.console.accounts import AccountStore
from hedui.console.config import ConsoleConfig
from hedui.console.gateway import ConsoleGateway
from hedui.console.security import ConsoleMiddleware
from hedui.console.signin import SignIn
from hedui.keys.secrets import load_secret

log = structlog.get_logger("hedui.console")
STATIC = Path(__file__).resolve().parent / "static"
#: the screens, in the order their routes are tried
PAGES = ("signin", "work", "case_new", "case", "search", "batch", "statistics", "admin",
         "account", "report_check", "reverify")


def _routes() -> list[BaseRoute]:
    routes: list[BaseRoute] = []
    for name in PAGES:
        try:
            module = importlib.import_module(f"hedui.console.pages.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"hedui.console.pages.{name}":
                continue  # a screen not built yet
            raise
        routes.extend(module.routes)
    routes.append(Mount("/static", StaticFiles(directory=STATIC), name="static"))
    return routes


async def _not_found(request: Request, exc: Exception) -> Response:
    return web.problem(request, web.gettext(request, "没有这个页面。"), status_code=404)


async def _server_error(request: Request, exc: Exception) -> Response:
    log.exception("console page failed", path=request.url.path)
    message = web.gettext(request, "页面出错了，请稍后再试；如持续出现请联系管理员。")
    return web.problem(request, message, status_code=500)


def create_app(config: ConsoleConfig) -> Starlette:
    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        app.state.gateway.close()

    app = Starlette(routes=_routes(), middleware=[Middleware(ConsoleMiddleware)],
                    exception_handlers={404: _not_found, 500: _server_error},
                    lifespan=lifespan)
    app.state.config = config
    app.state.accounts = AccountStore(config.database, load_secret(config.secrets_key))
    app.state.sign_in = SignIn(app.state.accounts, config)
    app.state.gateway = ConsoleGateway(config)
    return app
