"""Spec checks: schedule (being written)."""
