"""Temporal client construction shared by the worker, the API and the CLI."""

from __future__ import annotations

from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter

from los.settings import Settings


async def connect(settings: Settings) -> Client:
    return await Client.connect(settings.temporal_target, namespace=settings.temporal_namespace,
                                data_converter=pydantic_data_converter)
