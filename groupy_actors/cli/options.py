"""Argument parsing that fails the way users deserve: one line, exit 2."""
from __future__ import annotations

import argparse
import sys
from typing import Callable, NoReturn


class UsageError(Exception):
    """Bad input from the user: shown as one line, exit status 2."""


class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def number(kind: type, low: float | None = None, high: float | None = None,
           what: str = "a number") -> Callable[[str], float]:
    def parse(text: str) -> float:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not {what}") from None
        if (low is not None and value < low) or (high is not None and value > high):
            raise argparse.ArgumentTypeError(f"{text} is not {what}")
        return value
    parse.__name__ = what
    return parse


count = number(int, 1, what="a whole number of at least 1")
natural = number(int, 0, what="a whole number of at least 0")
seconds = number(float, 0.0, what="a number of seconds (0 or more)")
positive_seconds = number(float, 1e-3, what="a number of seconds above 0")
probability = number(float, 0.0, 1.0, what="a probability between 0 and 1")
port = number(int, 1, 65535, what="a port number (1-65535)")


def fail(message: str) -> NoReturn:
    raise UsageError(message)


def say(text: str = "") -> None:
    print(text, flush=True)


def warn(text: str) -> None:
    print(text, file=sys.stderr, flush=True)
