"""The ``loopml`` command line (Typer + Rich). Thin: parse, call the SDK, render."""
