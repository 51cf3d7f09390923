"""Spec checks: optimizer (being written)."""
