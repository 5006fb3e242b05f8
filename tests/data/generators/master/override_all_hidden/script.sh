#!/bin/bash

python <robomimic>/scripts/train.py --config <dir>/configs/.json
