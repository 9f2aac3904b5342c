# cython: boundscheck=False, wraparound=False, cdivision=True
"""The PostgreSQL parser in C: pgbadger's normalisation and the log's line loop.

postgresql.py and fingerprint_pg.py are the specification (the pure-Python build runs them);
this module gives the same events, about three times faster, because PostgreSQL logs carry
most of a fleet's bytes. Pieces, each in its own include:

* `_pg_normalize.pxi`: pgbadger's `normalize_query` rules as byte passes;
* `_pg_class.pxi`: the statement prepared as pgbadger's `store_queries` does (bound values,
  the trailing `;`), normalised and hashed: a statement's class;
* `_pg_prefix.pxi`: the `%t:%r:%u@%d:[%p]:` prefix and the statement head read in C;
* `_pg_lines.pxi`: the entry state machine of PostgresLogParser.

Whatever the C code is not sure of goes to the Python code (it returns None or False, or asks
the regex), so the tests compare both implementations, and both with pgbadger.
"""

from cpython.mem cimport PyMem_Free, PyMem_Malloc
from cpython.unicode cimport PyUnicode_DecodeLatin1
from libc.stdlib cimport strtoll
from cpython.float cimport PyFloat_FromDouble
from cpython.long cimport PyLong_FromLongLong
from cpython.unicode cimport PyUnicode_Substring
from libc.string cimport memchr, memcmp, memcpy


cdef extern from "Python.h":
    int PyUnicode_KIND(object)
    void *PyUnicode_DATA(object)
    Py_ssize_t PyUnicode_GET_LENGTH(object)
    int PyUnicode_1BYTE_KIND


ctypedef unsigned char uchar


cdef inline bint is_space(uchar c) noexcept nogil:
    # Perl's \s on bytes (and Python's re.ASCII \s)
    return c == 32 or (9 <= c <= 13)


cdef inline bint is_digit(uchar c) noexcept nogil:
    return 48 <= c <= 57


cdef inline bint is_word(uchar c) noexcept nogil:
    return (97 <= c <= 122) or (65 <= c <= 90) or (48 <= c <= 57) or c == 95


cdef inline bint is_hex(uchar c) noexcept nogil:
    return (48 <= c <= 57) or (97 <= c <= 102)


cdef inline bint in_number_set(uchar c) noexcept nogil:
    # [a-z0-9_$-]: the characters that may not precede a replaced number
    return (97 <= c <= 122) or (48 <= c <= 57) or c == 95 or c == 36 or c == 45


cdef inline bint in_hex_set(uchar c) noexcept nogil:
    # [a-z_$-]: the characters that may not precede a replaced hexadecimal
    return (97 <= c <= 122) or c == 95 or c == 36 or c == 45


cdef inline Py_ssize_t find(const uchar *s, Py_ssize_t n, const char *word,
                            Py_ssize_t w) noexcept nogil:
    # memchr for the first byte, then a compare: the words are short (memmem's set-up is not)
    cdef const uchar *at = s
    cdef const uchar *end = s + n - w + 1
    while at < end:
        at = <const uchar *>memchr(at, word[0], end - at)
        if at == NULL:
            return -1
        if memcmp(at, word, w) == 0:
            return at - s
        at += 1
    return -1


include "_pg_normalize.pxi"
include "_pg_class.pxi"
include "_pg_prefix.pxi"
include "_pg_lines.pxi"
