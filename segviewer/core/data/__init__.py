"""Samples and datasets in memory: arrays, class names, label encodings, synthetic data."""
