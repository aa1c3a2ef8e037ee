"""adapters sub-package."""
