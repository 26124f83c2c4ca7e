"""Model packaging: save and load models per flavor, signatures, safe formats (services layer)."""
