"""Accounts and authentication."""
