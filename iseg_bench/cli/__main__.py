"""``python -m iseg_bench.cli``: the ``iseg-bench`` command."""

from iseg_bench.cli import main

if __name__ == "__main__":
    main()
