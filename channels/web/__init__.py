"""The web channel: the chat page, its JSON API and the HTTP plumbing they need."""

from channels.web.server import create_web_app

__all__ = ["create_web_app"]
