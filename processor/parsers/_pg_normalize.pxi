# pgbadger's `normalize_query` in C for the statements most workloads send.
#
# fingerprint_pg.py holds the port of pgbadger's rules (the specification, oracle-tested against
# pgbadger itself). Most statements use only the rules that are a plain left-to-right pass over
# bytes: comments, lower-casing, `\\'`, `'…'` literals, `??` runs, whitespace runs, a leading
# `begin;`, `= null`, numbers, hexadecimals, `$N`, `in (…)` lists, trimming and the first ` ;`.
# This module runs those passes in C, each with the same leftmost, non-overlapping matches as
# its regex, and returns None for a statement that needs any other rule (the placeholders,
# cursor and prepared-statement names, an empty `""` name), which then takes the Python path.
# Quoted names are handled as pgbadger does: kept out of lower-casing, `AS "alias"` loses its
# `'`, and the number, hexadecimal and `$N` rules skip them (pgbadger hides them under
# placeholders that, like the quotes, are never part of a match).
# tests/parsers/test_fingerprint_pg.py checks both against pgbadger and each other.
#

cdef inline Py_ssize_t name_end(const uchar *a, Py_ssize_t n, Py_ssize_t i) noexcept nogil:
    """For `"` at i: the index of the quote closing `"[^"]+"`, or -1 (an empty name is
    refused before the passes run, so -1 means the quote has no partner)."""
    cdef Py_ssize_t j = i + 1
    while j < n and a[j] != 34:
        j += 1
    return j if j < n else -1


cdef bint has_empty_name(const uchar *a, Py_ssize_t n) noexcept nogil:
    """`""`: there pgbadger's replace-first-then-search-again loop pairs quotes differently
    from one left-to-right pass."""
    cdef Py_ssize_t i
    for i in range(n - 1):
        if a[i] == 34 and a[i + 1] == 34:
            return True
    return False


cdef bint needs_python(const uchar *s, Py_ssize_t n) noexcept nogil:
    """Whether a rule outside this module could apply (the text is lower-cased)."""
    return (
        find(s, n, b"%sqlident", 9) >= 0
        or find(s, n, b"%%objname", 9) >= 0
        or find(s, n, b"declare", 7) >= 0
        or find(s, n, b"fetch", 5) >= 0
        or find(s, n, b"close", 5) >= 0
        or find(s, n, b"deallocate", 10) >= 0
    )


cdef Py_ssize_t block_comments(const uchar *a, Py_ssize_t n, uchar *b) noexcept nogil:
    r"""`/\*(.*?)\*/` -> nothing (no closing `*/` after a `/*`: no later one has one)."""
    cdef Py_ssize_t i = 0, j, k = 0
    while i < n:
        if a[i] == 47 and i + 1 < n and a[i + 1] == 42:
            j = find(a + i + 2, n - i - 2, b"*/", 2)
            if j >= 0:
                i += 2 + j + 2
                continue
            memcpy(b + k, a + i, n - i)
            return k + n - i
        b[k] = a[i]
        k += 1
        i += 1
    return k


cdef Py_ssize_t quote_escapes(const uchar *a, Py_ssize_t n, uchar *b) noexcept nogil:
    r"""`\'` -> nothing"""
    cdef Py_ssize_t i = 0, k = 0
    while i < n:
        if a[i] == 92 and i + 1 < n and a[i + 1] == 39:
            i += 2
            continue
        b[k] = a[i]
        k += 1
        i += 1
    return k


cdef Py_ssize_t line_comments(const uchar *a, Py_ssize_t n, uchar *b) noexcept nogil:
    r"""`\s*--[^\n]+[\n]` -> a newline"""
    cdef Py_ssize_t i = 0, j, q, k = 0
    while i < n:
        if is_space(a[i]) or a[i] == 45:
            j = i
            while j < n and is_space(a[j]):
                j += 1
            if n - j >= 3 and a[j] == 45 and a[j + 1] == 45 and a[j + 2] != 10:
                q = j + 3
                while q < n and a[q] != 10:
                    q += 1
                if q < n:
                    b[k] = 10
                    k += 1
                    i = q + 1
                    continue
            if j > i:  # no match from anywhere in this run of spaces either
                memcpy(b + k, a + i, j - i)
                k += j - i
                i = j
                continue
        b[k] = a[i]
        k += 1
        i += 1
    return k


