#!/bin/bash

python <robomimic>/scripts/train.py --config <dir>/configs/part_lr_0.1_seed_1_bs_16.json
python <robomimic>/scripts/train.py --config <dir>/configs/part_lr_0.1_seed_2_bs_16.json
python <robomimic>/scripts/train.py --config <dir>/configs/part_lr_0.2_seed_1_bs_16.json
python <robomimic>/scripts/train.py --config <dir>/configs/part_lr_0.2_seed_2_bs_16.json
