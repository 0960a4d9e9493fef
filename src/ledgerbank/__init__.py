"""ledgerbank: an open-source bank core."""

__version__ = "0.1.0"
