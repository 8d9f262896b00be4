"""Analysis of run files (spike rasters, synapse growth) and figures."""
