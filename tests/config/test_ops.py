"""Probes and metrics for operators (issue 15.6): /healthz, /readyz, /metrics."""

import time

import pytest
from channels.db import database_sync_to_async as dsa
from django.core.cache import caches
from django.test import Client, override_settings

pytestmark = pytest.mark.django_db(transaction=True)


def test_healthz_answers_without_touching_anything(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.content == b"ok\n"
    assert "no-cache" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]


def test_readyz_is_ready_when_the_database_and_the_channel_layer_answer(client):
    response = client.get("/readyz")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["ready"] is True and body["failing"] == {}


def test_readyz_fails_without_a_fresh_scheduler_heartbeat_when_one_is_required(client):
    with override_settings(SCHEDULER_REQUIRED=True, SCHEDULER_HEARTBEAT_MAX_AGE=60):
        caches["default"].delete("scheduler:heartbeat")
        missing = client.get("/readyz")
        assert missing.status_code == 503 and "scheduler" in missing.json()["failing"]
        caches["default"].set("scheduler:heartbeat", time.time() - 600)
        assert client.get("/readyz").status_code == 503
        caches["default"].set("scheduler:heartbeat", time.time())
        assert client.get("/readyz").status_code == 200


def test_metrics_are_off_unless_enabled(client):
    assert client.get("/metrics").status_code == 404


async def test_metrics_count_frames_sends_and_sockets_and_name_no_member(connect, circle, people):
    """With METRICS_ENABLED (and a token), /metrics shows sockets, frames, sends and
    dependencies; no alias or text appears in it."""
    [(user, membership)] = await dsa(people)(circle)
    room = await connect(user, circle)
    await room.send(type="send", client_id="m1", body="a private sentence about my week")
    await room.sent()
    await room.send(type="bogus")
    await room.error("unknown_type")
    with override_settings(METRICS_ENABLED=True, METRICS_TOKEN="s3cret-token"):
        client = Client()
        assert (await dsa(client.get)("/metrics")).status_code == 401
        response = await dsa(client.get)("/metrics", HTTP_AUTHORIZATION="Bearer s3cret-token")
    text = response.content.decode()
    assert response.status_code == 200
    assert 'ic_frames_total{type="send"}' in text
    assert 'ic_sends_total{verdict="published"}' in text
    assert 'ic_errors_total{code="unknown_type"}' in text
    assert 'ic_sockets_open{kind="room"}' in text
    assert "a private sentence" not in text and membership.alias not in text
    await room.close()
