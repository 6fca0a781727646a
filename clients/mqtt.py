"""How every MQTT client of GridWatch connects: address, credentials and TLS from one place.

Why one function: the bridge, the simulator's publisher and the alert
notifier must all honour ``mqtt.username``/``password`` and TLS
(``mqtts://`` or a ``ca_file``, optionally a client certificate); a client
that forgot one of them would fall back to plain text or anonymous access,
which a secured broker refuses anyway, but only at run time.
"""

from __future__ import annotations

from urllib.parse import urlparse

import paho.mqtt.client as mqtt

from ..config import MqttSettings

TLS_SCHEMES = ("mqtts", "ssl")


def uses_tls(settings: MqttSettings) -> bool:
    """TLS for ``mqtts://``/``ssl://`` URLs or whenever a CA file is configured."""
    return urlparse(settings.url).scheme in TLS_SCHEMES or bool(settings.ca_file)


def broker_address(settings: MqttSettings) -> tuple[str, int]:
    """(host, port) of the broker; the default port is 8883 with TLS, 1883 without.

    >>> broker_address(MqttSettings(url="mqtts://broker.example"))
    ('broker.example', 8883)
    """
    url = urlparse(settings.url)
    return url.hostname or "127.0.0.1", url.port or (8883 if uses_tls(settings) else 1883)


def configure(client: mqtt.Client, settings: MqttSettings) -> mqtt.Client:
    """Set credentials and TLS on `client` as configured; returns it."""
    if settings.username:
        client.username_pw_set(settings.username, settings.password or None)
    if uses_tls(settings):
        client.tls_set(ca_certs=settings.ca_file or None, certfile=settings.cert_file or None,
                       keyfile=settings.key_file or None)
    return client
