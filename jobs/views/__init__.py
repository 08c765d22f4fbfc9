"""HTML views of jobs, one module per area: posting, search, matches, talent."""
