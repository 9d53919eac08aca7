"""Files in and out: one reader per format, writers, and the one atomic-write helper."""
