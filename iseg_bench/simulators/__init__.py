"""Training-time interaction simulators (random, seeded), as opposed to the deterministic
evaluation robots of ``iseg_bench.robots``: ScribbleSeg's scribble simulators
(``scribbles``, docs/simulators.md)."""
