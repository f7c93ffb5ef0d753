"""Benchmark: the FX forecast against the random walk, walk-forward over the real PTAX history in data/reference.

Not a timing benchmark: forecast accuracy, in ratios to the baseline measured on the same backtest. Per horizon
(1..20 business days), pooled over USD and EUR: MAE of the served point forecast and of the ridge candidate as a
ratio to the random walk's MAE (below 1 beats it), coverage of the 90 % interval (model and baseline: random walk
with the empirical 5 %/95 % quantiles of the recent h-day returns), and the interval score ratio model/baseline
(below 1 is better). Refits every --step business days (the Dagster asset uses 20).

    .venv/bin/python benchmarks/fx_forecast_backtest.py            # --step 20, about 1 min on 2 CPUs
    .venv/bin/python benchmarks/fx_forecast_backtest.py --step 60
"""

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ml_assets.fx_forecast.features import features_from_rates, read_reference_history  # noqa: E402
from ml_assets.fx_forecast.train import train  # noqa: E402

COLUMNS = ["horizon", "n", "mae_ratio", "ridge_mae_ratio", "coverage", "baseline_coverage", "interval_score_ratio"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--step", type=int, default=20)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()
    started = time.perf_counter()
    result = train(features_from_rates(read_reference_history()), seed=args.seed, step=args.step)
    per_h = result.tables["backtest_by_horizon"][COLUMNS]
    print(f"| {' | '.join(COLUMNS)} |")
    print("|" + "---:|" * len(COLUMNS))
    for row in per_h.itertuples(index=False):
        cells = [f"{row.horizon}", f"{row.n:,}"] + [f"{value:.4f}" for value in row[2:]]
        print(f"| {' | '.join(cells)} |")
    means = per_h.mean(numeric_only=True)
    print(
        f"| mean | | {means.mae_ratio:.4f} | {means.ridge_mae_ratio:.4f} | {means.coverage:.4f} | "
        f"{means.baseline_coverage:.4f} | {means.interval_score_ratio:.4f} |"
    )
    print()
    params, seconds = result.params, time.perf_counter() - started
    print(f"point source served: {params['point_source']}; step {args.step}; seed {args.seed}; origins")
    print(f"{params['first_origin']}..{params['last_origin']}; {seconds:.0f} s")
    for note in result.notes:
        print(f"- {note}")


if __name__ == "__main__":
    main()
