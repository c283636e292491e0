"""The quality gate: Great Expectations suites applied to raw tables and marts."""
