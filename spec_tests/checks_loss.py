"""Spec checks: loss (being written)."""
