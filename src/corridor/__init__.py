"""Corridor: plan and coordinate cross-border oil and gas transport."""

__version__ = "0.1.0"
