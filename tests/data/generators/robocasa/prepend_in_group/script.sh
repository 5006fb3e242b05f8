#!/bin/bash

python <robomimic>/scripts/train.py --config <dir>/configs/part_rnnd_100_bs_16_seed_1_gmm_t_lr_0.001.json
python <robomimic>/scripts/train.py --config <dir>/configs/part_rnnd_100_bs_32_seed_1_gmm_t_lr_0.001.json
python <robomimic>/scripts/train.py --config <dir>/configs/part_rnnd_200_bs_16_seed_2_gmm_f_lr_0.001.json
python <robomimic>/scripts/train.py --config <dir>/configs/part_rnnd_200_bs_32_seed_2_gmm_f_lr_0.001.json
