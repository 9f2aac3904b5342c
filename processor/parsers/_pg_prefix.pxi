# The canonical RDS prefix and the statement head of a line, read in C (the regexes of
# postgresql.py are the specification; anything else is left to them).

cdef inline bint py_space(uchar c) noexcept nogil:
    # str.isspace() for latin-1 characters (what str.strip() removes)
    return (9 <= c <= 13) or (28 <= c <= 32) or c == 0x85 or c == 0xA0


cdef inline bint upper_or_digit(uchar c) noexcept nogil:
    return (65 <= c <= 90) or (48 <= c <= 57)


cdef inline Py_ssize_t skip_digits(const uchar *s, Py_ssize_t i, Py_ssize_t n) noexcept nogil:
    while i < n and is_digit(s[i]):
        i += 1
    return i


cdef bint two(const uchar *s, Py_ssize_t i) noexcept nogil:
    return is_digit(s[i]) and is_digit(s[i + 1])


cdef inline bint is_alpha(uchar c) noexcept nogil:
    return (65 <= c <= 90) or (97 <= c <= 122)


cdef Py_ssize_t time_end(const uchar *s, Py_ssize_t n) noexcept nogil:
    """`YYYY-MM-DD HH:MM:SS ZONE:` at s, the zone 1 to 6 letters: the offset of the colon
    after it, or -1 (fractions, numeric zones and other shapes are left to the regex)."""
    cdef Py_ssize_t i = 20
    if n < 23:
        return -1
    if not (two(s, 0) and two(s, 2) and s[4] == 45 and two(s, 5) and s[7] == 45 and two(s, 8)
            and s[10] == 32 and two(s, 11) and s[13] == 58 and two(s, 14) and s[16] == 58
            and two(s, 17) and s[19] == 32):
        return -1
    while i < n and i < 26 and is_alpha(s[i]):  # at most 6 letters
        i += 1
    if i == 20 or i >= n or s[i] != 58:
        return -1
    return i


ctypedef struct Prefix:
    # offsets of one line's prefix fields, relative to the line (-1: absent)
    Py_ssize_t zone1, c0, c1, port0, port1, u0, u1, d0, d1, sev0, sev1, st0, text
    long long pid


cdef bint scan_prefix(const uchar *s, Py_ssize_t n, Prefix *p) noexcept nogil:
    """The canonical `%t:%r:%u@%d:[%p]:SEVERITY:  ` prefix (the zone from offset 20 to
    zone1); False for anything the regex might read differently (the caller then asks it)."""
    cdef Py_ssize_t i, j, k
    p.st0 = -1
    i = time_end(s, n)
    if i < 0:
        return False
    p.zone1 = i
    i += 1
    # %r, as the regex's alternatives in their order: `\[local\]`, `[^()\s]*\((\d+)\)`,
    # `[^:]*`, each then followed by `:` (if the rest of the line fails, the regex would
    # backtrack to the next one: the line is left to it).
    p.c0 = i
    p.port0 = -1
    p.port1 = -1
    if n - i >= 8 and memcmp(s + i, b"[local]:", 8) == 0:
        i += 7
        p.c1 = i
    else:
        j = i
        while j < n and s[j] != 40 and s[j] != 41 and not is_space(s[j]):
            j += 1
        if j < n and s[j] == 40:
            k = skip_digits(s, j + 1, n)
            if k == j + 1 or k - j > 19 or n - k < 2 or s[k] != 41 or s[k + 1] != 58:
                return False
            p.c1 = j
            p.port0 = j + 1
            p.port1 = k
            i = k + 1
        else:
            while i < n and s[i] != 58:
                i += 1
            p.c1 = i
    if i >= n or s[i] != 58:
        return False
    i += 1
    # %u@%d: neither holds `@` or `:` here (the regex would take the first `@` and `:[` too).
    p.u0 = i
    while i < n and s[i] != 64 and s[i] != 58:
        i += 1
    if i >= n or s[i] != 64:
        return False
    p.u1 = i
    i += 1
    p.d0 = i
    while i < n and s[i] != 58 and s[i] != 64:
        i += 1
    p.d1 = i
    if n - i < 2 or s[i] != 58 or s[i + 1] != 91:
        return False
    i += 2
    j = skip_digits(s, i, n)
    if j == i or j - i > 18 or n - j < 2 or s[j] != 93 or s[j + 1] != 58:
        return False
    p.pid = strtoll(<const char *>(s + i), NULL, 10)
    i = j + 2
    if i >= n or not (65 <= s[i] <= 90):
        return False
    p.sev0 = i
    while i < n and upper_or_digit(s[i]):
        i += 1
    p.sev1 = i
    if n - i < 2 or s[i] != 58 or not (s[i + 1] == 32 or s[i + 1] == 9):
        return False
    i += 1
    while i < n and (s[i] == 32 or s[i] == 9):
        i += 1
    p.st0 = -1
    if n - i >= 7 and s[i + 5] == 58 and s[i + 6] == 32:
        for j in range(i, i + 5):
            if not upper_or_digit(s[j]):
                break
        else:
            p.st0 = i
            i += 7
    p.text = i
    return True


