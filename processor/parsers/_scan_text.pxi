# Byte-level helpers of the scanners (included by _scan.pyx): character classes, lines,
# ASCII and trigger-word checks, digit runs, strings built from the text.

cdef inline bint is_digit(unsigned char c) noexcept:
    return c >= 48 and c <= 57


cdef inline bint is_upper(unsigned char c) noexcept:
    return c >= 65 and c <= 90


cdef inline bint is_alpha(unsigned char c) noexcept:
    return (c | 0x20) >= 97 and (c | 0x20) <= 122


cdef inline Py_ssize_t line_end(chars s, Py_ssize_t pos, Py_ssize_t n) noexcept:
    """Offset of the newline ending the line at `pos`, or -1."""
    cdef const void* at = memchr(s + pos, 10, n - pos)
    if at == NULL:
        return -1
    return <chars>at - s


# Word-at-a-time constants, as C integers (a literal this large in an expression would make
# Cython compute with Python ints).
cdef uint64_t HIGH_BITS = 0x8080808080808080ULL
cdef uint64_t ONES = 0x0101010101010101ULL
cdef uint64_t CASE_BITS = 0x2020202020202020ULL
# The anchor of each trigger word (masking.TRIGGER_WORDS): one of its characters that is rare in
# log lines (not `:` or `y`, which every time and every `Query` has).
cdef uint64_t ALL_W = 0x7777777777777777ULL  # passWord
cdef uint64_t ALL_F = 0x6666666666666666ULL  # identiFied
cdef uint64_t ALL_C = 0x6363636363636363ULL  # Crypt, enCode, deCode, hmaC
cdef uint64_t ALL_X = 0x7878787878787878ULL  # rds_set_eXternal
cdef uint64_t ALL_SLASH = 0x2f2f2f2f2f2f2f2fULL  # :// (its first slash)


cdef inline bint has_zero_byte(uint64_t x) noexcept:
    return ((x - ONES) & ~x & HIGH_BITS) != 0


cdef inline bint may_anchor(uint64_t w) noexcept:
    """True when a byte of the word may be the anchor of a trigger word."""
    cdef uint64_t v = w | CASE_BITS  # ASCII letters to lower case (others do not matter)
    return (
        has_zero_byte(v ^ ALL_W)
        or has_zero_byte(v ^ ALL_F)
        or has_zero_byte(v ^ ALL_C)
        or has_zero_byte(v ^ ALL_X)
        or has_zero_byte(v ^ ALL_SLASH)
    )


cdef int line_kind(chars s, Py_ssize_t a, Py_ssize_t b) noexcept:
    """NOT_ASCII, PLAIN, or SECRET when [a, b) is ASCII holding a masking trigger word
    (`masking.TRIGGER_WORDS`, any case: where `mask_secrets` may change something).

    Eight bytes at a time: a word with no high bit and no anchor character is skipped whole."""
    cdef Py_ssize_t i = a
    cdef Py_ssize_t j
    cdef uint64_t w
    cdef int kind = PLAIN
    while i + 8 <= b:
        memcpy(&w, s + i, 8)
        if w & HIGH_BITS:
            return NOT_ASCII
        if kind == PLAIN and may_anchor(w):
            for j in range(i, i + 8):
                if trigger_at(s, j, a, b):
                    kind = SECRET
                    break
        i += 8
    while i < b:
        if s[i] >= 128:
            return NOT_ASCII
        if kind == PLAIN and trigger_at(s, i, a, b):
            kind = SECRET
        i += 1
    return kind


