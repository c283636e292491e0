"""Readers of landing files: each turns one delivery format into typed rows and named rejects.

A reader never writes anywhere and never keeps an identifier in clear text: it is handed a
pseudonymiser and returns tables ready for the raw layer, plus every row it could not read and why.
"""
