"""Network description: topology generators, CSR synapse storage, the network spec and its validation."""
