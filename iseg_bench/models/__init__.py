"""Reference click models in PyTorch (the optional ``models`` extra: torch, safetensors,
transformers): EMC-Click and the 99%-accuracy network, their blocks, losses, checkpoints and
variants. Nothing in the core imports this package. Specified in
``docs/models/torch-models.md``, ``docs/models/emc-click.md`` and ``docs/models/acc99net.md``.
"""
