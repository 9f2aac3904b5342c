# pt-query-digest's fingerprint (fingerprint_mysql.fingerprint_latin1, the specification) with
# its busiest substitutions as C loops over the latin-1 bytes. Each loop is the regex it replaces,
# scanned the way `re.sub` scans (left to right, non-overlapping, resuming after each match,
# word boundaries looked up in the pass's input); the rare rules (CALL, multi-row INSERT, USE,
# UNION, LIMIT, ORDER BY … ASC) still run the specification's own regexes.

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


cdef inline bint ci_contains(chars s, Py_ssize_t n, const char* word, int m) noexcept nogil:
    cdef Py_ssize_t i
    for i in range(n - m + 1):
        if ascii_lower(s[i]) == <unsigned char>word[0] and ci_at(s, n, i, word, m):
            return True
    return False


cdef inline bint has(chars s, Py_ssize_t n, const char* word, int m) noexcept nogil:
    cdef Py_ssize_t i
    for i in range(n - m + 1):
        if s[i] == <unsigned char>word[0] and memcmp(s + i, word, m) == 0:
            return True
    return False


cdef Py_ssize_t strip_mlc(chars s, Py_ssize_t n, unsigned char* d) noexcept nogil:
    # /\*[^!].*?\*/  (DOTALL) -> ""
    cdef Py_ssize_t i = 0, o = 0, k
    while i < n:
        if s[i] == b"/" and i + 2 < n and s[i + 1] == b"*" and s[i + 2] != b"!":
            k = i + 3
            while k + 1 < n and not (s[k] == b"*" and s[k + 1] == b"/"):
                k += 1
            if k + 1 < n:
                i = k + 2
                continue
            # no `*/` after it: no later comment can close either
            memcpy(d + o, s + i, n - i)
            return o + n - i
        d[o] = s[i]
        o += 1
        i += 1
    return o


cdef Py_ssize_t strip_olc(chars s, Py_ssize_t n, unsigned char* d) noexcept nogil:
    # (?:--|#)[^'"\r\n]*(?=[\r\n]|\Z) -> ""
    cdef Py_ssize_t i = 0, o = 0, j
    cdef unsigned char c
    while i < n:
        c = s[i]
        j = -1
        if c == b"#":
            j = i + 1
        elif c == b"-" and i + 1 < n and s[i + 1] == b"-":
            j = i + 2
        if j >= 0:
            while j < n and s[j] != b"'" and s[j] != b'"' and s[j] != b"\r" and s[j] != b"\n":
                j += 1
            if j == n or s[j] == b"\r" or s[j] == b"\n":
                i = j
                continue
        d[o] = c
        o += 1
        i += 1
    return o


cdef Py_ssize_t strip_escaped_quotes(chars s, Py_ssize_t n, unsigned char* d) noexcept nogil:
    # \\["'] -> ""
    cdef Py_ssize_t i = 0, o = 0
    while i < n:
        if s[i] == b"\\" and i + 1 < n and (s[i + 1] == b'"' or s[i + 1] == b"'"):
            i += 2
            continue
        d[o] = s[i]
        o += 1
        i += 1
    return o


cdef Py_ssize_t replace_quoted(chars s, Py_ssize_t n, unsigned char* d, unsigned char q) noexcept nogil:
    # q.*?q (DOTALL) -> "?"
    cdef Py_ssize_t i = 0, o = 0, k
    while i < n:
        if s[i] == q:
            k = i + 1
            while k < n and s[k] != q:
                k += 1
            if k < n:
                d[o] = b"?"
                o += 1
                i = k + 1
                continue
            memcpy(d + o, s + i, n - i)
            return o + n - i
        d[o] = s[i]
        o += 1
        i += 1
    return o


cdef Py_ssize_t replace_bools(chars s, Py_ssize_t n, unsigned char* d) noexcept nogil:
    # \bfalse\b|\btrue\b (IGNORECASE) -> "?"
    cdef Py_ssize_t i = 0, o = 0
    cdef int m
    while i < n:
        if i == 0 or not is_word(s[i - 1]):
            m = 0
            if ci_at(s, n, i, b"false", 5):
                m = 5
            elif ci_at(s, n, i, b"true", 4):
                m = 4
            if m and (i + m == n or not is_word(s[i + m])):
                d[o] = b"?"
                o += 1
                i += m
                continue
        d[o] = s[i]
        o += 1
        i += 1
    return o


