"""Plain domain types, errors, ids and configuration. No database, web or CLI imports."""