cdef inline bint trigger_at(chars s, Py_ssize_t j, Py_ssize_t a, Py_ssize_t b) noexcept:
    """True when the character at `j` anchors a trigger word within the line [a, b)."""
    cdef unsigned char c = s[j] | 0x20
    if c == 119:  # w
        return word_at(s, j - 4, a, b, b"password", 8)
    if c == 102:  # f
        return word_at(s, j - 6, a, b, b"identified", 10)
    if c == 99:  # c
        return (
            word_at(s, j, a, b, b"crypt", 5)
            or word_at(s, j - 2, a, b, b"encode", 6)
            or word_at(s, j - 2, a, b, b"decode", 6)
            or word_at(s, j - 3, a, b, b"hmac", 4)
        )
    if c == 120:  # x
        return word_at(s, j - 9, a, b, b"rds_set_external", 16)
    if s[j] == 47:  # /
        return word_at(s, j - 1, a, b, b"://", 3)
    return False


cdef inline bint word_at(
    chars s, Py_ssize_t at, Py_ssize_t a, Py_ssize_t b, const char* word, int size
) noexcept:
    """`word` (lower case) at `at`, inside [a, b), letters in any case."""
    cdef int k
    cdef unsigned char c, w
    if at < a or at + size > b:
        return False
    for k in range(size):
        c = s[at + k]
        w = <unsigned char>word[k]
        if w >= 97 and w <= 122:
            c = c | 0x20
        if c != w:
            return False
    return True


cdef Py_ssize_t find(chars s, Py_ssize_t a, Py_ssize_t b, const char* word, int size) noexcept:
    """Offset of `word` in [a, b), or -1."""
    cdef Py_ssize_t i
    for i in range(a, b - size + 1):
        if s[i] == <unsigned char>word[0] and memcmp(s + i, word, size) == 0:
            return i
    return -1


cdef inline long long digits(chars s, Py_ssize_t a, Py_ssize_t b) noexcept:
    """The number in [a, b) when it is 1 to 18 ASCII digits, else -1."""
    cdef long long value = 0
    cdef Py_ssize_t i
    if b <= a or b - a > MAX_DIGITS:
        return -1
    for i in range(a, b):
        if not is_digit(s[i]):
            return -1
        value = value * 10 + (s[i] - 48)
    return value


# The last string built for each repetitive field (hosts, users, commands, levels): a field
# equal to the previous one reuses its object, sparing an allocation and a free per event.
cdef list LAST = [""] * 8
cdef enum:
    F_SERVERHOST = 0
    F_USERNAME = 1
    F_HOST = 2
    F_OPERATION = 3
    F_DATABASE = 4
    F_COMMAND = 5
    F_CODE = 6
    F_SUBSYSTEM = 7


cdef object repeated(str text, chars s, Py_ssize_t a, Py_ssize_t b, int field):
    """`text[a:b]`, as the same object as last time when the characters are the same."""
    cdef str last = <str>LAST[field]
    if PyUnicode_GET_LENGTH(last) == b - a and (
        b == a or memcmp(PyUnicode_DATA(last), s + a, b - a) == 0
    ):
        return last
    value = PyUnicode_Substring(text, a, b)
    LAST[field] = value
    return value


cdef object unescape(chars s, Py_ssize_t size):
    """The quoted object of ASCII text unescaped as `AuditLogParser._line` does it: backslash
    quote to quote, then backslash backslash to backslash, each pass left to right."""
    cdef char* buf = <char*>malloc(size if size > 0 else 1)
    cdef Py_ssize_t i = 0
    cdef Py_ssize_t n = 0
    cdef Py_ssize_t m = 0
    if buf == NULL:
        raise MemoryError()
    try:
        while i < size:  # pass 1: \' -> '
            if s[i] == 92 and i + 1 < size and s[i + 1] == 39:
                buf[n] = 39
                i += 2
            else:
                buf[n] = <char>s[i]
                i += 1
            n += 1
        i = 0
        while i < n:  # pass 2, in place (it only shrinks): \\ -> \
            if buf[i] == 92 and i + 1 < n and buf[i + 1] == 92:
                i += 2
            else:
                i += 1
            buf[m] = buf[i - 1]
            m += 1
        return PyUnicode_FromStringAndSize(buf, m)
    finally:
        free(buf)


cdef inline bint one_byte(str text) noexcept:
    return PyUnicode_KIND(text) == PyUnicode_1BYTE_KIND
