"""An ASGI application for tests: Django for HTTP and the project's websocket routes plus
messaging's, behind the same origin check and session authentication as marketplace/asgi.py."""

from __future__ import annotations

from channels.auth import AuthMiddlewareStack
from channels.routing import ProtocolTypeRouter, URLRouter
from channels.security.websocket import AllowedHostsOriginValidator
from django.core.asgi import get_asgi_application

from marketplace.routing import websocket_urlpatterns as project_routes
from messaging.routing import websocket_urlpatterns as chat_routes


def _routes() -> list:
    wired = any(str(getattr(r, "pattern", "")) == "ws/chat/" for r in project_routes)
    return list(project_routes) if wired else [*chat_routes, *project_routes]


def build_application():
    return ProtocolTypeRouter(
        {
            "http": get_asgi_application(),
            "websocket": AllowedHostsOriginValidator(AuthMiddlewareStack(URLRouter(_routes()))),
        }
    )
