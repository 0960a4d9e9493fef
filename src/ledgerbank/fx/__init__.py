"""Currencies and exchange: the bank's own exchange rates and conversion arithmetic."""
