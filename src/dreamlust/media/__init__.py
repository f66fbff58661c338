"""Creators' media files and the storage they live in."""
