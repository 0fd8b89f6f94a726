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
"""

from sandbox.sme.vendors import register

__all__ = ["register"]
