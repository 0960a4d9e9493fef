"""The single-page web app: static ES modules and CSS served by ledgerbank itself, no build step."""
