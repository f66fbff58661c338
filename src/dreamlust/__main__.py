"""`python -m dreamlust` runs the command line."""

from dreamlust.cli import app

app()
