"""The only place with SQL: the store's schema, its writer, and read access for the app."""
