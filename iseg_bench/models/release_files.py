"""The authors' released checkpoint file names and the variant each holds (torch-free, so
``iseg-bench models`` can list them without the ``models`` extra).

Sources: the EMC-Click release page (github feiaxyt/EMC-Click: segb0.pth, segb3.pth,
hr18s.pth, hr18.pth, hr32.pth) and MarcoForte/DeepInteractiveSegmentation (demo.py's
default ``--weights InterSegSynthFT.pth``).
"""

from __future__ import annotations

#: file name -> our variant (None: a model not built here); a file under one of these
#: names must hold that variant
RELEASED_FILES: dict[str, str | None] = {
    "segb0.pth": "emc-click", "segb3.pth": "emc-click-b3",
    "hr18s.pth": "emc-click-hr18s", "hr18.pth": "emc-click-hr18", "hr32.pth": "emc-click-hr32",
    "InterSegSynthFT.pth": "acc99net",
}