cdef Py_ssize_t spaces(const uchar *a, Py_ssize_t n, uchar *b) noexcept nogil:
    r"""`\s+` -> ` `"""
    cdef Py_ssize_t i = 0, k = 0
    while i < n:
        if is_space(a[i]):
            while i < n and is_space(a[i]):
                i += 1
            b[k] = 32
        else:
            b[k] = a[i]
            i += 1
        k += 1
    return k


cdef Py_ssize_t strings_and_spaces(const uchar *a, Py_ssize_t n, uchar *b,
                                   bint collapse) noexcept nogil:
    """`'[^']*'` -> `?`, then `\\?(\\?)+` -> `?`, then (with `collapse`) `\\s+` -> ` `, in
    one pass: the later rules only look at the earlier ones' output, and a run of `?` or of
    spaces is never joined to another by them."""
    cdef Py_ssize_t i = 0, j, k = 0
    cdef uchar c
    while i < n:
        c = a[i]
        if c == 39:  # `'`: a literal when another one closes it
            j = i + 1
            while j < n and a[j] != 39:
                j += 1
            if j < n:
                if not (k > 0 and b[k - 1] == 63):
                    b[k] = 63
                    k += 1
                i = j + 1
                continue
        elif c == 63:
            if k > 0 and b[k - 1] == 63:
                i += 1
                continue
        elif collapse and is_space(c):
            while i < n and is_space(a[i]):
                i += 1
            b[k] = 32
            k += 1
            continue
        b[k] = c
        k += 1
        i += 1
    return k


cdef Py_ssize_t leading_begin(const uchar *a, Py_ssize_t n) noexcept nogil:
    """How many bytes `^\\s*begin\\s*;\\s*` removes (0 when the text is only that)."""
    cdef Py_ssize_t j = 0
    if j < n and a[j] == 32:
        j += 1
    if n - j < 5 or memcmp(a + j, b"begin", 5) != 0:
        return 0
    j += 5
    if j < n and a[j] == 32:
        j += 1
    if j >= n or a[j] != 59:
        return 0
    j += 1
    if j < n and a[j] == 32:
        j += 1
    return 0 if j == n else j


cdef Py_ssize_t aliases(const uchar *a, Py_ssize_t n, uchar *b) noexcept nogil:
    r"""`AS\s+"([^"]+)"` (any case) -> `AS "` + the name without `'` + `"`"""
    cdef Py_ssize_t i = 0, j, e, k = 0
    while i < n:
        if (a[i] | 32) == 97 and i + 1 < n and (a[i + 1] | 32) == 115:
            j = i + 2
            while j < n and is_space(a[j]):
                j += 1
            if j > i + 2 and j < n and a[j] == 34:
                e = name_end(a, n, j)
                if e > j + 1:
                    memcpy(b + k, b'AS "', 4)
                    k += 4
                    for j in range(j + 1, e):
                        if a[j] != 39:
                            b[k] = a[j]
                            k += 1
                    b[k] = 34
                    k += 1
                    i = e + 1
                    continue
        b[k] = a[i]
        k += 1
        i += 1
    return k


cdef Py_ssize_t in_names(const uchar *a, Py_ssize_t n, uchar *b) noexcept nogil:
    r"""`\bin\s+"[^"]+"` -> `in "..."` (the `in` of pgbadger's cursor-name rule; `declare`,
    `deallocate` and `close` take the Python path)."""
    cdef Py_ssize_t i = 0, j, e, k = 0
    while i < n:
        if a[i] == 105 and i + 1 < n and a[i + 1] == 110 and (i == 0 or not is_word(a[i - 1])):
            j = i + 2
            while j < n and is_space(a[j]):
                j += 1
            if j > i + 2 and j < n and a[j] == 34:
                e = name_end(a, n, j)
                if e > j + 1:
                    memcpy(b + k, b'in "..."', 8)
                    k += 8
                    i = e + 1
                    continue
        b[k] = a[i]
        k += 1
        i += 1
    return k


