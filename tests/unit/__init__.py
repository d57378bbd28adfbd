"""The fast tier (see conftest.py). A package, so that its conftest and
modules never take the names of tests/conftest.py and tests/python's
when the tiers are collected together."""
