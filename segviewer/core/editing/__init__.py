"""Editing one-hot masks: strokes under a policy, conflict rules, undo history, derived layers."""
