"""The model registry: registered models, versions, aliases, evaluation, release gates and approvals."""
