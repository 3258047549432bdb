"""A third-party plugin: one small recognizer."""
