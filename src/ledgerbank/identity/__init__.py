"""Users, password and PIN hashing, tokens, roles and permissions."""
