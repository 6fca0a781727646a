"""The ground floor: the words every other part of GridWatch speaks.

It imports nothing else of the project but `gridwatch.config`, so every floor
above (detectors, sensors, streams, alerts) can depend on it and on nothing
sideways: the wire schema of a reading batch (`schema`), a detector's verdict
(`findings`), the problem kinds (`kinds`), ground-truth labels (`labels`) and
the metric points with their registry of measurements (`measurements`).
"""
