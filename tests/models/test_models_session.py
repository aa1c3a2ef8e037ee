"""The bundled click models through the toolkit's own run loop (random tiny weights)."""

from __future__ import annotations

import pytest
import transformers  # noqa: F401  (the models extra is required: a broken install fails)

pytestmark = pytest.mark.filterwarnings("ignore:.*random weights.*:UserWarning")


@pytest.mark.parametrize("model,variant", [("emc-click", "emc-click-tiny"),
                                           ("acc99net", "acc99net-tiny")])
def test_run_loop_end_to_end(tmp_path, model, variant):
    from iseg_bench.config import RunConfig
    from iseg_bench.execution import execute

    config = RunConfig(model=model, dataset="synthetic", max_interactions=3, limit=2,
                       model_options={"random_init": True, "variant": variant, "device": "cpu",
                                      "short_side": None})
    outcome = execute(config, tmp_path / "run", progress=False)
    assert outcome.n_ok == 2 and outcome.n_failed == 0
