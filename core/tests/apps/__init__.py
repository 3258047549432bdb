"""Tests of the Inferencer and its applications (a package so module names never clash with other test folders)."""
