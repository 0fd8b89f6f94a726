"""A brand's settings (seed 001's settings module): /api/v1/partner/brand/{brandId}/settings/...

Each sub-route is one configuration domain of the brand: its general configuration, loan rules (its
products), evaluation items, status reasons, blocklist, providers, staff days off and non-repayment dates.
Reading needs ``settings.view``, changing ``settings.manage`` (never with an API key). A change is validated
whole before anything is written (422 naming the field and the reason), refused when it would duplicate an
existing row (409), and audited with before/after in the same transaction. Another brand's row is 404.

Entity ``PUT``s replace the row (the body is the same as for ``POST``); ``PUT /brand`` is a partial update.

One module (one router) per sub-resource: ``brand``, ``loan_rules``, ``evaluation_items``, ``status_reasons``,
``blocklist``, ``providers``, ``unavailability`` and ``holidays``; ``common`` holds what they share.
"""
