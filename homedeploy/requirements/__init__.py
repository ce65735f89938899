"""Requirements: parsing, package indexes, the Heroku target, resolution and per-line verdicts."""
