"""The private parts of libraries the server reaches into, one module per library.

Each module lists what we touch that the library does not document as its API (attribute
names, internal classes and methods, import workarounds) and where we use it. The contract
tests (tests/unit/test_library_contracts.py, tests/integration/test_pypowerwall_contract.py)
check every entry against the installed library, so an upgrade that moves one fails there,
by name, instead of degrading the server quietly. pyproject.toml pins these libraries to
the ranges those tests cover.
"""
