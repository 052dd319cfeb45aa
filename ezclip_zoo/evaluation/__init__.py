"""Evaluation: top-1/top-5 with the reference's template-averaged scores, zero-shot over several splits
(mean +- std), base-to-novel (harmonic mean), a JSON report, and `evaluate_dataset`: a protocol over a dataset in
one call, as ``ezclip-zoo evaluate`` runs it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy_attributes

if TYPE_CHECKING:  # what a type checker and a reader see; at run time each name imports on first use
    from .metrics import harmonic_mean, mean_std, topk_accuracy, topk_correct
    from .protocols import base_to_novel_summary, evaluate_base_to_novel, evaluate_splits, summarize_splits
    from .recipe import evaluate_dataset, read_test_splits, summary_line
    from .report import write_report
    from .zero_shot import EvalResult, evaluate

__all__ = [
    "EvalResult",
    "base_to_novel_summary",
    "evaluate",
    "evaluate_base_to_novel",
    "evaluate_dataset",
    "evaluate_splits",
    "harmonic_mean",
    "mean_std",
    "read_test_splits",
    "summarize_splits",
    "summary_line",
    "topk_accuracy",
    "topk_correct",
    "write_report",
]

__getattr__, __dir__ = lazy_attributes(
    __name__,
    {
        ".metrics": ("harmonic_mean", "mean_std", "topk_accuracy", "topk_correct"),
        ".protocols": ("base_to_novel_summary", "evaluate_base_to_novel", "evaluate_splits", "summarize_splits"),
        ".recipe": ("evaluate_dataset", "read_test_splits", "summary_line"),
        ".report": ("write_report",),
        ".zero_shot": ("EvalResult", "evaluate"),
    },
)
