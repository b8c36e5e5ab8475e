"""/health and /metrics over HTTP (bot/endpoint.py), with a real Redis server that goes away
and comes back, and a port that is taken."""

from __future__ import annotations

import asyncio
import json
import urllib.error
import urllib.request
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.endpoint import EndpointError, serve
from bot.metrics import RUNNING, Metrics
from bot.status import fetch, render, status_url
from bot.store.redis import RedisStore

from tests.net import free_port
from tests.redis_server import RedisServer


class Ready:
    ready = True


def _get(url: str) -> tuple[int, str, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as answer:
            return answer.status, answer.headers["Content-Type"], answer.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, err.headers["Content-Type"], err.read().decode()


@pytest.fixture
async def watched(tmp_path: Path) -> AsyncIterator[tuple[str, RedisServer, Metrics]]:
    server = RedisServer(tmp_path)
    server.start()
    store = RedisStore.from_url(server.url)
    metrics = Metrics()
    metrics.current = {"telegram": Ready()}
    metrics.adapter_state("telegram", RUNNING)
    metrics.watch_store(store)
    listen = f"127.0.0.1:{free_port()}"
    endpoint = serve(metrics, listen)
    yield f"http://{listen}", server, metrics
    endpoint.stop()
    await store.close()
    server.stop()


async def test_health_follows_the_store_going_away_and_coming_back(
        watched: tuple[str, RedisServer, Metrics]) -> None:
    base, server, _ = watched
    code, kind, body = await asyncio.to_thread(_get, f"{base}/health")
    assert (code, kind) == (200, "application/json; charset=utf-8")
    assert json.loads(body)["store"] == {"ok": True, "error": None}

    server.stop()  # Redis is gone: the adapters look fine, but no turn can be stored
    code, _, body = await asyncio.to_thread(_get, f"{base}/health")
    report = json.loads(body)
    assert code == 503 and report["status"] == "unhealthy"
    assert report["store"]["ok"] is False and report["store"]["error"]
    assert "store: NOT answering" in render(report, base)
    _, _, metrics = await asyncio.to_thread(_get, f"{base}/metrics")
    assert "wegweiser_store_up 0.0" in metrics

    server.start()  # on the same port: the client reconnects by itself
    code, _, body = await asyncio.to_thread(_get, f"{base}/health")
    assert code == 200, body
    _, _, metrics = await asyncio.to_thread(_get, f"{base}/metrics")
    assert "wegweiser_store_up 1.0" in metrics


async def test_metrics_speak_prometheus_text_and_openmetrics_on_request(
        watched: tuple[str, RedisServer, Metrics]) -> None:
    base, _, metrics = watched
    metrics.turn_done("telegram", 0.03, True, [])
    code, kind, text = await asyncio.to_thread(_get, f"{base}/metrics")
    assert code == 200 and kind.startswith("text/plain")
    assert 'wegweiser_turns_total{adapter="telegram",outcome="ok"} 1.0' in text
    assert 'wegweiser_turn_seconds_bucket{adapter="telegram",le="0.05"} 1.0' in text
    assert "process_resident_memory_bytes" in text

    def open_metrics() -> tuple[str, str]:
        request = urllib.request.Request(f"{base}/metrics", headers={
            "Accept": "application/openmetrics-text; version=1.0.0"})
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.headers["Content-Type"], answer.read().decode()

    kind, text = await asyncio.to_thread(open_metrics)
    assert kind.startswith("application/openmetrics-text")
    assert text.rstrip().endswith("# EOF")


async def test_status_reads_what_health_says(watched: tuple[str, RedisServer, Metrics]) -> None:
    base, _, _ = watched
    healthy, report = await asyncio.to_thread(fetch, f"{base}/health")
    assert healthy and report["adapters"]["telegram"]["ready"] is True
    assert render(report, base).splitlines()[0].endswith("healthy, up 0 s")


async def test_a_taken_port_is_explained() -> None:
    metrics = Metrics()
    listen = f"127.0.0.1:{free_port()}"
    first = serve(metrics, listen)
    try:
        with pytest.raises(EndpointError, match="WEGWEISER_METRICS_LISTEN"):
            serve(metrics, listen)
    finally:
        first.stop()


def test_a_bot_listening_everywhere_is_asked_on_the_loopback() -> None:
    assert status_url("0.0.0.0:9464") == "http://127.0.0.1:9464/health"
    assert status_url("[::]:9464") == "http://[::1]:9464/health"
    assert status_url("10.0.0.5:9000") == "http://10.0.0.5:9000/health"
