#!/bin/bash

python <robomimic>/scripts/train.py --config <dir>/configs/part_lr_0.001_gmm_True_data_None_mlp_1024_1024_seed_1.json
python <robomimic>/scripts/train.py --config <dir>/configs/part_lr_1e-05_gmm_False_data_mlp_seed_-2.json
python <robomimic>/scripts/train.py --config <dir>/configs/part_lr_2.0_gmm_True_data_abc_mlp_[1, 2]_3_seed_0.json
python <robomimic>/scripts/train.py --config <dir>/configs/part_lr_1e+20_gmm_False_data_None_mlp_1.5_x_seed_3.json
