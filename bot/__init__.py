"""Wegweiser: guides newcomers in Magdeburg to education and integration offers."""

__version__ = "0.1.0"
