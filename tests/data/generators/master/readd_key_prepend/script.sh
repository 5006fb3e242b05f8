#!/bin/bash

python <robomimic>/scripts/train.py --config <dir>/configs/part_s_3_bs_16_lr_0.001.json
python <robomimic>/scripts/train.py --config <dir>/configs/part_s_3_bs_16_lr_0.0001.json
python <robomimic>/scripts/train.py --config <dir>/configs/part_s_4_bs_16_lr_0.001.json
python <robomimic>/scripts/train.py --config <dir>/configs/part_s_4_bs_16_lr_0.0001.json
