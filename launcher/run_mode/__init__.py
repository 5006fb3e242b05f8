"""Run mode: every run of a written sweep trained through Hydra's launcher, and followed.

launch (the sweeper's side: write, attach, hand every run over at once, follow,
summarize), job (a local worker or a SLURM task: train a run, record it), training
(one training process and how it ended), state (the files in the sweep dir, the
truth they all share), follow (the one judge of a run's state from its record and
SLURM's word, shared with ``python -m launcher.status``), progress (rows, manifest,
progress line, ETA), gpus (slots on this machine's GPUs) and slurm (job arrays,
squeue and sacct).
"""
