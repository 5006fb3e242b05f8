#!/bin/bash

python <robomimic>/scripts/train.py --config configs/part_bs_16.json
