"""Export to Loihi 2 through Lava: quantisation, bit-accurate emulator, Lava builder, netx writer, resources.

``quantise`` (spec networks) and ``classifier`` (trained ``SNNClassifier``) map to fixed point; ``emulator``
reproduces Lava's bit-accurate CPU models in numpy; ``lava_build`` is the only module importing Lava
(lazily); ``stdp`` maps pair STDP to STDPLoihi; ``netx`` writes lava-dl ``.net`` files; ``resources``
estimates cores and chips from ``hardware/loihi2.toml``; ``store`` reads/writes the export folder; ``cli``
adds ``neurokit export loihi`` and ``neurokit lava-run``.
"""
