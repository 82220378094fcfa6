"""Pure dashboard logic, no Dash and no SQL: the address codec, the filter controls' values,
the Explore page's state and counts, and the comparability arithmetic."""
