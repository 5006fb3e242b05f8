#!/bin/bash

python <robomimic>/scripts/train.py --config <dir>/configs/part_bs_16_lr_0.001_seed_1_gmm_True_rnnd_100.json
python <robomimic>/scripts/train.py --config <dir>/configs/part_bs_16_lr_0.0001_seed_1_gmm_True_rnnd_100.json
python <robomimic>/scripts/train.py --config <dir>/configs/part_bs_32_lr_0.001_seed_1_gmm_True_rnnd_100.json
python <robomimic>/scripts/train.py --config <dir>/configs/part_bs_32_lr_0.0001_seed_1_gmm_True_rnnd_100.json
