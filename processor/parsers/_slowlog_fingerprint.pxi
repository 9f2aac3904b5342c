# pt-query-digest's fingerprint (fingerprint_mysql.fingerprint_latin1, the specification) with
# its busiest substitutions as C loops over the latin-1 bytes. Each loop is the regex it replaces,
# scanned the way `re.sub` scans (left to right, non-overlapping, resuming after each match,
# word boundaries looked up in the pass's input); the rare rules (CALL, multi-row INSERT, USE,
# UNION, LIMIT, ORDER BY … ASC) still run the specification's own regexes.

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


cdef Py_ssize_t replace_quoted(
    chars s, Py_ssize_t n, unsigned char* d, unsigned char q
) noexcept nogil:
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


cdef inline bint number_prefix(unsigned char c) noexcept nogil:
    return c == b"x" or c == b"b" or c == b"." or c == b"+" or c == b"-"


cdef Py_ssize_t replace_numbers(chars s, Py_ssize_t n, unsigned char* d) noexcept nogil:
    # [0-9+-][0-9a-f.xb+-]* -> "?", then [xb.+-]\? -> "?" over that result, in one pass: a
    # prefix character is never the product of a replacement, so the second regex reaches every
    # one of them, and a "?" written after one replaces it.
    cdef Py_ssize_t i = 0, o = 0
    cdef unsigned char c
    while i < n:
        c = s[i]
        if number_start(c):
            i += 1
            while i < n and number_rest(s[i]):
                i += 1
            c = b"?"
        else:
            i += 1
        if c == b"?" and o > 0 and number_prefix(d[o - 1]):
            d[o - 1] = b"?"
            continue
        d[o] = c
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


cdef Py_ssize_t shorten_limit(chars s, Py_ssize_t n, unsigned char* d) noexcept nogil:
    # \blimit \?(?:, ?\?| offset \?)? -> "limit ?", the first one only
    cdef Py_ssize_t i, j
    for i in range(n - 6):
        if s[i] == b"l" and (i == 0 or not is_word(s[i - 1])) and memcmp(s + i, b"limit ?", 7) == 0:
            j = i + 7
            if j < n and s[j] == b",":
                if j + 2 < n and s[j + 1] == b" " and s[j + 2] == b"?":
                    j += 3
                elif j + 1 < n and s[j + 1] == b"?":
                    j += 2
            elif starts(s, n, j, b" offset ?", 9):
                j += 9
            memcpy(d, s, i + 7)
            memcpy(d + i + 7, s + j, n - j)
            return i + 7 + n - j
    memcpy(d, s, n)
    return n


cdef Py_ssize_t strip_order_by_asc(chars s, Py_ssize_t n, unsigned char* d) noexcept nogil:
    # fingerprint_mysql._strip_order_by_asc on lower-case text without newlines: after the first
    # \border by , each `(.+?)\s+asc` that starts where the previous one ended loses its `\s+asc`
    cdef Py_ssize_t i, pos = -1, o, e, f
    for i in range(n - 8):
        if (
            s[i] == b"o" and (i == 0 or not is_word(s[i - 1]))
            and memcmp(s + i, b"order by ", 9) == 0
        ):
            pos = i + 9
            break
    if pos < 0:
        memcpy(d, s, n)
        return n
    memcpy(d, s, pos)
    o = pos
    while True:
        f = -1
        e = pos + 1
        while e < n:
            if is_space(s[e]):
                f = e
                while f < n and is_space(s[f]):
                    f += 1
                if starts(s, n, f, b"asc", 3):
                    break
                f = -1
            e += 1
        if f < 0:
            break
        memcpy(d + o, s + pos, e - pos)
        o += e - pos
        pos = f + 3
    memcpy(d + o, s + pos, n - pos)
    return o + n - pos


cdef object _spec = None  # fingerprint_mysql, whose regexes the rare rules use


def configure(spec):
    """Give the compiled fingerprint the specification module (fingerprint_mysql)."""
    global _spec
    _spec = spec


cdef inline str latin1(const unsigned char* s, Py_ssize_t n):
    return PyUnicode_DecodeLatin1(<const char*>s, n, NULL)


cdef enum:
    STACK = 2048


