"""The console's pages, one module a screen; each exposes ``routes``."""
