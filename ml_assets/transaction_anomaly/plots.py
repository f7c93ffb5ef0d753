"""The anomaly evaluation as a figure: precision@k of the model and the references, and where the known anomalies
fall in the score distribution."""

import numpy as np

from ml_assets.common import plots
from ml_assets.transaction_anomaly.evaluation import AnomalyEvaluation


def evaluation_chart(evaluation: AnomalyEvaluation, scores, known_scores, ks):
    fig = plots.figure(8.0, 3.2)
    left, right = fig.subplots(1, 2)
    width = 0.27
    x = np.arange(len(ks))
    series = {
        "model": evaluation.model,
        "|amount z| (baseline)": evaluation.baseline,
        "red-flag count": evaluation.red_flags,
    }
    for i, (label, values) in enumerate(series.items()):
        left.bar(x + (i - 1) * width, [values.get(f"precision_at_{k}", 0.0) for k in ks], width, label=label)
    left.set_xticks(x, [f"k={k}" for k in ks])
    left.set_ylim(0, 1.05)
    left.set_title(f"precision@k ({evaluation.n_known_found} known anomalies)", fontsize=9)
    left.legend(fontsize=7)
    right.hist(scores, bins=50, color="#999999", log=True)
    for value in known_scores:
        right.axvline(value, color="#C44E52", linewidth=1)
    right.set_title(f"anomaly scores of {evaluation.n_movements} movements (red: known)", fontsize=9)
    right.set_xlabel("score (higher = more anomalous)")
    for ax in (left, right):
        ax.grid(alpha=0.3)
    return fig
