"""Analytics: spending summaries and forecasts, KPIs, trends, custom reports, compliance metrics."""
