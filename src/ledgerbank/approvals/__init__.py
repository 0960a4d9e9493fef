"""Four eyes: sensitive staff actions proposed by one person, carried out when another approves."""
