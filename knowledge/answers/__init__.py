"""Answers computed from the pack's calendars for the date a resident means: waste
collection, canteen menus, opening hours and events."""