cdef inline bint number_start(unsigned char c) noexcept nogil:
    return (c >= b"0" and c <= b"9") or c == b"+" or c == b"-"


cdef inline bint number_rest(unsigned char c) noexcept nogil:
    return (
        (c >= b"0" and c <= b"9") or (c >= b"a" and c <= b"f") or c == b"." or c == b"x"
        or c == b"+" or c == b"-"
    )


cdef Py_ssize_t replace_numbers(chars s, Py_ssize_t n, unsigned char* d) noexcept nogil:
    # [0-9+-][0-9a-f.xb+-]* -> "?", then [xb.+-]\? -> "?" over that result
    cdef Py_ssize_t i = 0, o = 0
    while i < n:
        if number_start(s[i]):
            i += 1
            while i < n and number_rest(s[i]):
                i += 1
            d[o] = b"?"
        else:
            d[o] = s[i]
            i += 1
        o += 1
    cdef Py_ssize_t m = o
    i = 0
    o = 0
    # In place: the output never runs ahead of the input.
    while i < m:
        if i + 1 < m and d[i + 1] == b"?" and (
            d[i] == b"x" or d[i] == b"b" or d[i] == b"." or d[i] == b"+" or d[i] == b"-"
        ):
            d[o] = b"?"
            i += 2
        else:
            d[o] = d[i]
            i += 1
        o += 1
    return o


cdef Py_ssize_t squeeze_lower(chars s, Py_ssize_t n, unsigned char* d) noexcept nogil:
    # lstrip of Perl's \s, one final "\n" dropped, [ \n\t\r\f]+ -> " ", ASCII lower-case
    cdef Py_ssize_t i = 0, o = 0
    cdef unsigned char c
    while i < n and is_space(s[i]):
        i += 1
    if n > i and s[n - 1] == b"\n":
        n -= 1
    while i < n:
        c = s[i]
        if c == b" " or c == b"\n" or c == b"\t" or c == b"\r" or c == b"\f":
            while i + 1 < n and (
                s[i + 1] == b" " or s[i + 1] == b"\n" or s[i + 1] == b"\t" or s[i + 1] == b"\r"
                or s[i + 1] == b"\f"
            ):
                i += 1
            d[o] = b" "
        else:
            d[o] = ascii_lower(c)
        o += 1
        i += 1
    return o


cdef Py_ssize_t replace_nulls(chars s, Py_ssize_t n, unsigned char* d) noexcept nogil:
    # \bnull\b -> "?" (after lower-casing)
    cdef Py_ssize_t i = 0, o = 0
    while i < n:
        if (
            s[i] == b"n" and (i == 0 or not is_word(s[i - 1])) and i + 4 <= n
            and memcmp(s + i, b"null", 4) == 0 and (i + 4 == n or not is_word(s[i + 4]))
        ):
            d[o] = b"?"
            o += 1
            i += 4
            continue
        d[o] = s[i]
        o += 1
        i += 1
    return o


cdef Py_ssize_t value_groups(chars s, Py_ssize_t n, Py_ssize_t p) noexcept nogil:
    # (?:[\s,]*\([\s?,]*\))+ from p: the end of the last whole group, or -1 for none
    cdef Py_ssize_t q, end = -1
    while True:
        q = p
        while q < n and (is_space(s[q]) or s[q] == b","):
            q += 1
        if q >= n or s[q] != b"(":
            return end
        q += 1
        while q < n and (is_space(s[q]) or s[q] == b"?" or s[q] == b","):
            q += 1
        if q >= n or s[q] != b")":
            return end
        p = end = q + 1


cdef Py_ssize_t collapse_lists(chars s, Py_ssize_t n, unsigned char* d) noexcept nogil:
    # \b(in|values?)(?:[\s,]*\([\s?,]*\))+ -> \1(?+)   (d has room for 2 more bytes per match)
    cdef Py_ssize_t i = 0, o = 0, end
    cdef int m
    while i < n:
        m = 0
        if (s[i] == b"i" or s[i] == b"v") and (i == 0 or not is_word(s[i - 1])):
            if i + 2 <= n and s[i] == b"i" and s[i + 1] == b"n":
                m = 2
            elif i + 6 <= n and memcmp(s + i, b"values", 6) == 0:
                m = 6
            elif i + 5 <= n and memcmp(s + i, b"value", 5) == 0:
                m = 5
        if m:
            end = value_groups(s, n, i + m)
            if end >= 0:
                memcpy(d + o, s + i, m)
                memcpy(d + o + m, b"(?+)", 4)
                o += m + 4
                i = end
                continue
        d[o] = s[i]
        o += 1
        i += 1
    return o


