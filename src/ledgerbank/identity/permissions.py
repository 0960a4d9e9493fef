"""Roles and what they may do: the one table every route's permission is checked against."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    CUSTOMER = "customer"
    ADMIN = "admin"
    AUDITOR = "auditor"
    FRAUD_ANALYST = "fraud_analyst"
    FINANCIAL_MANAGER = "financial_manager"
    COMPLIANCE_OFFICER = "compliance_officer"


class Permission(StrEnum):
    PROFILE_MANAGE = "profile:manage"  # one's own profile and PIN
    ACCOUNTS_OPEN = "accounts:open"  # open accounts for oneself
    ACCOUNTS_READ_OWN = "accounts:read_own"
    ACCOUNTS_READ_ALL = "accounts:read_all"
    ACCOUNTS_FREEZE = "accounts:freeze"
    MONEY_MOVE_OWN = "money:move_own"  # deposit, withdraw, transfer from one's own accounts
    MONEY_DEPOSIT_ANY = "money:deposit_any"  # cash paid in at the bank for a customer (staff)
    TRANSACTIONS_READ_OWN = "transactions:read_own"
    TRANSACTIONS_READ_ALL = "transactions:read_all"
    TRANSACTIONS_REVERSE = "transactions:reverse"
    TRANSACTIONS_FLAG = "transactions:flag"
    IMPORT = "ledger:import"
    USERS_MANAGE = "users:manage"
    AUDIT_READ = "audit:read"
    FRAUD_REVIEW = "fraud:review"
    COMPLIANCE_REVIEW = "compliance:review"
    RISK_READ_OWN = "risk:read_own"
    RISK_READ_ALL = "risk:read_all"
    ANALYTICS_OWN = "analytics:own"
    REPORTS_READ = "reports:read"
    LEDGERGPT_ASK = "ledgergpt:ask"
    ACCOUNTS_FREEZE_OWN = "accounts:freeze_own"  # a customer freezes their own account
    APPROVALS_READ = "approvals:read"  # the four-eyes inbox (deciding needs the action's own)
    RATES_READ = "rates:read"  # exchange and interest rates, exchange quotes
    RATES_MANAGE = "rates:manage"  # set exchange and interest rates
    CUSTOMERS_REVIEW = "customers:review"  # search customers, the customer view (casework)
    REPLICA_READ = "replica:read"  # how far behind the read replica is
    WEBHOOKS_MANAGE = "webhooks:manage"  # register, list, delete webhooks; redeliver
    JOBS_READ = "jobs:read"  # the worker's jobs and runs (GET /admin/jobs)


P = Permission

ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.CUSTOMER: frozenset(
        {
            P.PROFILE_MANAGE,
            P.ACCOUNTS_OPEN,
            P.ACCOUNTS_READ_OWN,
            P.MONEY_MOVE_OWN,
            P.TRANSACTIONS_READ_OWN,
            P.ANALYTICS_OWN,
            P.ACCOUNTS_FREEZE_OWN,
            P.RATES_READ,
            # no RISK_READ_OWN: customers never see scores, verdicts or rules (tipping off)
        }
    ),
    Role.ADMIN: frozenset(
        {
            P.PROFILE_MANAGE,
            P.CUSTOMERS_REVIEW,
            P.JOBS_READ,
            P.MONEY_DEPOSIT_ANY,
            P.APPROVALS_READ,
            P.ACCOUNTS_READ_ALL,
            P.ACCOUNTS_FREEZE,
            P.TRANSACTIONS_READ_ALL,
            P.TRANSACTIONS_REVERSE,
            P.TRANSACTIONS_FLAG,
            P.IMPORT,
            P.USERS_MANAGE,
            P.AUDIT_READ,
            P.FRAUD_REVIEW,
            P.COMPLIANCE_REVIEW,
            P.RISK_READ_ALL,
            P.REPORTS_READ,
            P.LEDGERGPT_ASK,
            P.RATES_READ,
            P.RATES_MANAGE,
            P.REPLICA_READ,
            P.WEBHOOKS_MANAGE,
        }
    ),
    Role.AUDITOR: frozenset(
        {
            P.PROFILE_MANAGE,
            P.APPROVALS_READ,
            P.ACCOUNTS_READ_ALL,
            P.TRANSACTIONS_READ_ALL,
            P.AUDIT_READ,
            P.RISK_READ_ALL,
            P.REPORTS_READ,
            P.LEDGERGPT_ASK,
            P.RATES_READ,
            P.REPLICA_READ,
        }
    ),
    Role.FRAUD_ANALYST: frozenset(
        {
            P.PROFILE_MANAGE,
            P.CUSTOMERS_REVIEW,
            P.APPROVALS_READ,
            P.ACCOUNTS_READ_ALL,
            P.ACCOUNTS_FREEZE,
            P.TRANSACTIONS_READ_ALL,
            P.TRANSACTIONS_FLAG,
            P.FRAUD_REVIEW,
            P.RISK_READ_ALL,
            P.RATES_READ,
        }
    ),
    Role.FINANCIAL_MANAGER: frozenset(
        {
            P.PROFILE_MANAGE,
            P.APPROVALS_READ,
            P.ACCOUNTS_READ_ALL,
            P.TRANSACTIONS_READ_ALL,
            P.REPORTS_READ,
            P.RATES_READ,
            P.RATES_MANAGE,
        }
    ),
    Role.COMPLIANCE_OFFICER: frozenset(
        {
            P.PROFILE_MANAGE,
            P.CUSTOMERS_REVIEW,
            P.APPROVALS_READ,
            P.ACCOUNTS_READ_ALL,
            P.ACCOUNTS_FREEZE,
            P.TRANSACTIONS_READ_ALL,
            P.TRANSACTIONS_FLAG,
            P.AUDIT_READ,
            P.COMPLIANCE_REVIEW,
            P.RISK_READ_ALL,
            P.LEDGERGPT_ASK,
            P.RATES_READ,
        }
    ),
}


def allows(role: str, permission: Permission) -> bool:
    try:
        return permission in ROLE_PERMISSIONS[Role(role)]
    except ValueError:
        return False


# Personal details (LedgerGPT's guarded columns, the values in audit states) only these
# permissions open; every other role sees them masked.
PERSONAL_DATA = (Permission.USERS_MANAGE, Permission.COMPLIANCE_REVIEW)
PERSONAL_KEYS = ("email", "phone", "date_of_birth")
MASKED = "[personal]"


def sees_personal_data(role: str) -> bool:
    return any(allows(role, permission) for permission in PERSONAL_DATA)


def mask_personal(value: object) -> object:
    """`value` (decoded JSON) with the values of personal keys, at any depth, masked."""
    if isinstance(value, dict):
        return {
            key: MASKED if key in PERSONAL_KEYS else mask_personal(item)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [mask_personal(item) for item in value]
    return value
