"""Deterministic simulation of many cores over a faulty network."""
from .faults import Faults
from .simulator import SIM_TIMING, Outcome, Simulation, run_seeds

__all__ = ["Faults", "Outcome", "SIM_TIMING", "Simulation", "run_seeds"]
