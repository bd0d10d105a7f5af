"""Crieur's channel-agnostic core: messages, dispatching, configuration and the command line."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("crieur")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0.0.0"
