"""The one Alembic environment of every service: `env.py` and the template of new revisions.

Each service keeps only its revisions, in `<package>/migrations/versions/`; `migrations.Migrations`
points Alembic here and there.
"""
