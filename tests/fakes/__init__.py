"""Fakes of the outside services Crieur talks to, served over real HTTP on the loopback."""
