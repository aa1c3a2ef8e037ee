"""reports sub-package."""
