"""Alerts for inspection teams and the control room.

Detector findings arrive on the Kafka alerts topic; the dispatcher
(`dispatcher`, `engine`) stores them as alerts with work orders (`model`,
`store`, `sqlite_store`), routes them to teams (`policy`, `routing`), groups
and mutes them (`grouping`, `inhibition`, `silences`, `flapping`) and
notifies receivers (`notifiers`, `delivery`). People work the orders through
the HTTP API (`api`, `openapi`, `access`, `workorders`) or `gridwatch alerts`
(`cli`); closed findings go back to detector tuning as labels (`field_labels`).
"""
