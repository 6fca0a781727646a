"""How every component connects to MQTT and Kafka: addresses, TLS and credentials from settings.

Why a package of its own, on the floor above the configuration: the bridge,
the simulator's publisher, the alert notifiers and the Kafka clients of the
worker and dispatcher all connect with the same security settings, and they
live on different floors; one place below all of them keeps a TLS or SASL
rule from being spelt twice.
"""
