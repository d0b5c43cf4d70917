"""The study's database: one interface, its schema and migration history."""
