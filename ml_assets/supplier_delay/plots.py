"""The reliability (calibration) curve of the delay-risk backtest, for the Dagster metadata and the MLflow run."""

from ml_assets.common import plots
from ml_assets.supplier_delay.evaluation import Backtest


def reliability_curve(result: Backtest):
    """Mean predicted probability vs observed late share per bin (marker size = shipments), the diagonal of a
    perfectly calibrated forecast, and the base rate the baseline predicts for every shipment."""
    fig = plots.figure(5.5, 4.0)
    ax = fig.add_subplot()
    ax.plot([0, 1], [0, 1], color="#999999", linestyle=":", label="perfectly calibrated")
    ax.axhline(result.base_rate, color="#C44E52", linestyle="--", label=f"base rate {result.base_rate:.2f}")
    if result.reliability:
        x = [b["mean_predicted"] for b in result.reliability]
        y = [b["observed_rate"] for b in result.reliability]
        sizes = [20 + 8 * b["count"] for b in result.reliability]
        ax.plot(x, y, color="#4C72B0", linewidth=1.2)
        ax.scatter(x, y, s=sizes, color="#4C72B0", alpha=0.7, label="model (size = shipments)")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_xlabel("predicted P(late)")
    ax.set_ylabel("observed late share")
    ax.set_title(
        f"Backtest from {result.cutoff}: Brier {result.brier:.4f} vs base rate {result.base_rate_brier:.4f} "
        f"({result.n_test} shipments)",
        fontsize=9,
    )
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left", fontsize=8, markerscale=0.4)
    return fig
