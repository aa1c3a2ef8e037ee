"""iseg-bench from Python, notebook style: run this file top to bottom, or paste its cells
into a notebook. Each "# %%" starts a cell.

    python docs/examples/python_api.py --data-root ../shared/datasets --out runs/api-example

Without --data-root it uses the generated ``synthetic`` dataset (no files needed). The test
suite runs it as a script with ``--limit 2`` (tests/test_examples.py).
"""

# %% Settings of this example (a notebook would just write the values)
import argparse
import tempfile
from pathlib import Path

import numpy as np

import iseg_bench
from iseg_bench.adapters.classical import RandomWalkerAdapter

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--data-root", default=None, help="folder holding GrabCut/")
parser.add_argument("--out", default=None, help="folder for the three run folders")
parser.add_argument("--limit", type=int, default=5, help="samples per run")
args = parser.parse_args()
dataset = "grabcut" if args.data_root else "synthetic"
out = Path(args.out or tempfile.mkdtemp(prefix="iseg-bench-example-"))
settings = {"limit": args.limit, "max_interactions": 5, "data_root": args.data_root}

# %% 1. A registered model, by name: the same run as `iseg-bench run --model random-walker`
run = iseg_bench.evaluate("random-walker", dataset, robot="clicker",
                          model_options={"max_side": 120}, name="random walker",
                          out_dir=out / "by-name", **settings)
print(run.folder, run.outcome.n_ok, "samples")
print(run.summary.figures.noc)          # the typed summary: {threshold: mean NoC}
print(run.records.head())               # one row per sample and click, model_seconds too


# %% 2. Your own model, as an adapter instance: set_image once per sample, then predict
#       from the whole interaction history (docs/adapters.md). Here: the random walker
#       with a mask that grows with every click, just to show the shape of the class.
class Grown(RandomWalkerAdapter):
    def predict(self, interactions, prev_prob):
        prob = super().predict(interactions, prev_prob)
        return np.maximum(prob, 0.5 * prev_prob).astype(np.float32)


mine = iseg_bench.evaluate(Grown(max_side=120), dataset, robot="clicker", name="grown",
                           out_dir=out / "instance", **settings)
print(mine.summary_json["model"], mine.summary.figures.noc)

# %% 3. No class at all: the session hands you each interaction, you submit a map
session = iseg_bench.interactive_session(dataset, robot="clicker", name="loop",
                                         out_dir=out / "loop", **settings)
walker = RandomWalkerAdapter(max_side=120)
for sample, interaction in session:
    if len(session.history) == 1:          # a new sample starts
        walker.set_image(sample.image)
    session.submit(walker.predict(session.history, session.prev_prob))
def untimed(records):   # wall-clock columns (model_seconds, encoder_seconds) always differ
    return records[[c for c in records.columns if not c.endswith("seconds")]]


assert untimed(session.run.records).equals(untimed(run.records))  # same clicks, same IoUs
print(session.run.summary.figures.noc)

# %% 4. Replay: the clicks of run 1 given to another model (docs/robots/replay.md)
replayed = iseg_bench.evaluate(Grown(max_side=120), dataset, robot="replay",
                               robot_options={"file": str(run.folder)}, name="grown, replayed",
                               out_dir=out / "replay", **settings)
print(replayed.config.robot_options)    # the file and its SHA-256

# %% 5. One table of the runs, labelled by their names
from iseg_bench.reports import summary_frame  # noqa: E402

print(summary_frame([r.summary_json for r in (run, mine, session.run, replayed)]))
