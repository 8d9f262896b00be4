"""neurokit_bdh: scale-free plastic spiking networks, simulated natively (CPU/CUDA) or in Brian2,
recorded in HDF5, analysed, and exported to neuromorphic hardware."""

__version__ = "0.1.0"
