#!/bin/bash

python <robomimic>/scripts/train.py --config <dir>/configs/part_batch_64_lr_0.001_seed_1.json
python <robomimic>/scripts/train.py --config <dir>/configs/part_batch_64_lr_0.0001_seed_1.json
