"""Database creation and migrations (yoyo-migrations). Every service
database gets the kit's migrations followed by the service's own."""
from pathlib import Path

import psycopg2
from psycopg2 import sql
from yoyo import get_backend, read_migrations

from .db import database_dsn

KIT_MIGRATIONS = Path(__file__).parent / "migrations"


def create_database(server_url, name):
    """Create database ``name`` if it does not exist; True if created."""
    conn = psycopg2.connect(database_dsn(server_url, "postgres"))
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
            if cur.fetchone():
                return False
            try:
                cur.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            except psycopg2.errors.DuplicateDatabase:  # created meanwhile by a sibling
                return False
            return True
    finally:
        conn.close()


def drop_database(server_url, name):
    conn = psycopg2.connect(database_dsn(server_url, "postgres"))
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
    finally:
        conn.close()


def migrate(server_url, name, service_migrations=None):
    """Create the database if needed and apply pending migrations; returns
    the ids applied."""
    create_database(server_url, name)
    dirs = [str(KIT_MIGRATIONS)]
    if service_migrations and Path(service_migrations).is_dir():
        dirs.append(str(service_migrations))
    backend = get_backend(database_dsn(server_url, name))
    migrations = read_migrations(*dirs)
    with backend.lock():
        pending = backend.to_apply(migrations)
        backend.apply_migrations(pending)
    return [m.id for m in pending]
