"""Ranking across languages: language centering, lexical matching, translation groups."""