def fingerprint_latin1(str query):
    """`fingerprint_mysql.fingerprint_latin1(query)` (`embedded_numbers=False`)."""
    if not one_byte(query):
        return _spec.fingerprint_latin1(query)
    cdef chars s = <chars>PyUnicode_DATA(query)
    cdef Py_ssize_t n = PyUnicode_GET_LENGTH(query)
    if starts(s, n, 0, b"SELECT /*!40001 SQL_NO_CACHE */ * FROM `", 40):
        return "mysqldump"
    if has(s, n, b"/*", 2) and _spec._PT_TOOL.search(query):
        return "percona-toolkit"
    if starts(s, n, 0, b"administrator command: ", 23):
        return query
    if ci_contains(s, n, b"call", 4):
        m = _spec._CALL.match(query)
        if m is not None:
            return _spec._lc(m.group(1))
    if ci_at(s, n, 0, b"insert", 6) or ci_at(s, n, 0, b"replace", 7):
        m = _spec._MULTI_INSERT.match(query)
        if m is not None:
            query = m.group(1)
            s = <chars>PyUnicode_DATA(query)
            n = PyUnicode_GET_LENGTH(query)
    # The list pass is the only one that grows text: 6 bytes out for every 4 in, at most.
    cdef unsigned char stack_a[STACK]
    cdef unsigned char stack_b[STACK]
    cdef unsigned char* a = stack_a
    cdef unsigned char* b = stack_b
    cdef unsigned char* heap = NULL
    if 2 * n + 16 > STACK:
        heap = <unsigned char*>malloc(2 * (2 * n + 16))
        if heap == NULL:
            raise MemoryError()
        a = heap
        b = heap + 2 * n + 16
    try:
        return _passes(s, n, a, b)
    finally:
        free(heap)


cdef str _passes(chars s, Py_ssize_t n, unsigned char* a, unsigned char* b):
    # Each pass reads `cur` and writes the buffer `cur` is not; the first reads the query.
    cdef chars cur = s
    cdef unsigned char* dst = a
    if has(cur, n, b"/*", 2):
        n = strip_mlc(cur, n, dst)
        cur, dst = dst, (b if dst == a else a)
    if has(cur, n, b"--", 2) or memchr(cur, b"#", n) != NULL:
        n = strip_olc(cur, n, dst)
        cur, dst = dst, (b if dst == a else a)
    if ci_at(cur, n, 0, b"use ", 4):
        query = latin1(cur, n)
        m = _spec._USE.match(query)
        if m is not None:
            return "use ?" + query[m.end():]
    if memchr(cur, b"\\", n) != NULL:
        n = strip_escaped_quotes(cur, n, dst)
        cur, dst = dst, (b if dst == a else a)
    if memchr(cur, b'"', n) != NULL:
        n = replace_quoted(cur, n, dst, b'"')
        cur, dst = dst, (b if dst == a else a)
    if memchr(cur, b"'", n) != NULL:
        n = replace_quoted(cur, n, dst, b"'")
        cur, dst = dst, (b if dst == a else a)
    if ci_contains(cur, n, b"true", 4) or ci_contains(cur, n, b"false", 5):
        n = replace_bools(cur, n, dst)
        cur, dst = dst, (b if dst == a else a)
    n = replace_numbers(cur, n, dst)
    cur, dst = dst, (b if dst == a else a)
    n = squeeze_lower(cur, n, dst)
    cur, dst = dst, (b if dst == a else a)
    if has(cur, n, b"null", 4):
        n = replace_nulls(cur, n, dst)
        cur, dst = dst, (b if dst == a else a)
    if memchr(cur, b"(", n) != NULL:
        n = collapse_lists(cur, n, dst)
        cur, dst = dst, (b if dst == a else a)
    if has(cur, n, b"union", 5):
        # The UNION rule (a back-reference) stays a regex; LIMIT and ORDER BY come after it.
        query = _spec._UNION.sub(r"\1 /*repeat\2*/", latin1(cur, n))
        if "limit ?" in query:
            query = _spec._LIMIT.sub("limit ?", query, count=1)
        if "order by " in query and "asc" in query:
            query = _spec._strip_order_by_asc(query)
        return query
    if has(cur, n, b"limit ?", 7):
        n = shorten_limit(cur, n, dst)
        cur, dst = dst, (b if dst == a else a)
    if has(cur, n, b"order by ", 9) and has(cur, n, b"asc", 3):
        n = strip_order_by_asc(cur, n, dst)
        cur = dst
    return latin1(cur, n)


cdef const char* HEX = b"0123456789ABCDEF"

include "_slowlog_md5.pxi"

# Logs repeat short statements verbatim (`COMMIT`, `SELECT 1`, ORM preambles); only short ones are
# kept, and the cache is emptied when full (cheaper than an LRU's bookkeeping on every miss).
cdef dict _pairs = {}
cdef Py_ssize_t CACHE_MAX_LEN = 512
cdef Py_ssize_t CACHE_SIZE = 8192


cdef tuple pair_of(str query):
    fp = fingerprint_latin1(query)
    return fp, md5_hex_upper(<chars>PyUnicode_DATA(fp), PyUnicode_GET_LENGTH(fp))


cdef tuple pair_cached(str query):
    if PyUnicode_GET_LENGTH(query) > CACHE_MAX_LEN:
        return pair_of(query)
    hit = _pairs.get(query)
    if hit is not None:
        return <tuple>hit
    pair = pair_of(query)
    if len(_pairs) >= CACHE_SIZE:
        _pairs.clear()
    _pairs[query] = pair
    return pair


def fingerprint_pair(str query):
    """(fingerprint, query id): `fingerprint_mysql._fingerprint_pair_python(query)`, from C,
    cached for short statements."""
    if not one_byte(query):
        return _spec._fingerprint_pair_python(query)
    return pair_cached(query)
