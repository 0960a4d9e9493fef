"""The Streamlit monitoring dashboard (the optional `ledgerbank[dashboard]` extra)."""
