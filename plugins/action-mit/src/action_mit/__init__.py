"""Moments in Time (single-label, 339 classes) and Multi-Moments in Time (multi-label, 313 classes)."""
