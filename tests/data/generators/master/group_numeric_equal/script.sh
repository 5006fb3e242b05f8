#!/bin/bash

python <robomimic>/scripts/train.py --config <dir>/configs/part_bs_16_lr_0.001_gmm_True.json
python <robomimic>/scripts/train.py --config <dir>/configs/part_bs_32_lr_0.0001_gmm_False.json
