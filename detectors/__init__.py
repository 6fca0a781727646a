"""Online detectors: each judges one class of grid problem and explains its verdict.

`contract` says what an area detector declares and the one call it answers;
`registry` lists them in running order; `pipeline` runs them over an area's
batch; `stage` composes the pipeline, the silence watchdog (`silence`) and the
feeder judgement (`feeder`) into the object the worker and the evaluator drive.
`scoring`, `theft_rank` and `consumption` serve `gridwatch score` and
`gridwatch theft rank`.
"""
