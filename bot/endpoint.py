"""The operators' HTTP endpoint of `wegweiser run`: /health (JSON) and /metrics (Prometheus).

Served by tornado, which the Telegram webhook already uses, on the event loop of the bot, on
a local address by default ([metrics] listen). It answers only GET on these two paths and
never shows anything about a conversation: see bot/metrics.py.
"""

from __future__ import annotations

import json

from prometheus_client.exposition import choose_encoder
from tornado.httpserver import HTTPServer
from tornado.log import access_log as access
from tornado.web import Application, RequestHandler

from bot.config import split_listen
from bot.metrics import Metrics


class EndpointError(RuntimeError):
    """The endpoint cannot listen where it was told to; the message says how to fix it."""


class _Health(RequestHandler):
    def initialize(self, metrics: Metrics) -> None:
        self.metrics = metrics

    async def get(self) -> None:
        await self.metrics.probe_store()
        self.set_status(200 if self.metrics.healthy else 503)
        self.set_header("Content-Type", "application/json; charset=utf-8")
        self.set_header("Cache-Control", "no-store")
        self.finish(json.dumps(self.metrics.health(), ensure_ascii=False))


class _Metrics(RequestHandler):
    def initialize(self, metrics: Metrics) -> None:
        self.metrics = metrics

    async def get(self) -> None:
        await self.metrics.probe_store()
        encoder, content_type = choose_encoder(self.request.headers.get("Accept", ""))
        self.set_header("Content-Type", content_type)
        self.finish(encoder(self.metrics.registry))


def _log_errors_only(handler: RequestHandler) -> None:
    """Health checks and scrapes come every few seconds: an access line each would bury the
    log. Only requests the endpoint could not answer are logged (a 503 is an answer)."""
    if handler.get_status() >= 500 and handler.get_status() != 503:
        access.error("%d %s", handler.get_status(), handler.request.path)


def serve(metrics: Metrics, listen: str) -> HTTPServer:
    """Start serving on the running event loop; `server.stop()` ends it."""
    host, port = split_listen(listen)
    app = Application([(r"/health", _Health, {"metrics": metrics}),
                       (r"/metrics", _Metrics, {"metrics": metrics})],
                      log_function=_log_errors_only)
    server = HTTPServer(app, xheaders=False)
    try:
        server.listen(port, address=host)
    except OSError as err:
        raise EndpointError(
            f"the health and metrics endpoint cannot listen on {listen} ({err.strerror}): "
            "another program (or another Wegweiser worker) may use that port. Set "
            "[metrics] listen in the config file or WEGWEISER_METRICS_LISTEN to a free "
            'address:port, or to "off"') from None
    return server
