"""Inline fraud and anti-money-laundering scoring: features, anomaly model, AML rules, alerts."""
