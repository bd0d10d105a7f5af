"""Knowledge packs: typed models of the pack files, their loader and its error reports."""

from knowledge.pack.loader import load_pack
from knowledge.pack.models import Pack
from knowledge.pack.problems import PackError, Problem

__all__ = ["Pack", "PackError", "Problem", "load_pack"]
