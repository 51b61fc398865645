"""Running the application with uvicorn: the address to open, and a clean stop on Ctrl-C."""

from __future__ import annotations

from typing import Callable

from csvnlp.serve.config import ServeConfig


def address(config: ServeConfig) -> str:
    host = f"[{config.host}]" if ":" in config.host and not config.host.startswith("[") else config.host
    shown = "127.0.0.1" if host in ("0.0.0.0", "[::]") else host
    return f"http://{shown}:{config.port}/" + (f"?token={config.token}" if config.token else "")


def check_port_free(config: ServeConfig) -> None:
    """A clear error before the model loads, rather than uvicorn's log line after it."""
    import socket

    from csvnlp.serve.config import ServeConfigError

    family = socket.AF_INET6 if ":" in config.host.strip("[]") else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((config.host.strip("[]"), config.port))
        except OSError as exc:
            raise ServeConfigError(f"cannot listen on {config.host}:{config.port} ({exc.strerror}); "
                                   "choose another --port, or stop what is using it") from None


def run(config: ServeConfig, announce: Callable[[str], None] = print) -> None:
    """Build the app (loading the model and the tables first, so start-up errors are typed
    errors for the CLI) and serve it until interrupted."""
    import uvicorn

    from csvnlp.serve.app import create_app
    from csvnlp.serve.config import checked_config

    config = checked_config(config)  # unsafe or impossible options first, whatever the port
    check_port_free(config)
    app = create_app(config)
    announce(f"csvnlp serve: open {address(config)}  (Ctrl-C to stop)")
    try:
        uvicorn.run(app, host=config.host, port=config.port, log_level="warning", server_header=False,
                    proxy_headers=False, timeout_graceful_shutdown=5)
    finally:
        app.state.serve.close()
