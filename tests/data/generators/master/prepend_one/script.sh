#!/bin/bash

python <robomimic>/scripts/train.py --config <dir>/configs/part_seed_1_bs_16_lr_0.001.json
python <robomimic>/scripts/train.py --config <dir>/configs/part_seed_1_bs_32_lr_0.001.json
python <robomimic>/scripts/train.py --config <dir>/configs/part_seed_2_bs_16_lr_0.001.json
python <robomimic>/scripts/train.py --config <dir>/configs/part_seed_2_bs_32_lr_0.001.json
