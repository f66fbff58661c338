"""Realistic, deterministic demo data: `dreamlust seed` and `serve --seed-if-empty`."""

from dreamlust.seeding.loader import DatabaseNotEmpty, seed_database, seed_if_empty

__all__ = ["DatabaseNotEmpty", "seed_database", "seed_if_empty"]
