"""Test set-up shared by the unit tests: a headless matplotlib backend and the CPU, whatever the machine has."""
import os

os.environ.setdefault("MPLBACKEND", "Agg")
