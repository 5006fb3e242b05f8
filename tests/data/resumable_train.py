"""A train script that takes --resume the robomimic 0.5.0 way, for the resume tests.

Like robomimic 0.5.0's train.py: writes ``<train.output_dir>/<experiment.name>/<YYYYmmddHHMMSS>/``
with ``logs/log.txt`` (``Train Epoch N`` per epoch) and ``last.pth`` + ``last_bak.pth``
after every epoch; asks before adding a folder beside an existing one; with
``--resume``, asserts that the run's folder holds exactly one entry, continues there
from ``last.pth``'s epoch and appends to log.txt. Each epoch takes $RESUMABLE_EPOCH_S
seconds (default 0.2). Every start appends a JSON line to $RESUMABLE_DIR/starts.jsonl
(run name, pid, whether it resumed, its first epoch) and writes its pid to
$RESUMABLE_DIR/<name>.pid.
"""
import argparse
import json
import os
import sys
import time


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--config", required=True)
    parser.add_argument("--resume", action="store_true")
    args = parser.parse_args()
    config = json.load(open(args.config))
    name, epochs = config["experiment"]["name"], int(config["train"]["num_epochs"])
    base = os.path.join(config["train"]["output_dir"], name)
    if args.resume:
        entries = os.listdir(base) if os.path.isdir(base) else []
        assert len(entries) == 1, f"Resuming training run, but output dir {base} must hold one folder: {entries}"
        folder = os.path.join(base, entries[0])
        with open(os.path.join(folder, "last.pth")) as f:
            first = json.load(f)["epoch"] + 1
    else:
        if os.path.isdir(base):
            answer = input(f"WARNING: model directory ({base}) already exists! \noverwrite? (y/n)\n")
            assert answer == "n", "this test script never deletes"
        folder = os.path.join(base, time.strftime("%Y%m%d%H%M%S"))
        while os.path.exists(folder):  # one folder per second, as robomimic
            time.sleep(0.2)
            folder = os.path.join(base, time.strftime("%Y%m%d%H%M%S"))
        os.makedirs(os.path.join(folder, "logs"))
        first = 1
    record = {"name": name, "pid": os.getpid(), "resumed": args.resume, "first_epoch": first, "folder": folder}
    marks = os.environ["RESUMABLE_DIR"]
    with open(os.path.join(marks, "starts.jsonl"), "a") as f:
        f.write(json.dumps(record) + "\n")
    with open(os.path.join(marks, f"{name}.pid"), "w") as f:
        f.write(str(os.getpid()))
    log = open(os.path.join(folder, "logs", "log.txt"), "a")
    if args.resume:
        print(f"resuming from ckpt at {os.path.join(folder, 'last.pth')}", file=log, flush=True)
        print(f"resuming training from epoch {first}", file=log, flush=True)
    for epoch in range(first, epochs + 1):
        time.sleep(float(os.environ.get("RESUMABLE_EPOCH_S", "0.2")))
        print(f"Train Epoch {epoch}\n{{\n    \"Loss\": {1.0 / epoch}\n}}", file=log, flush=True)
        for checkpoint in ("last_bak.pth", "last.pth"):
            tmp = os.path.join(folder, checkpoint + ".tmp")
            with open(tmp, "w") as f:
                json.dump({"epoch": epoch}, f)
            os.replace(tmp, os.path.join(folder, checkpoint))
    print("finished run successfully!", file=log, flush=True)
    print("finished run successfully!")


if __name__ == "__main__":
    sys.exit(main())
