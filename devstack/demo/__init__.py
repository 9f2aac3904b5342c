"""`make demo`: the whole job on a 316-instance emulated fleet, watched live, then a report.

Modules: `options` (the command line), `faults` (the faults the run injects on a schedule),
`live` (the progress table), `report` (the figures at the end), `run` (the sequence and the
cleanup). The run itself is `devstack.pipeline`, shared with `bench/pipeline.py`.
"""
