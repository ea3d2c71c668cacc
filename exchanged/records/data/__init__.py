"""Reference code lists shipped as data (see PROVENANCE.md)."""
