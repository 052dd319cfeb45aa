"""Evaluation: top-1/top-5 with the reference's template-averaged scores, zero-shot over several splits
(mean +- std), base-to-novel (harmonic mean), and a JSON report."""

from .metrics import harmonic_mean, mean_std, topk_accuracy, topk_correct
from .protocols import base_to_novel_summary, evaluate_base_to_novel, evaluate_splits, summarize_splits
from .report import write_report
from .zero_shot import EvalResult, evaluate

__all__ = [
    "EvalResult",
    "base_to_novel_summary",
    "evaluate",
    "evaluate_base_to_novel",
    "evaluate_splits",
    "harmonic_mean",
    "mean_std",
    "summarize_splits",
    "topk_accuracy",
    "topk_correct",
    "write_report",
]
