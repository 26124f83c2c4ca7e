"""Workers, workload definitions and reporting for ``bench/run_tracking.py``.

``common`` is imported by both workers, so it uses only the standard library:
``loopml_side`` runs in loopml's virtualenv and ``mlflow_side`` in ``bench/.venv-mlflow``.
``runner`` and ``report`` belong to the orchestrator (loopml's interpreter, with Rich).
"""
