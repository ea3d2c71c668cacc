"""exchanged: the file exchange between an ERP system and an online shop."""

__version__ = "0.1.0"

__all__ = ["__version__"]
