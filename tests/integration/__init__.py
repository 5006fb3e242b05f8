"""Tests that train with real robomimic (torch, h5py, tensorboardX): `python -m pytest -m integration`."""
