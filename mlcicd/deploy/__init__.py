"""Deployment strategies."""
