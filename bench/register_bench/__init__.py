"""Dataset registration benchmark: loopml ``data.register`` vs ``dvc add`` (run_register.py)."""
