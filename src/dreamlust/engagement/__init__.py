"""How viewers engage: likes and follows (views, comments and history build on this)."""
