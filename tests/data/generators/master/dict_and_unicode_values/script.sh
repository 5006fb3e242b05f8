#!/bin/bash

python <robomimic>/scripts/train.py --config <dir>/configs/part_data_{'k': 1}_out_cafe.json
python <robomimic>/scripts/train.py --config <dir>/configs/part_data_{}_out_naive.json
