"""Model zoo: one file per family (snn.py: spiking classifiers trained with surrogate gradients)."""
