# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""Compiled code of the slow query log: its plainest entries parsed from C, and
pt-query-digest's fingerprint as C loops.

Why compiled: the slow log carries most bytes of a MySQL fleet, and its pure-Python parse spent
about half its time in the fingerprint's dozen regex passes over each statement (14-17 MB/s a
core; issue 10 asks for 40), and most of the rest in the interpreter, line by line. The Python
code stays the specification (`SlowQueryLogParser._line`, `fingerprint_mysql.fingerprint_latin1`);
tests/parsers/test_slow_compiled.py compares both implementations on generated logs, odd lines
and random token soup, and the oracle test compares both with the installed pt-query-digest.

`text` is the latin-1 view of whole lines (one character per byte, each line ending with a
newline); `pos` an offset in it; `start` the file offset of `text[0]`.
"""

from cpython.conversion cimport PyOS_string_to_double
from cpython.datetime cimport datetime_new, import_datetime
from cpython.float cimport PyFloat_FromDouble
from cpython.long cimport PyLong_FromLongLong
from libc.stdlib cimport free, malloc
from libc.string cimport memchr, memcmp, memcpy

cdef extern from "_scan_event.h":
    # shared with _scan.pyx: Event objects built without the dataclass __init__
    object event_new(object cls, object start, object end, object fields, object when)
    bint event_bind(object cls, tuple descriptors)

cdef extern from "<string.h>" nogil:
    void* memmem(const void*, size_t, const void*, size_t)

cdef extern from "Python.h":
    int PyUnicode_KIND(object)
    void* PyUnicode_DATA(object)
    Py_ssize_t PyUnicode_GET_LENGTH(object)
    str PyUnicode_Substring(object, Py_ssize_t, Py_ssize_t)
    str PyUnicode_DecodeLatin1(const char*, Py_ssize_t, const char*)
    int PyUnicode_1BYTE_KIND

import_datetime()

from datetime import datetime, timezone

cdef object UTC = timezone.utc
cdef object fromtimestamp = datetime.fromtimestamp

ctypedef const unsigned char* chars


cdef inline bint one_byte(str text):
    """A latin-1 view (one byte per character), which is all the parsers hand over."""
    return PyUnicode_KIND(text) == PyUnicode_1BYTE_KIND


# ---------------------------------------------------------------- bytes, as the regexes see them

cdef inline bint is_word(unsigned char c) noexcept nogil:
    return (
        (c >= b"a" and c <= b"z") or (c >= b"A" and c <= b"Z") or (c >= b"0" and c <= b"9")
        or c == b"_"
    )


cdef inline unsigned char ascii_lower(unsigned char c) noexcept nogil:
    return c + 32 if c >= b"A" and c <= b"Z" else c


cdef inline bint is_space(unsigned char c) noexcept nogil:
    # Python's ASCII \s, and Perl's: space, \t, \n, \r, \f, \v
    return c == b" " or (c >= 9 and c <= 13)


cdef inline bint ci_at(chars s, Py_ssize_t n, Py_ssize_t i, const char* word, int m) noexcept nogil:
    """`word` (lower-case) at s[i:], ASCII case-insensitive."""
    cdef int k
    if i + m > n:
        return False
    for k in range(m):
        if ascii_lower(s[i + k]) != <unsigned char>word[k]:
            return False
    return True


cdef inline bint ci_from(
    chars s, Py_ssize_t n, unsigned char first, const char* word, int m
) noexcept nogil:
    # each `first` found by memchr (vectorised), then the rest compared case-insensitively
    cdef chars at = s
    cdef chars end = s + n
    while at < end:
        at = <chars>memchr(at, first, end - at)
        if at == NULL:
            return False
        if ci_at(s, n, at - s, word, m):
            return True
        at += 1
    return False


cdef inline bint ci_contains(chars s, Py_ssize_t n, const char* word, int m) noexcept nogil:
    """`word` (lower-case letters) in s, ASCII case-insensitive."""
    return ci_from(s, n, word[0], word, m) or ci_from(s, n, word[0] - 32, word, m)


cdef inline bint has(chars s, Py_ssize_t n, const char* word, int m) noexcept nogil:
    return memmem(s, n, word, m) != NULL


cdef inline bint is_py_space(unsigned char c) noexcept nogil:
    # str.strip()/split() whitespace among ASCII: \t\n\v\f\r, \x1c-\x1f and space
    return c == b" " or (c >= 9 and c <= 13) or (c >= 28 and c <= 31)


cdef inline bint starts(
    chars s, Py_ssize_t n, Py_ssize_t i, const char* w, Py_ssize_t m
) noexcept nogil:
    return i + m <= n and memcmp(s + i, w, m) == 0


def bind_event(cls):
    """Let the scanner build `cls` (the slots dataclass `Event`) directly; False (and the
    scanner calls `cls` instead) when its slots are not plain object members."""
    names = ("start", "end", "fields", "event_time", "parse_error")
    if tuple(getattr(cls, "__slots__", ())) != names:
        return False
    return event_bind(cls, tuple(cls.__dict__[name] for name in names))


include "_slowlog_fingerprint.pxi"
include "_slowlog_entries.pxi"
