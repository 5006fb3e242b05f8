#!/bin/bash

python <robomimic>/scripts/train.py --config <dir>/configs/part_bs_16.json
