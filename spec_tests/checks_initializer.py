"""Spec checks: initializer (being written)."""
