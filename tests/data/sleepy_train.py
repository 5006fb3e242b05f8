"""A train script for signal, time-limit and GPU tests.

Records where and when it ran (one JSON line in $SLEEPY_DIR/runs.jsonl: run name,
pid, CUDA_VISIBLE_DEVICES, start, end), writes its pid to $SLEEPY_DIR/<name>.pid,
then sleeps $SLEEPY_SECONDS (default 60) before succeeding as robomimic does.
"""
import json
import os
import sys
import time

config = json.load(open(sys.argv[sys.argv.index("--config") + 1]))
name = config["experiment"]["name"]
folder = os.environ["SLEEPY_DIR"]
start = time.time()
with open(os.path.join(folder, f"{name}.pid"), "w") as f:
    f.write(str(os.getpid()))
time.sleep(float(os.environ.get("SLEEPY_SECONDS", "60")))
record = {"name": name, "pid": os.getpid(), "gpu": os.environ.get("CUDA_VISIBLE_DEVICES"),
          "egl": os.environ.get("MUJOCO_EGL_DEVICE_ID"), "start": start, "end": time.time()}
with open(os.path.join(folder, "runs.jsonl"), "a") as f:
    f.write(json.dumps(record) + "\n")
print("finished run successfully!")
