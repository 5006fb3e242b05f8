#!/bin/bash

python <robomimic>/scripts/train.py --config <dir>/configs/part_bs_16.json --eval_only
python <robomimic>/scripts/train.py --config <dir>/configs/part_bs_32.json --eval_only
