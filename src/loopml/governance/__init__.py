"""Governance: the hash-chained audit log and compliance documents."""
