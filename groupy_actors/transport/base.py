"""The Thespian system base `groupyTCPBase`: `multiprocTCPBase` with our
transport (see `tcp`). `ActorSystem("groupyTCPBase", caps)` imports
`thespian.system.groupyTCPBase`, so `register()` (in `__init__`) must have
put this module there first in the process that starts or attaches to a
system; the admin and the actors are forks of it and inherit that.
"""
from __future__ import annotations

import functools
import os
from typing import Any

from thespian.system.multiprocCommon import multiprocessCommon

from .settings import Settings
from .tcp import PipelinedTCPTransport

NAME = "groupyTCPBase"


def _external_transport(settings: Settings, initType: Any, *args: Any) -> PipelinedTCPTransport:
    return PipelinedTCPTransport(initType, *args, settings=settings)


class ActorSystemBase(multiprocessCommon):

    transportType = PipelinedTCPTransport

    def __init__(self, system: Any, logDefs: Any = None) -> None:
        # The secret leaves the capabilities before anything sees them:
        # Thespian logs capabilities and sends them to the convention leader.
        settings = Settings.from_capabilities(system.capabilities, take_secret=True)
        # multiprocessCommon builds this process's transport with
        # `self.transportType(ExternalInterfaceTransportInit(), caps, ...)`;
        # hand it the settings that way. Forks get them from the endpoint.
        self.transportType = functools.partial(_external_transport, settings)
        system.capabilities["Thespian ActorSystem Name"] = NAME
        system.capabilities["Thespian ActorSystem Version"] = 1
        system.capabilities["Thespian Watch Supported"] = os.name != "nt"
        super().__init__(system, logDefs)


__all__ = ["ActorSystemBase", "NAME"]
