#!/bin/bash

python <robomimic>/scripts/train.py --config <dir>/configs/custom_bs_16.json
