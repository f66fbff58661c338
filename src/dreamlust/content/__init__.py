"""Content items and discovery."""
