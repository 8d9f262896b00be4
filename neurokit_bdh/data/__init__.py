"""Data for training: the Dataset protocol, batching, scikit-learn digits, a synthetic spike-pattern task."""
from .digits import ArrayDataset, Dataset, batches, load_digits, spike_pattern_task

__all__ = ["Dataset", "ArrayDataset", "batches", "load_digits", "spike_pattern_task"]
