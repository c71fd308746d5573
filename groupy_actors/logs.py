"""Logging from code that runs inside actors."""
from __future__ import annotations

import logging


def log(name: str) -> logging.Logger:
    """The logger `name`, looked up at each use: Thespian replaces the
    logging machinery in every actor process after our modules were
    imported."""
    return logging.getLogger(name)
