"""Creator profiles."""
