#!/bin/bash

python <robomimic>/scripts/train.py --config <dir>/part_bs_16.json
