"""How good the models are: generated labelled banks, fraud typologies, LedgerGPT question
sets. Kept out of the domain packages, which hold only what runs in production."""
