"""The embedded development stack: `gridwatch up` and the services it starts.

Why its own floor: the launcher starts Mosquitto, the Kafka-protocol broker,
VictoriaMetrics and every GridWatch process; it stands above all of them and
nothing in the data path may depend on it (a production deployment runs the
bridge and workers without it).
"""
