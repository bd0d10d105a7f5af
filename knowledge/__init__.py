"""Crieur's knowledge: packs loaded from an agent's YAML/CSV files, and answers computed from them.

Pure and synchronous: it imports neither `bot` nor `channels`.
"""
