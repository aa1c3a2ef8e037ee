"""robots sub-package."""
