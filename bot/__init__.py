"""Crieur's channel-agnostic core: messages, dispatching, configuration and the command line."""


def installed_version() -> str:
    """The installed distribution's version, read only when asked (importlib.metadata is heavy)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("crieur")
    except PackageNotFoundError:  # running from a source tree that was not installed
        return "0.0.0"
