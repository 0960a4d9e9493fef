"""Shared plumbing: engines, money, pagination, exports, the clock. Imports no domain."""
