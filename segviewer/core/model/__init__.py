"""Models: files and adapters, tiled inference, scores, losses and fine-tuning."""
