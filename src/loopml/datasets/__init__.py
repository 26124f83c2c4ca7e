"""Dataset versions: sources, storage, profiles, validation, diff and lineage (services layer)."""
