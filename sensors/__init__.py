"""Grid model and simulator: synthetic meters, concentrators and labelled scenarios.

Module map, in data-flow order:

- `topology`  substations, feeders, transformer areas, customers along LV branches
- `shapes`    load shapes and temperature (tables derived by `calibrate` from real data)
- `physics`   demand, currents, voltage drops, line loss, meter registers for one day
- `effects`   modifier arrays scenarios set for the physics step
- `scenarios` scenario files and the seeded placement of labelled problems
  (`gridwatch.vocabulary.labels`, kinds from `gridwatch.vocabulary.kinds`)
- `injection` what each problem kind does to the physics, the readings, the delivery
- `simulator` the day-by-day driver; `stream` turns a day into delivery-ordered rows
  and concentrator batches (`gridwatch.batch.v1`)
- `offline`   scenario runs and Parquet stream files; `replay` publishes them;
  `realdata`  label-free streams driven by real load and voltage series
- `publisher` live MQTT publishing (`run_live`), with `malformed` garbage on request
- `cli`       `gridwatch simulate`, `gridwatch replay`, `gridwatch evaluate`
"""
