"""User accounts and profiles."""
