"""SME invoice financing's pure rules (docs/invoice-financing.md): identifiers (GSTIN, business PAN), the request's
statuses and moves, the advance/discount/reserve maths, duplicate detection, risk scoring, offer matching and the
brand's SME settings. Standard library only; money is integer paise, rates basis points, dates IST calendar dates."""
