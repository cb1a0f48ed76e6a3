"""Ingest with Pillow only: sniff, admit, decode within the memory budget, normalise, thumbnails."""
