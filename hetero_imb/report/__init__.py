"""Stage 4 — report: metrics, run folders (config, history, results, predictions),
grid summaries and plots."""
