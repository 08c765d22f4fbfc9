"""The ASGI application the live-server tests serve: the project's own."""

from __future__ import annotations


def build_application():
    from marketplace.asgi import application

    return application
