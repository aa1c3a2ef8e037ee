"""iseg-bench: deterministic robot users and standard figures for interactive segmentation.

See ``README.md`` for the protocols and ``DESIGN.md`` (in the shared folder) for the map.
"""

__version__ = "0.1.0"
