"""Thinkbox Deadline 10: the Web Service client and the AIRoto job requests."""
