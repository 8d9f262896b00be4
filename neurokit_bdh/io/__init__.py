"""Run files (HDF5): the writer the engines stream into and the reader analysis uses; schema in docs/formats.md."""
