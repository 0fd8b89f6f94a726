"""The browser front ends served by the API itself: the staff console at ``/console`` and the borrower's app at
``/app``. Both are single-page apps written as plain ES modules (Preact + htm, vendored under ``static/vendor``
by ``scripts/vendor-assets``): no build step, no CDN, every screen a client of the public JSON API
(docs/console.md, docs/architecture.md "Front ends")."""
