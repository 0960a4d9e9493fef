"""Interest on savings: rate history, daily accrual and monthly payment."""
