"""Sandbox twins of the SME business data vendors (docs/invoice-financing.md, "Sandbox"): Karza (GSTIN search,
GST returns, MCA company data, GSTR-1 invoice confirmation), Perfios (statement summary), CRIF (commercial report).

Which input takes which branch (the PAN inside a GSTIN is characters 3-12):

| input | answer |
|---|---|
| seller GSTIN's PAN starting ``Z`` | GSTIN Cancelled (business unverified) |
| CIN starting ``X`` | company Strike Off (business unverified) |
| buyer GSTIN's PAN starting ``Z`` | buyer GSTIN Cancelled (buyer unverified) |
| buyer GSTIN's PAN starting ``Y`` | the invoice is not in the seller's GSTR-1 (buyer unverified) |
| seller GSTIN's PAN starting ``L`` | a weak profile: returns missed and late, bounces, no bureau history (score low) |
| anything else | an active, regular, growing business with a CRIF score of 760 |


Razorpay Smart Collect's virtual accounts, into which a financed invoice's buyer pays, are in
``sandbox.sme.collect``.
"""

from fastapi import FastAPI

from sandbox.context import Sandbox
from sandbox.sme import collect, vendors


def register(app: FastAPI, sbx: Sandbox) -> None:
    """Add the SME vendors and Smart Collect to the sandbox ``app``."""
    vendors.register(app, sbx)
    collect.register(app, sbx)


__all__ = ["register"]
