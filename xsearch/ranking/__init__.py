"""Ranking across languages: language centring, lexical matching, translation groups."""
