"""``python -m loopml`` runs the CLI."""

from __future__ import annotations

if __name__ == "__main__":
    from loopml.cli.app import main

    main()
