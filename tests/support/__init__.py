"""Everything the tests share that is not a fixture: engines and databases, users, case drivers, page and
browser helpers, reads of the audit trail, and the element coverage of the models.

Fixtures live in the ``conftest.py`` files; they build on these modules. Test modules import from here,
never from each other.
"""
