"""`python -m ledgerbank` runs the command line."""

from ledgerbank.cli import main

main()
