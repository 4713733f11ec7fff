"""One router per resource: search, documents, collections, ops (health/ready/info/metrics)."""
