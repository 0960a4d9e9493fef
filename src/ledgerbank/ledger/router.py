"""The ledger's HTTP API: accounts, transactions, the bulk import and the books, one router."""

from __future__ import annotations

from fastapi import APIRouter

from ledgerbank.ledger import (
    accounts_router,
    books_router,
    closing_router,
    import_router,
    limits_router,
    payees_router,
    transactions_router,
)

router = APIRouter()
router.include_router(accounts_router.router)
router.include_router(transactions_router.router)
router.include_router(import_router.router)
router.include_router(books_router.router)
router.include_router(limits_router.router)
router.include_router(closing_router.router)
router.include_router(payees_router.router)
