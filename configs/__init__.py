"""Experiment configs: YAML files in this folder and their schema (configs.schema)."""