cdef Py_ssize_t eq_null(const uchar *a, Py_ssize_t n, uchar *b) noexcept nogil:
    """`=\\s*null` -> `= ?`"""
    cdef Py_ssize_t i = 0, j, k = 0
    while i < n:
        if a[i] == 61:
            j = i + 1
            while j < n and is_space(a[j]):
                j += 1
            if n - j >= 4 and memcmp(a + j, b"null", 4) == 0:
                b[k] = 61
                b[k + 1] = 32
                b[k + 2] = 63
                k += 3
                i = j + 4
                continue
        b[k] = a[i]
        k += 1
        i += 1
    return k


cdef Py_ssize_t numbers(const uchar *a, Py_ssize_t n, uchar *b) noexcept nogil:
    r"""`([^a-z0-9_$-])-?\d+` -> `$1?`, as the equivalent `(?<=[^a-z0-9_$-])-?\d+` (a match
    ends with a digit, which may not precede the next one), quoted names skipped."""
    cdef Py_ssize_t i = 0, j, k = 0
    cdef uchar c
    while i < n:
        c = a[i]
        if c == 34:
            j = name_end(a, n, i)
            if j >= 0:
                memcpy(b + k, a + i, j + 1 - i)
                k += j + 1 - i
                i = j + 1
                continue
        elif i > 0 and not in_number_set(a[i - 1]):
            j = i + 1 if c == 45 else i
            if j < n and is_digit(a[j]):
                while j < n and is_digit(a[j]):
                    j += 1
                b[k] = 63
                k += 1
                i = j
                continue
        b[k] = c
        k += 1
        i += 1
    return k


cdef Py_ssize_t hexadecimals(const uchar *a, Py_ssize_t n, uchar *b) noexcept nogil:
    """`([^a-z_$-])0x[0-9a-f]{1,10}` -> `$1?`, quoted names skipped (a closing quote may
    precede a match, as pgbadger's placeholder's last `%` does)."""
    cdef Py_ssize_t i = 0, j, k = 0
    cdef uchar c
    while i < n:
        c = a[i]
        if c == 34 and (j := name_end(a, n, i)) >= 0:
            memcpy(b + k, a + i, j + 1 - i)
            k += j + 1 - i
            i = j + 1
        else:
            b[k] = c
            k += 1
            i += 1
            if in_hex_set(c):
                continue
        if i + 2 >= n or a[i] != 48 or a[i + 1] != 120 or not is_hex(a[i + 2]):
            continue
        j = i + 3
        while j < n and j < i + 12 and is_hex(a[j]):
            j += 1
        b[k] = 63
        k += 1
        i = j
    return k


cdef Py_ssize_t parameters(const uchar *a, Py_ssize_t n, uchar *b) noexcept nogil:
    """`\\$\\d+` -> `?`"""
    cdef Py_ssize_t i = 0, j, k = 0
    while i < n:
        if a[i] == 34 and (j := name_end(a, n, i)) >= 0:
            memcpy(b + k, a + i, j + 1 - i)
            k += j + 1 - i
            i = j + 1
            continue
        if a[i] == 36 and i + 1 < n and is_digit(a[i + 1]):
            j = i + 1
            while j < n and is_digit(a[j]):
                j += 1
            b[k] = 63
            k += 1
            i = j
            continue
        b[k] = a[i]
        k += 1
        i += 1
    return k


cdef Py_ssize_t in_lists(const uchar *a, Py_ssize_t n, uchar *b) noexcept nogil:
    """`\\bin\\s*\\(['0x,\\s?]*\\)` -> `in (...)` (b has room for twice n)."""
    cdef Py_ssize_t i = 0, j, k = 0
    cdef uchar c
    while i < n:
        if (
            a[i] == 105 and i + 1 < n and a[i + 1] == 110
            and (i == 0 or not is_word(a[i - 1]))
        ):
            j = i + 2
            while j < n and is_space(a[j]):
                j += 1
            if j < n and a[j] == 40:
                j += 1
                while j < n:
                    c = a[j]
                    if c == 39 or c == 48 or c == 120 or c == 44 or c == 63 or is_space(c):
                        j += 1
                    else:
                        break
                if j < n and a[j] == 41:
                    memcpy(b + k, b"in (...)", 8)
                    k += 8
                    i = j + 1
                    continue
        b[k] = a[i]
        k += 1
        i += 1
    return k


