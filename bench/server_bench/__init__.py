"""Servers, client workers, workload definitions and reporting for ``bench/run_server.py``.

``common`` is imported by every worker, so it uses only the standard library.
``loopml_client`` runs in loopml's virtualenv (the SDK's ``RestMetadataStore`` and raw
httpx), ``mlflow_client`` in ``bench/.venv-mlflow`` (``MlflowClient``). ``servers``,
``postgres`` and ``report`` belong to the orchestrator (loopml's interpreter, with Rich).
"""
