"""dreamlust: the backend of a creator content platform."""

__version__ = "0.1.0"
