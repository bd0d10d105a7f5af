"""Calendars computed from a pack: public and school holidays, waste collection, opening
hours, canteen menus and events. Pure functions of the pack and a date."""
