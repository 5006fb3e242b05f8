#!/bin/bash

python <robomimic>/scripts/train.py --config <dir>/configs/part_gmm_t.json
python <robomimic>/scripts/train.py --config <dir>/configs/part_gmm_f.json
