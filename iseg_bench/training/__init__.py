"""Training of the bundled click models (``iseg-bench train``): the common loop and one
recipe per model family. Importing it does not import torch (``docs/models/emc-click.md``,
``docs/models/acc99net.md``)."""

from iseg_bench.training.loop import RECIPES, TrainResult, recipe_for, train
from iseg_bench.training.recipe import Recipe, TrainingError

__all__ = ["RECIPES", "Recipe", "TrainResult", "TrainingError", "recipe_for", "train"]
