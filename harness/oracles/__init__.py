"""Judges of evidence. Each oracle samples during a run and returns a Finding at the end."""
from .alerts import AlertLines
from .answers import Answers
from .base import Finding, Oracle
from .crash import Crash
from .resources import ProcessResources
from .streams import StuckStreams

REGISTRY = {cls.name: cls for cls in (Crash, StuckStreams, ProcessResources, AlertLines, Answers)}

__all__ = ["Finding", "Oracle", "REGISTRY"]
