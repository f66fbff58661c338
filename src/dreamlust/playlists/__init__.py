"""Playlists: ordered, dense collections of content that users keep, public or private."""
