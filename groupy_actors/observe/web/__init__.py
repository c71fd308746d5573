"""The live web page of a running group (see server.py)."""
from .server import ACTIONS, WebError, WebServer, missing

__all__ = ["ACTIONS", "WebError", "WebServer", "missing"]
