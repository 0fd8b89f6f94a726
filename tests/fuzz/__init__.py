"""The API fuzzer (schemathesis) over the running app; see docs/api-errors.md."""
