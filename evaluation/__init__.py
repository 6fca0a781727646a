"""The evaluation harness: score the production detection stage against labelled streams.

It stands above both the simulator (`gridwatch.sensors`, which makes the
labelled streams) and the detectors (`gridwatch.detectors.stage`, which it
drives as the worker does): `runner` feeds the stream, `matching` is the
scoring rule, `report` the HTML report, `harness` ties them together, `nab`
scores `gridwatch score` on the NAB benchmark, and `cli` is
`gridwatch evaluate`.
"""
