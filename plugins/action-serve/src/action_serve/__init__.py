"""action-serve: a web page and HTTP API over an action recognizer."""
