"""Views and watch history: each viewer counted once per window, exactly, with or without Redis."""
