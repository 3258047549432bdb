"""Sphinx configuration.

Sphinx rather than MkDocs: autodoc imports the real modules, so the API and hook reference cannot drift
from the code, and ``-W`` turns every broken reference into a build failure. Pages are Markdown (MyST).
The API reference pages are generated at build time, one per public module of ``action_core``, and the
model zoo table from the installed plugins' registrations.
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "_ext"))

project = "action"
author = "the action developers"
copyright = "2026, the action developers"
extensions = ["myst_parser", "sphinx.ext.autodoc", "sphinx.ext.napoleon", "generate_pages"]
source_suffix = {".md": "markdown", ".rst": "restructuredtext"}
# fragments (benchmarks-*.md, *-notes.md) are included into pages, not pages themselves
exclude_patterns = ["_build", "tests", "_ext", "benchmarks-*.md", "*-notes.md"]
html_theme = "furo"  # a theme made for documentation sites; its search works offline
myst_heading_anchors = 3
autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_default_options = {"members": True, "show-inheritance": True}
nitpicky = False
suppress_warnings = ["myst.xref_missing"]
