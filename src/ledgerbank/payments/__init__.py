"""Scheduled and standing orders: transfers a customer authorised once, paid by the worker."""
