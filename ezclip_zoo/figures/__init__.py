"""Pictures of results (PNG), drawn with matplotlib (the optional extra ``plot``): the localisation timeline."""

from .timeline import save_timeline

__all__ = ["save_timeline"]
