"""Fused Triton kernels for the layers (imported lazily: Triton is optional, the layers fall back to torch)."""
