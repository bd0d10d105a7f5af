"""Thin adapters between messaging channels and Crieur's core; one package per channel."""