cdef class _Buffers:
    """Two work buffers the passes read from and write to in turn."""
    cdef unsigned char* a
    cdef unsigned char* b
    cdef Py_ssize_t n

    def __cinit__(self, Py_ssize_t size):
        # The list pass is the only one that grows text: 4 bytes out for every 2 in, at most.
        self.n = 2 * size + 16
        self.a = <unsigned char*>malloc(self.n)
        self.b = <unsigned char*>malloc(self.n)
        if self.a == NULL or self.b == NULL:
            raise MemoryError()

    def __dealloc__(self):
        free(self.a)
        free(self.b)

    cdef inline void swap(self):
        cdef unsigned char* t = self.a
        self.a = self.b
        self.b = t


cdef inline str latin1(const unsigned char* s, Py_ssize_t n):
    return PyUnicode_DecodeLatin1(<const char*>s, n, NULL)


def fingerprint_latin1(str query, object spec):
    """`spec.fingerprint_latin1(query)` (fingerprint_mysql, `embedded_numbers=False`)."""
    if not one_byte(query):
        return spec.fingerprint_latin1(query)
    cdef chars s = <chars>PyUnicode_DATA(query)
    cdef Py_ssize_t n = PyUnicode_GET_LENGTH(query)
    if query.startswith("SELECT /*!40001 SQL_NO_CACHE */ * FROM `"):
        return "mysqldump"
    if has(s, n, b"/*", 2) and spec._PT_TOOL.search(query):
        return "percona-toolkit"
    if query.startswith("administrator command: "):
        return query
    if ci_contains(s, n, b"call", 4):
        m = spec._CALL.match(query)
        if m is not None:
            return spec._lc(m.group(1))
    if ci_at(s, n, 0, b"insert", 6) or ci_at(s, n, 0, b"replace", 7):
        m = spec._MULTI_INSERT.match(query)
        if m is not None:
            query = m.group(1)
            s = <chars>PyUnicode_DATA(query)
            n = PyUnicode_GET_LENGTH(query)
    cdef _Buffers buf = _Buffers(n)
    memcpy(buf.a, s, n)
    if has(buf.a, n, b"/*", 2):
        n = strip_mlc(buf.a, n, buf.b)
        buf.swap()
    if has(buf.a, n, b"--", 2) or memchr(buf.a, b"#", n) != NULL:
        n = strip_olc(buf.a, n, buf.b)
        buf.swap()
    if ci_at(buf.a, n, 0, b"use ", 4):
        query = latin1(buf.a, n)
        m = spec._USE.match(query)
        if m is not None:
            return "use ?" + query[m.end():]
    if memchr(buf.a, b"\\", n) != NULL:
        n = strip_escaped_quotes(buf.a, n, buf.b)
        buf.swap()
    if memchr(buf.a, b'"', n) != NULL:
        n = replace_quoted(buf.a, n, buf.b, b'"')
        buf.swap()
    if memchr(buf.a, b"'", n) != NULL:
        n = replace_quoted(buf.a, n, buf.b, b"'")
        buf.swap()
    if ci_contains(buf.a, n, b"true", 4) or ci_contains(buf.a, n, b"false", 5):
        n = replace_bools(buf.a, n, buf.b)
        buf.swap()
    n = replace_numbers(buf.a, n, buf.b)
    buf.swap()
    n = squeeze_lower(buf.a, n, buf.b)
    buf.swap()
    if has(buf.a, n, b"null", 4):
        n = replace_nulls(buf.a, n, buf.b)
        buf.swap()
    if memchr(buf.a, b"(", n) != NULL:
        n = collapse_lists(buf.a, n, buf.b)
        buf.swap()
    query = latin1(buf.a, n)
    if "union" in query:
        query = spec._UNION.sub(r"\1 /*repeat\2*/", query)
    if "limit ?" in query:
        query = spec._LIMIT.sub("limit ?", query, count=1)
    if "order by " in query and "asc" in query:
        query = spec._strip_order_by_asc(query)
    return query
