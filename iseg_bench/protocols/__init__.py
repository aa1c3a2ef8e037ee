"""protocols sub-package."""
