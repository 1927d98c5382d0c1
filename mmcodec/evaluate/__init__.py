"""Metrics, classical anchors and reports."""
