"""Quayside's Processing provider and algorithms (thin wrappers over core/)."""
