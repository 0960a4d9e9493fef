"""Events out of the bank: the transactional outbox, its publisher (NATS JetStream) and webhooks."""
