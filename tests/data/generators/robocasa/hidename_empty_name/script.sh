#!/bin/bash

python <robomimic>/scripts/train.py --config <dir>/configs/part_lr_0.001.json
