"""Question modules, one per part of the course; each registers its questions when imported.

Every module in this package (not starting with ``_``) is imported the first time the registry is read: add a file,
call :func:`dlcourse.grading.registry.register` in it, and the questions exist. See :mod:`dlcourse.grading` for the
guide.
"""
