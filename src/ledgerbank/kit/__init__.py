"""Shared plumbing: database engines, money, pagination, exports and the clock. Imports no domain."""
