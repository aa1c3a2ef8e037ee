"""datasets sub-package."""