cdef enum:
    STACK = 2048  # bytes of each stack buffer: statements up to ~1 KB need no allocation


cdef object normalize_bytes(const uchar *src, Py_ssize_t n):
    cdef uchar stack_a[STACK]
    cdef uchar stack_b[STACK]
    cdef uchar *a
    cdef uchar *b
    cdef bint heap = 2 * n + 16 > STACK

    cdef Py_ssize_t i, m, cut, p, q
    cdef uchar c
    cdef bint quoted
    if heap:
        a = <uchar *>PyMem_Malloc(2 * n + 16)
        b = <uchar *>PyMem_Malloc(2 * n + 16)
        if a == NULL or b == NULL:
            PyMem_Free(a)
            PyMem_Free(b)
            raise MemoryError()
    else:
        a = stack_a
        b = stack_b
    try:
        if find(src, n, b"/*", 2) >= 0:
            n = block_comments(src, n, b)
            src = b
        if has_empty_name(src, n):
            return None
        i = 0
        while i < n:
            c = src[i]
            if c == 34 and (m := name_end(src, n, i)) >= 0:
                memcpy(a + i, src + i, m + 1 - i)  # a quoted name keeps its case
                i = m + 1
                continue
            a[i] = c + 32 if 65 <= c <= 90 else c
            i += 1
        if needs_python(a, n):
            return None
        if find(a, n, b"\\'", 2) >= 0:
            n = quote_escapes(a, n, b)
            a, b = b, a
        if find(a, n, b"--", 2) >= 0:
            m = strings_and_spaces(a, n, b, False)
            a, b = b, a
            m = line_comments(a, m, b)
            a, b = b, a
            m = spaces(a, m, b)
        else:
            m = strings_and_spaces(a, n, b, True)
        a, b = b, a
        cut = leading_begin(a, m)
        if cut:
            m -= cut
            memcpy(b, a + cut, m)
            a, b = b, a
        quoted = find(a, m, b'"', 1) >= 0
        if quoted:
            m = aliases(a, m, b)
            a, b = b, a
        if find(a, m, b"null", 4) >= 0:
            m = eq_null(a, m, b)
            a, b = b, a
        if quoted and has_empty_name(a, m):  # an alias that was only `'`
            return None
        m = numbers(a, m, b)
        a, b = b, a
        if find(a, m, b"0x", 2) >= 0:
            m = hexadecimals(a, m, b)
            a, b = b, a
        if find(a, m, b"$", 1) >= 0:
            m = parameters(a, m, b)
            a, b = b, a
        if find(a, m, b"in", 2) >= 0:
            m = in_lists(a, m, b)
            a, b = b, a
            if quoted:
                m = in_names(a, m, b)
                a, b = b, a
        # Trim, then no space before the first `;` that has one.
        i = 0
        while i < m and is_space(a[i]):
            i += 1
        while m > i and is_space(a[m - 1]):
            m -= 1
        p = i + 1
        while p < m:
            if a[p] == 59 and is_space(a[p - 1]):
                q = p - 1
                while is_space(a[q - 1]):  # a[i] is not a space: the run ends there
                    q -= 1
                memcpy(b, a + i, q - i)
                memcpy(b + (q - i), a + p, m - p)
                return PyUnicode_DecodeLatin1(<char *>b, (q - i) + (m - p), NULL)
            p += 1
        return PyUnicode_DecodeLatin1(<char *>(a + i), m - i, NULL)
    finally:
        if heap:
            PyMem_Free(a)
            PyMem_Free(b)


def normalize_plain(str query):
    """pgbadger's normalised form of `query` (latin-1 text), or None when a rule this module
    does not run could apply (the caller then runs the Python port)."""
    cdef Py_ssize_t n = PyUnicode_GET_LENGTH(query)
    if n == 0 or PyUnicode_KIND(query) != PyUnicode_1BYTE_KIND:
        return None
    if n == 1 and (<uchar *>PyUnicode_DATA(query))[0] == 48:
        return None
    return normalize_bytes(<const uchar *>PyUnicode_DATA(query), n)
