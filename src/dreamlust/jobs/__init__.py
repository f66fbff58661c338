"""Periodic work run by `dreamlust worker`: publishing scheduled content, trending scores."""
