"""The admin site's model views, one module per domain."""
