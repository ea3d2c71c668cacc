"""exchanged: the file exchange between an ERP system and an online shop."""

from exchanged.allocators import configure as _configure_allocators

_configure_allocators()  # before pyarrow and polars load: they read it then (allocators.py)

__version__ = "0.1.0"

__all__ = ["__version__"]
