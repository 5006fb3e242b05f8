#!/bin/bash

python <robomimic>/scripts/train.py --config <dir>/configs/test_seed_1.json
python <robomimic>/scripts/train.py --config <dir>/configs/test_seed_2.json
