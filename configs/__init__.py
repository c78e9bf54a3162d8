"""Shipped YAML defaults (pipeline, farm, tracker, models); read through roto_core.config."""
