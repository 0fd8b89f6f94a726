"""SME invoice financing: the business's API under /api/v1/sme (docs/invoice-financing.md)."""
