"""Codec endpoint for the Temporal UI (filled in by the payload-codec work)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["codec"])
