"""Workers and workload data for ``bench/run_profile.py``.

``data`` generates the table (numpy + pyarrow, loopml's interpreter); ``common`` holds the
worker protocol and uses only the standard library, because ``ydata_side`` imports it in
``bench/.venv-ydata``; ``loopml_side`` runs in loopml's own virtualenv.
"""
