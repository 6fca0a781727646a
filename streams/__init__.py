"""MQTT bridge, Faust worker and metrics writer: how readings move through the system."""
