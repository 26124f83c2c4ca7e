"""The model registry: versions, aliases, evaluation, release gates and approvals."""
