#!/bin/bash

python <robomimic>/scripts/train.py --config <dir>/json/seed_1_ds_human-50.json --eval_only
python <robomimic>/scripts/train.py --config <dir>/json/seed_1_ds_mg-3000.json --eval_only
python <robomimic>/scripts/train.py --config <dir>/json/seed_2_ds_human-50.json --eval_only
python <robomimic>/scripts/train.py --config <dir>/json/seed_2_ds_mg-3000.json --eval_only
