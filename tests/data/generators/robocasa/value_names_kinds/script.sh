#!/bin/bash

python <robomimic>/scripts/train.py --config <dir>/configs/part_seed_10.json
python <robomimic>/scripts/train.py --config <dir>/configs/part_seed_2.json
python <robomimic>/scripts/train.py --config <dir>/configs/part_seed.json
python <robomimic>/scripts/train.py --config <dir>/configs/part_seed_True.json
