"""Deterministic telemetry simulator for the NQL catalog tables (`nql-flink simulate`).

Public API (imported lazily so `import nql_flink.simulator.cli` stays light):

    from nql_flink.simulator import Simulation, SimConfig, Incident, parse_incident
"""

__all__ = ["Simulation", "SimConfig", "Incident", "parse_incident", "validate"]


def __getattr__(name):
    if name == "Simulation":
        from .engine import Simulation
        return Simulation
    if name in ("SimConfig", "Incident", "parse_incident"):
        from . import config
        return getattr(config, name)
    if name == "validate":
        from .catalog import validate
        return validate
    raise AttributeError(name)
