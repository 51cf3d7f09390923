"""Spec checks: activation (being written)."""
