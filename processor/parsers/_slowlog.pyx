# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""Compiled code of the slow query log: pt-query-digest's fingerprint as C loops.

Why compiled: the slow log carries most bytes of a MySQL fleet, and its pure-Python parse spent
about half its time in the fingerprint's dozen regex passes over each statement (14-17 MB/s a
core; issue 10 asks for 40). The Python code stays the specification
(`fingerprint_mysql.fingerprint_latin1`); tests/parsers/test_slow_compiled.py compares the two
on generated statements and random token soup, and the oracle test compares both with the
installed pt-query-digest.
"""

from libc.stdlib cimport free, malloc
from libc.string cimport memchr, memcmp, memcpy

cdef extern from "Python.h":
    int PyUnicode_KIND(object)
    void* PyUnicode_DATA(object)
    Py_ssize_t PyUnicode_GET_LENGTH(object)
    str PyUnicode_DecodeLatin1(const char*, Py_ssize_t, const char*)
    int PyUnicode_1BYTE_KIND

ctypedef const unsigned char* chars


cdef inline bint one_byte(str text):
    """A latin-1 view (one byte per character), which is all the parsers hand over."""
    return PyUnicode_KIND(text) == PyUnicode_1BYTE_KIND


include "_slowlog_fingerprint.pxi"
