#!/bin/bash

python <robomimic>/scripts/train.py --config <dir>/configs/part_ds_human-50_lr_hi_gmm_t.json
python <robomimic>/scripts/train.py --config <dir>/configs/part_ds_human-50_lr_4_gmm_False.json
python <robomimic>/scripts/train.py --config <dir>/configs/part_ds_mg_lr_hi_gmm_t.json
python <robomimic>/scripts/train.py --config <dir>/configs/part_ds_mg_lr_4_gmm_False.json
