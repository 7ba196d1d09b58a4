"""Reads of the trading domain, one module per aggregate: ledger, receipts, blocks, treasury, trades."""
