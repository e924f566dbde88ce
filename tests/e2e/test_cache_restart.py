"""Redis restarting with old data (a snapshot, a replica failed over to) while a write's
invalidation could not reach it: no replica serves the answer that write outdated."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import httpx

from gateway.app import create_app
from gateway.cache.shared import RETRY_S
from gateway.ratelimit import redis_client
from mocks.app import MockUpstreams
from tests.conftest import REFERENCE_DAY
from tests.e2e.conftest import NOON, gateway_settings
from tests.redis_server import private_redis

INBOX = """
query($id: ID!) { person(id: $id) { unreadMessageCount messages(first: 50) { totalCount } } }
"""
SEND = """
mutation($input: SendMessageInput!) { sendMessage(input: $input) { userErrors { code } } }
"""


async def test_a_restart_with_old_data_serves_no_answer_a_lost_invalidation_outdated(
    tmp_path: Path,
) -> None:
    with private_redis(tmp_path) as server:
        mocks = MockUpstreams(size=200, today=REFERENCE_DAY)
        shared = {"redis_url": server.url, "redis_key_prefix": "restart"}
        upstreams = mocks.asgi()  # one EHR for both replicas: the reader sees the write
        apps = [
            create_app(
                gateway_settings(mocks, **shared),
                transport=httpx.ASGITransport(app=upstreams),
                clock=lambda: NOON,
            )
            for _ in range(2)
        ]
        writer, reader = (
            httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw.test")
            for app in apps
        )
        kari = apps[0].state.services.ids.person_id(mocks.population.persona("kari").nin)
        headers = {
            "authorization": f"Bearer {mocks.issuer.token_for(mocks.population.persona('kari'))}"
        }

        async def messages() -> int:
            body = {"query": INBOX, "variables": {"id": kari}}
            answer = (await reader.post("/graphql", json=body, headers=headers)).json()
            return int(answer["data"]["person"]["messages"]["totalCount"])

        try:
            before = await messages()
            assert await messages() == before  # kept, in the reader and in Redis
            admin = redis_client(server.url)
            await admin.save()
            await admin.aclose()
            server.stop()
            message = {
                "personId": kari,
                "subject": "Spørsmål",
                "text": "Hei!",
                "idempotencyKey": f"restart-{uuid.uuid4().hex}",
            }
            sent = await writer.post(
                "/graphql", json={"query": SEND, "variables": {"input": message}}, headers=headers
            )
            assert sent.json()["data"]["sendMessage"]["userErrors"] == []
            server.start()  # from the snapshot taken before the write
            assert await messages() == before + 1  # Redis just failed: read fresh
            await asyncio.sleep(RETRY_S + 0.2)  # the reader trusts Redis again
            for _ in range(3):
                assert await messages() == before + 1
        finally:
            for client in (writer, reader):
                await client.aclose()
            for app in apps:
                await app.state.services.aclose()
