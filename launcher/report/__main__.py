"""``python -m launcher.report SWEEP_DIR [--metric NAME] [--top N]``: a sweep's report.

Writes results.csv, results_by_config.csv, results.md, plots/ and tensorboard/ in
SWEEP_DIR (a run-mode or script-mode sweep folder) and prints the best runs. Mistakes
(no such folder, not a sweep, an unknown metric) are one line on stderr and exit 1.
"""
import argparse
import sys
from typing import List, Optional


def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be a whole number, 0 or more; got {text}")
    return value


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m launcher.report",
        description="Write a sweep's results (tables, plots, TensorBoard HParams) into its folder.")
    parser.add_argument("sweep_dir", help="the sweep folder (hydra.sweep.dir): run mode's manifest.jsonl, "
                                          "or script mode's configs/ and run.sh")
    parser.add_argument("--metric", help="rank by this metric column (default: success_rate_best with "
                                         "rollouts, else valid_loss_best, else train_loss_last)")
    parser.add_argument("--top", type=_count, default=10, help="how many of the best runs to print (default 10)")
    args = parser.parse_args(argv)

    from launcher.report import ReportError
    from launcher.report.write import format_top, write_report

    try:
        report = write_report(args.sweep_dir, args.metric)
    except ReportError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    except OSError as e:
        where = f" {e.filename}" if e.filename else ""
        print(f"error: cannot write the report:{where}: {e.strerror or e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted; the files written so far are whole", file=sys.stderr)
        return 130
    print(format_top(report, args.top))
    return 0


if __name__ == "__main__":
    sys.exit(main())
