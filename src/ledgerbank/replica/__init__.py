"""The read replica: how far behind the database the readers use is."""
