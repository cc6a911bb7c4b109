"""PostgreSQL schema migrations, applied in order by storage/postgres.py."""
