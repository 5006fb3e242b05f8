"""Putting a sweep's files in place so that nothing is lost or half-written.

each_run (the one pass over a sweep's runs: check, render, stage), checks (run
names and targets), staging (atomic writes, the staged writer), locks (one sweep
per target) and interrupts (signals as an orderly stop).
"""
