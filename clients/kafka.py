"""How every Kafka client of GridWatch connects: brokers, TLS and SASL from one place.

Why one function: a utility's Kafka cluster requires TLS and SASL
(``kafka.security_protocol``, ``kafka.sasl_*``, ``kafka.ssl_*``); a client
built with only ``bootstrap_servers`` would silently try plain text. The
bridge's producer, the dispatcher's consumer and producer, the topic admin
and the lag reader all take their keyword arguments from `client_options`;
the Faust worker takes `faust_credentials` as its ``broker_credentials``.
"""

from __future__ import annotations

import ssl
from typing import Any

import faust
from aiokafka.helpers import create_ssl_context

from ..config import KafkaSettings


def bootstrap_servers(url: str) -> str:
    """``kafka://h1:9092;h2:9092`` -> ``h1:9092,h2:9092`` for aiokafka.

    >>> bootstrap_servers("kafka://h1:9092;h2:9092")
    'h1:9092,h2:9092'
    """
    return ",".join(part.replace("kafka://", "") for part in url.replace(";", ",").split(","))


def ssl_context(settings: KafkaSettings) -> ssl.SSLContext | None:
    """The TLS context for SSL and SASL_SSL (system CAs unless ``ssl_ca_file``), else None."""
    if settings.security_protocol not in ("SSL", "SASL_SSL"):
        return None
    return create_ssl_context(cafile=settings.ssl_ca_file or None,
                              certfile=settings.ssl_cert_file or None,
                              keyfile=settings.ssl_key_file or None)


def client_options(settings: KafkaSettings) -> dict[str, Any]:
    """Keyword arguments for any aiokafka client (producer, consumer, admin).

    >>> opts = client_options(KafkaSettings(url="kafka://k1:9093;k2:9093",
    ...     security_protocol="SASL_PLAINTEXT", sasl_mechanism="SCRAM-SHA-512",
    ...     sasl_username="bridge", sasl_password="s3cret"))
    >>> opts["bootstrap_servers"], opts["sasl_mechanism"], opts["sasl_plain_username"]
    ('k1:9093,k2:9093', 'SCRAM-SHA-512', 'bridge')
    """
    options: dict[str, Any] = {"bootstrap_servers": bootstrap_servers(settings.url),
                               "security_protocol": settings.security_protocol}
    if settings.security_protocol.startswith("SASL_"):
        options |= {"sasl_mechanism": settings.sasl_mechanism,
                    "sasl_plain_username": settings.sasl_username,
                    "sasl_plain_password": settings.sasl_password}
    context = ssl_context(settings)
    if context is not None:
        options["ssl_context"] = context
    return options


def faust_credentials(
        settings: KafkaSettings) -> faust.SASLCredentials | faust.SSLCredentials | None:
    """The ``broker_credentials`` of the Faust app for the same settings (None = plain text)."""
    context = ssl_context(settings)
    if settings.security_protocol.startswith("SASL_"):
        return faust.SASLCredentials(username=settings.sasl_username,
                                     password=settings.sasl_password, ssl_context=context,
                                     mechanism=settings.sasl_mechanism)
    if context is not None:
        return faust.SSLCredentials(context)
    return None
