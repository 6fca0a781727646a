"""The work-order API serves HTTPS only when given a certificate (made here by `trustme`)."""

from __future__ import annotations

import asyncio
import ssl
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import trustme

from gridwatch.alerts.api import run_api
from gridwatch.config import Settings
from gridwatch.devstack.stack import free_port


def test_api_over_tls_with_a_certificate(tmp_path: Path) -> None:
    ca = trustme.CA()
    server = ca.issue_cert("127.0.0.1")
    cert, key = tmp_path / "api.pem", tmp_path / "api.key"
    server.cert_chain_pems[0].write_to_path(str(cert))
    server.private_key_pem.write_to_path(str(key))
    settings = Settings()
    settings.alerts.store_path = str(tmp_path / "alerts.sqlite")
    settings.alerts.api.port = free_port()
    settings.alerts.api.cert_file, settings.alerts.api.key_file = str(cert), str(key)
    client = ssl.create_default_context()
    ca.configure_trust(client)

    def fetch(url: str, context: ssl.SSLContext | None) -> int:
        with urllib.request.urlopen(url, context=context, timeout=5) as response:
            return response.status

    async def scenario() -> tuple[list[str], int]:
        stop, urls = asyncio.Event(), []
        task = asyncio.create_task(run_api(settings, stop, urls.append))
        while not urls:
            await asyncio.sleep(0.05)
        status = await asyncio.to_thread(fetch, f"{urls[0]}/openapi.json", client)
        with pytest.raises((urllib.error.URLError, ConnectionError)):  # no plain HTTP
            await asyncio.to_thread(fetch, urls[0].replace("https", "http") + "/openapi.json",
                                    None)
        with pytest.raises(urllib.error.URLError, match="CERTIFICATE_VERIFY_FAILED"):
            await asyncio.to_thread(fetch, f"{urls[0]}/openapi.json",
                                    ssl.create_default_context())
        stop.set()
        await task
        return urls, status

    urls, status = asyncio.run(scenario())
    assert urls[0].startswith("https://") and status == 200
