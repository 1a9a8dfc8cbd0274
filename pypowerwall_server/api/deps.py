"""FastAPI's typed dependencies: a route asks for exactly the services it uses (the FastAPI
full-stack template's `SettingsDep` pattern), all built once by create_app."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from pypowerwall_server.answers import ReadModel
from pypowerwall_server.exposition import Exposition
from pypowerwall_server.gateway.supervisor import GatewaySupervisor
from pypowerwall_server.hub import Hub
from pypowerwall_server.request_stats import RequestStats
from pypowerwall_server.services import AppServices
from pypowerwall_server.settings import Settings


def _services(request: Request) -> AppServices:
    services: AppServices = request.app.state.services
    return services


def get_settings(request: Request) -> Settings:
    return _services(request).settings


def get_hub(request: Request) -> Hub:
    return _services(request).hub


def get_answers(request: Request) -> ReadModel:
    return _services(request).answers


def get_supervisor(request: Request) -> GatewaySupervisor:
    return _services(request).supervisor


def get_stats(request: Request) -> RequestStats:
    return _services(request).stats


def get_exposition(request: Request) -> Exposition:
    return _services(request).exposition


SettingsDep = Annotated[Settings, Depends(get_settings)]
HubDep = Annotated[Hub, Depends(get_hub)]
AnswersDep = Annotated[ReadModel, Depends(get_answers)]  # the read model (answers.py)
SupervisorDep = Annotated[GatewaySupervisor, Depends(get_supervisor)]
StatsDep = Annotated[RequestStats, Depends(get_stats)]
ExpositionDep = Annotated[Exposition, Depends(get_exposition)]
ServicesDep = Annotated[AppServices, Depends(_services)]  # all of them: /stats reports on each
