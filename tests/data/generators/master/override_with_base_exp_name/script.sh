#!/bin/bash

python <robomimic>/scripts/train.py --config <dir>/configs/bs_16.json
python <robomimic>/scripts/train.py --config <dir>/configs/bs_32.json
