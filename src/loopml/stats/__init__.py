"""Pure, vectorised statistics shared by data diff and monitoring (no I/O, no stores)."""
