"""Spec checks: properties (being written)."""