cdef inline bint word_at(const uchar *s, Py_ssize_t i, Py_ssize_t n, const char *w,
                         Py_ssize_t k) noexcept nogil:
    return n - i >= k and memcmp(s + i, w, k) == 0


cdef Py_ssize_t kind_end(const uchar *s, Py_ssize_t i, Py_ssize_t n, bint timed) noexcept nogil:
    """The end of the statement kind at i (`statement|execute|bind|parse`, and with a
    duration also `plan|query|fastpath function call`), or -1."""
    if word_at(s, i, n, b"statement", 9):
        return i + 9
    if word_at(s, i, n, b"execute", 7):
        return i + 7
    if word_at(s, i, n, b"bind", 4):
        return i + 4
    if word_at(s, i, n, b"parse", 5):
        return i + 5
    if not timed:
        return -1
    if word_at(s, i, n, b"plan", 4):
        return i + 4
    if word_at(s, i, n, b"query", 5):
        return i + 5
    if word_at(s, i, n, b"fastpath function call", 22):
        return i + 22
    return -1


cdef Py_ssize_t kind_tail(const uchar *s, Py_ssize_t i, Py_ssize_t n, Py_ssize_t *name0,
                          Py_ssize_t *name1) noexcept nogil:
    """After the kind word: `(?: ([^:]*))?: ` -> the end of the match (or -1), the name's
    offsets in name0/name1 (-1 without a name)."""
    cdef Py_ssize_t j
    name0[0] = -1
    name1[0] = -1
    if i < n and s[i] == 32:
        j = i + 1
        while j < n and s[j] != 58:
            j += 1
        if n - j >= 2 and s[j + 1] == 32:
            name0[0] = i + 1
            name1[0] = j
            return j + 2
    if n - i >= 2 and s[i] == 58 and s[i + 1] == 32:
        return i + 2
    return -1


cdef extern from "Python.h":
    dict _PyDict_NewPresized(Py_ssize_t minused)


cdef double[19] POWERS = [1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12,
                          1e13, 1e14, 1e15, 1e16, 1e17, 1e18]


cdef object decimal(str text, const uchar *s, Py_ssize_t i, Py_ssize_t e):
    """float(text[i:e]) of `\\d+(\\.\\d+)?`: with at most 15 digits, the digits as an exact
    integer divided by an exact power of ten, one correctly rounded operation, which is what
    float() gives; longer numbers go to float()."""
    cdef long long digits = 0
    cdef int count = 0, scale = 0
    cdef bint after = False
    cdef Py_ssize_t k
    for k in range(i, e):
        if s[k] == 46:
            after = True
            continue
        digits = digits * 10 + (s[k] - 48)
        count += 1
        if after:
            scale += 1
    if count > 15:
        return float(sub(text, i, e))
    return PyFloat_FromDouble(<double>digits / POWERS[scale])
