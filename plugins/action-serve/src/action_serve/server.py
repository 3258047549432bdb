"""Running the application with uvicorn: in the foreground (``action-run serve``) or on a background thread
(tests, benchmarks, notebooks), on a socket bound before the server starts so that port 0 works."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from typing import Any

__all__ = ["BackgroundServer", "bind", "run"]


def bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host:port`` (``port`` 0: any free port), IPv6 when ``host`` is one."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host.strip("[]"), port))
    except OSError as e:
        sock.close()
        raise OSError(e.errno, f"cannot listen on {host}:{port}: {e.strerror}; choose another --port") from e
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def _config(app: Any, *, log_level: str, access_log: bool) -> Any:
    import uvicorn

    return uvicorn.Config(
        app,
        log_level=log_level,
        access_log=access_log,
        timeout_graceful_shutdown=10,
        server_header=False,
        proxy_headers=False,
    )


def run(app: Any, sock: socket.socket, *, log_level: str = "info") -> None:
    """Serve ``app`` on ``sock`` until interrupted (Ctrl-C or SIGTERM end it gracefully)."""
    import uvicorn

    uvicorn.Server(_config(app, log_level=log_level, access_log=True)).run(sockets=[sock])


class BackgroundServer:
    """``app`` served on a thread: ``with BackgroundServer(app) as server: httpx.get(server.url + "/healthz")``.

    Binds ``host`` (loopback by default) on a free port unless ``port`` is given; leaving the block shuts the
    server down (and the application's shutdown removes its temporary folder).
    """

    def __init__(
        self, app: Any, *, host: str = "127.0.0.1", port: int = 0, log_level: str = "warning"
    ) -> None:
        import uvicorn

        self.app = app
        self.sock = bind(host, port)
        name = self.sock.getsockname()
        self.host, self.port = name[0], int(name[1])
        shown = f"[{self.host}]" if ":" in self.host else self.host
        self.url = f"http://{shown}:{self.port}"
        self.server = uvicorn.Server(_config(app, log_level=log_level, access_log=False))
        self.thread = threading.Thread(target=self._serve, name=f"action-serve:{self.port}", daemon=True)
        self.error: BaseException | None = None

    def _serve(self) -> None:
        try:
            asyncio.run(self.server.serve(sockets=[self.sock]))
        except BaseException as e:  # reported by start() / stop()
            self.error = e

    def start(self, timeout: float = 30.0) -> BackgroundServer:
        """Start serving and wait until the server accepts requests."""
        self.thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started:
            if self.error is not None or not self.thread.is_alive():
                raise RuntimeError(f"the server on {self.url} did not start: {self.error!r}") from self.error
            if time.monotonic() > deadline:
                raise TimeoutError(f"the server on {self.url} did not start within {timeout} s")
            time.sleep(0.02)
        return self

    def stop(self, timeout: float = 30.0) -> None:
        """Shut down gracefully (requests in progress finish) and wait for the thread."""
        self.server.should_exit = True
        self.thread.join(timeout)
        self.sock.close()
        if self.thread.is_alive():
            raise TimeoutError(f"the server on {self.url} did not stop within {timeout} s")

    def __enter__(self) -> BackgroundServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
