#!/bin/bash

python <robomimic>/scripts/train.py --config <dir>/bc_rnn_hyper_plr_0.001_gmm_t_rnnd_400_mlp_1024.json
python <robomimic>/scripts/train.py --config <dir>/bc_rnn_hyper_plr_0.001_gmm_t_rnnd_1000_mlp_0.json
python <robomimic>/scripts/train.py --config <dir>/bc_rnn_hyper_plr_0.001_gmm_f_rnnd_400_mlp_1024.json
python <robomimic>/scripts/train.py --config <dir>/bc_rnn_hyper_plr_0.001_gmm_f_rnnd_1000_mlp_0.json
python <robomimic>/scripts/train.py --config <dir>/bc_rnn_hyper_plr_0.0001_gmm_t_rnnd_400_mlp_1024.json
python <robomimic>/scripts/train.py --config <dir>/bc_rnn_hyper_plr_0.0001_gmm_t_rnnd_1000_mlp_0.json
python <robomimic>/scripts/train.py --config <dir>/bc_rnn_hyper_plr_0.0001_gmm_f_rnnd_400_mlp_1024.json
python <robomimic>/scripts/train.py --config <dir>/bc_rnn_hyper_plr_0.0001_gmm_f_rnnd_1000_mlp_0.json
