"""Hydra sweep launcher for robomimic: grouped sweeps, robomimic-compatible configs."""
