"""Design-space exploration (E-RNN Phase I and II) on Ray: `python -m dse --space configs/dse/NAME.yaml`."""
