"""Run mode: every run of a written sweep trained through Hydra's launcher.

launch (the sweeper's side: write, claim, launch, follow, summarize), job (what one
Hydra job does: train one run and record it), training (one training process and
how it ended), state (the files in the sweep dir through which they talk),
progress (rows, manifest, progress line), gpus (slots on this machine's GPUs) and
slurm (submitit on SLURM, waiting without hanging).
"""
