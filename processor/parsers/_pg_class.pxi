# A statement's class: pgbadger's preparation (store_queries) and normalisation, and the
# MD5 query id, in C (fingerprint_pg.fingerprint_pg_latin1 is the specification).

from hashlib import md5 as _md5


cdef enum:
    MAX_VALUES = 64  # bound values read in C; an entry with more takes the Python path


cdef Py_ssize_t named_values(const uchar *s, Py_ssize_t n, Py_ssize_t *v0,
                             Py_ssize_t *v1) noexcept nogil:
    r"""pgbadger's `\$\d+\s=\s(.*?)(?:,|$)` values of a `parameters:` text without newlines:
    their count (their offsets in v0/v1), 0 when there is no `$N = `, -1 when too many."""
    cdef Py_ssize_t i = 0, j, count = 0
    while i < n:
        if s[i] != 36:
            i += 1
            continue
        j = skip_digits(s, i + 1, n)
        if (j == i + 1 or n - j < 3 or not is_space(s[j]) or s[j + 1] != 61
                or not is_space(s[j + 2])):
            i += 1
            continue
        if count == MAX_VALUES:
            return -1
        j += 3
        v0[count] = j
        while j < n and s[j] != 44:
            j += 1
        v1[count] = j
        count += 1
        i = j + 1
    return count


cdef inline Py_ssize_t value_index(const uchar *s, Py_ssize_t d0, Py_ssize_t d1,
                                   Py_ssize_t count) noexcept nogil:
    """Perl's `$t_res[$N-1]` for the digits s[d0:d1]: the index, or -1 for undef."""
    cdef Py_ssize_t idx
    while d1 - d0 > 1 and s[d0] == 48:
        d0 += 1
    if d1 - d0 > 9:
        return -1
    idx = <Py_ssize_t>strtoll(<const char *>(s + d0), NULL, 10) - 1
    if idx < 0:
        idx += count
    return idx if 0 <= idx < count else -1


cdef object class_of(const uchar *q, Py_ssize_t m):
    """(class, query_id) of the prepared statement q[:m] (`;` appended), or False."""
    norm = normalize_bytes(q, m)
    if norm is None:
        return False
    return norm, upper_hex(_md5(norm.encode("latin-1"), usedforsecurity=False).digest())


cdef str upper_hex(bytes digest):
    """hexdigest().upper() of a digest, in one step."""
    cdef char out[32]
    cdef const uchar *d = <const uchar *>(<const char *>digest)
    cdef Py_ssize_t i
    for i in range(16):
        out[2 * i] = b"0123456789ABCDEF"[d[i] >> 4]
        out[2 * i + 1] = b"0123456789ABCDEF"[d[i] & 15]
    return PyUnicode_DecodeLatin1(out, 32, NULL)


def pgbadger_class(str statement, str parameters):
    """fingerprint_pg.fingerprint_pg_latin1 of latin-1 text (`parameters` None or the text
    after `parameters: `): (class, query_id), None where pgbadger classes nothing, or False
    where the Python rules must decide (values not in the `$N = v` form, newlines, too many)."""
    cdef const uchar *s = <const uchar *>PyUnicode_DATA(statement)
    cdef Py_ssize_t n = PyUnicode_GET_LENGTH(statement)
    cdef const uchar *v = NULL
    cdef Py_ssize_t nv = 0, count = 0, i = 0, j, k, m, size, idx
    cdef Py_ssize_t v0[MAX_VALUES]
    cdef Py_ssize_t v1[MAX_VALUES]
    cdef uchar *q
    if PyUnicode_KIND(statement) != PyUnicode_1BYTE_KIND:
        return False
    while i < n and is_space(s[i]):
        i += 1
    while n > i and (is_space(s[n - 1]) or s[n - 1] == 59):
        n -= 1
    if memchr(s + i, 36, n - i) != NULL and parameters:
        if PyUnicode_KIND(parameters) != PyUnicode_1BYTE_KIND:
            return False
        v = <const uchar *>PyUnicode_DATA(parameters)
        nv = PyUnicode_GET_LENGTH(parameters)
        if memchr(v, 10, nv) != NULL:
            return False
        count = named_values(v, nv, v0, v1)
        if count <= 0:
            return False
    # Bound: each `$N` becomes its value (nothing past either end; `$0` is the last one).
    size = 0
    j = i
    while j < n:
        if s[j] == 36 and j + 1 < n and is_digit(s[j + 1]):
            k = skip_digits(s, j + 1, n)
            idx = value_index(s, j + 1, k, count)
            if idx >= 0:
                size += v1[idx] - v0[idx]
            j = k
        else:
            size += 1
            j += 1
    q = <uchar *>PyMem_Malloc(size + 1)
    if q == NULL:
        raise MemoryError()
    try:
        m = 0
        j = i
        while j < n:
            if s[j] == 36 and j + 1 < n and is_digit(s[j + 1]):
                k = skip_digits(s, j + 1, n)
                idx = value_index(s, j + 1, k, count)
                if idx >= 0:
                    memcpy(q + m, v + v0[idx], v1[idx] - v0[idx])
                    m += v1[idx] - v0[idx]
                j = k
                continue
            q[m] = s[j]
            m += 1
            j += 1
        if m == 0 or (m == 1 and q[0] == 48):
            return None
        k = m
        while k > 0 and is_space(q[k - 1]):
            k -= 1
        if k == 0 or q[k - 1] != 59:
            q[m] = 59  # pgbadger's `;`
            m += 1
        return class_of(q, m)
    finally:
        PyMem_Free(q)
