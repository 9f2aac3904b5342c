# The slow log's plainest entries turned into events from C, as SlowQueryLogParser._line (the
# specification) would build them:
#
#   # Time: 2024-01-03T07:15:38.660108Z                 (optional; this exact shape)
#   # User@Host: user[user] @ host [ip]  Id: 123
#   # Query_time: 1.0  Lock_time: 0.0 …                 (one line of known attributes)
#   use db;                                              (optional)
#   SET timestamp=1704266136;                            (optional)
#   SELECT …;                                            (any lines up to the next entry)
#
# An entry is emitted only when the line after it starts the next one (`# Time:` or
# `# User@Host:`), so it is complete. At anything else (non-ASCII or control characters, another
# header line, a server header, an odd value) the scanner stops at the entry's first line and the
# parser's `_line` takes it: the scanner only ever accepts what it can prove `_line` would turn
# into the very same event.


cdef inline bint printable(chars s, Py_ssize_t a, Py_ssize_t b) noexcept nogil:
    cdef Py_ssize_t i
    for i in range(a, b):
        if s[i] < 0x20 or s[i] > 0x7E:
            return False
    return True


cdef inline bint ascii_text(chars s, Py_ssize_t a, Py_ssize_t b) noexcept nogil:
    # statement lines: any ASCII but \r and the separators str.split()/rstrip() would see
    cdef Py_ssize_t i
    cdef unsigned char c
    for i in range(a, b):
        c = s[i]
        if c > 0x7E or c == b"\r" or (c >= 28 and c <= 31):
            return False
    return True


cdef inline Py_ssize_t digits(chars s, Py_ssize_t a, Py_ssize_t b, long long* value) noexcept nogil:
    """Value of the digit run s[a:b] (1 to 18 digits, all of it), else -1."""
    cdef long long v = 0
    cdef Py_ssize_t i
    if b <= a or b - a > 18:
        return -1
    for i in range(a, b):
        if s[i] < b"0" or s[i] > b"9":
            return -1
        v = v * 10 + (s[i] - 48)
    value[0] = v
    return b


cdef inline int two(chars s, Py_ssize_t i) noexcept nogil:
    return (s[i] - 48) * 10 + (s[i + 1] - 48)


cdef object iso_time(chars s, Py_ssize_t a):
    """`YYYY-MM-DDTHH:MM:SS.ffffffZ` at s[a:a+27] as fromisoformat gives it; None otherwise."""
    cdef int i
    for i in range(27):
        if i == 4 or i == 7:
            if s[a + i] != b"-":
                return None
        elif i == 10:
            if s[a + i] != b"T":
                return None
        elif i == 13 or i == 16:
            if s[a + i] != b":":
                return None
        elif i == 19:
            if s[a + i] != b".":
                return None
        elif i == 26:
            if s[a + i] != b"Z":
                return None
        elif s[a + i] < b"0" or s[a + i] > b"9":
            return None
    cdef int us = 0
    for i in range(20, 26):
        us = us * 10 + (s[a + i] - 48)
    try:
        return datetime_new(
            two(s, a) * 100 + two(s, a + 2), two(s, a + 5), two(s, a + 8), two(s, a + 11),
            two(s, a + 14), two(s, a + 17), us, UTC
        )
    except ValueError:
        return None  # out of range: `_line` flags it


cdef str stripped(str text, chars s, Py_ssize_t a, Py_ssize_t b):
    while a < b and is_py_space(s[a]):
        a += 1
    while b > a and is_py_space(s[b - 1]):
        b -= 1
    return PyUnicode_Substring(text, a, b)


cdef bint user_host(str text, chars s, Py_ssize_t a, Py_ssize_t eol, dict fields):
    """`user[user2] @ host [ip]  Id: N` from s[a:eol] (after `# User@Host: `), as _USER_HOST
    reads it; False for any other shape."""
    cdef Py_ssize_t i = a, u2, u2e, h0, h1, ip0, ip1
    cdef long long thread = -1
    while i < eol and s[i] != b"[":
        i += 1
    if i == eol:
        return False
    u2 = i + 1
    i = u2
    while i < eol and s[i] != b"]":
        i += 1
    if i == eol:
        return False
    u2e = i
    i += 1
    while i < eol and s[i] == b" ":
        i += 1
    if i == eol or s[i] != b"@":
        return False
    i += 1
    while i < eol and s[i] == b" ":
        i += 1
    h0 = i
    while i < eol and s[i] != b" " and s[i] != b"[":
        i += 1
    h1 = i
    while i < eol and s[i] == b" ":
        i += 1
    if i == eol or s[i] != b"[":
        return False
    ip0 = i + 1
    i = ip0
    while i < eol and s[i] != b"]":
        i += 1
    if i == eol:
        return False
    ip1 = i
    i += 1
    if i < eol:
        while i < eol and s[i] == b" ":
            i += 1
        if not starts(s, eol, i, b"Id:", 3):
            return False
        i += 3
        while i < eol and s[i] == b" ":
            i += 1
        if digits(s, i, eol, &thread) < 0:
            return False
    user = stripped(text, s, a, u2 - 1)
    fields["user"] = user if user else PyUnicode_Substring(text, u2, u2e)
    ip = PyUnicode_Substring(text, ip0, ip1) if ip1 > ip0 else None
    fields["host"] = PyUnicode_Substring(text, h0, h1) if h1 > h0 else ip
    fields["ip"] = ip
    if thread >= 0:
        fields["thread_id"] = PyLong_FromLongLong(thread)
    return True


cdef object number(chars s, Py_ssize_t a, Py_ssize_t b, object caster):
    """The value `int`/`float` gives for the plain number s[a:b], or None if it is not one."""
    cdef long long v = 0
    cdef Py_ssize_t i
    cdef bint neg = b > a and s[a] == b"-"
    cdef char buf[40]
    if caster is int:
        if digits(s, a + 1 if neg else a, b, &v) < 0:
            return None
        return PyLong_FromLongLong(-v if neg else v)
    # float: -?\d+(\.\d+)? only, read as float() does (correctly rounded, any locale)
    i = a + 1 if neg else a
    if i >= b or s[i] < b"0" or s[i] > b"9" or b - a >= 40:
        return None
    while i < b and s[i] >= b"0" and s[i] <= b"9":
        i += 1
    if i < b:
        if s[i] != b"." or i + 1 == b:
            return None
        i += 1
        while i < b:
            if s[i] < b"0" or s[i] > b"9":
                return None
            i += 1
    memcpy(buf, s + a, b - a)
    buf[b - a] = 0
    return PyFloat_FromDouble(PyOS_string_to_double(buf, NULL, NULL))


cdef bint attributes(str text, chars s, Py_ssize_t i, Py_ssize_t eol, dict fields, dict table):
    """`Key: value …` pairs from s[i:eol] as AttributeNames.update's plan gives them; False
    for an unknown key, an odd token count or a value that is not a plain number."""
    cdef Py_ssize_t k0, k1, v0, j
    while True:
        while i < eol and s[i] == b" ":
            i += 1
        if i >= eol:
            return True
        k0 = i
        while i < eol and s[i] != b" ":
            i += 1
        k1 = i - 1  # the colon
        if k1 <= k0 or s[k1] != b":":
            return False
        for j in range(k0, k1):
            if not is_word(s[j]):
                return False
        while i < eol and s[i] == b" ":
            i += 1
        if i >= eol:
            return False
        v0 = i
        while i < eol and s[i] != b" ":
            i += 1
        entry = table.get(PyUnicode_Substring(text, k0, k1))
        if entry is None:
            return False
        name, caster = <tuple>entry
        if caster is int or caster is float:
            value = number(s, v0, i, caster)
            if value is None:
                return False
        else:
            value = caster(PyUnicode_Substring(text, v0, i))
        fields[name] = value


cdef inline bint server_header_like(chars s, Py_ssize_t a, Py_ssize_t eol) noexcept nogil:
    # A superset of is_server_header's lines (those the parser must see).
    cdef unsigned char c = s[a]
    if not (c == b"/" or (c >= b"A" and c <= b"Z")):
        return False
    if starts(s, eol, a, b"Tcp", 3) or starts(s, eol, a, b"TCP", 3):
        return True
    if starts(s, eol, a, b"Time", 4):
        return True
    return has(s + a, eol - a, b"mysqld,", 7)


cdef inline bint entry_line(chars s, Py_ssize_t n, Py_ssize_t p) noexcept nogil:
    return starts(s, n, p, b"# Time:", 7) or starts(s, n, p, b"# User@Host:", 12)


cdef inline bint header_like_statement(chars s, Py_ssize_t p, Py_ssize_t eol) noexcept nogil:
    # lines `_line` reads as part of the header when they come before the statement
    cdef Py_ssize_t i = p
    if s[p] == b"#" or starts(s, eol, p, b"use ", 4) or (
        starts(s, eol, p, b"SET ", 4) and (
            starts(s, eol, p + 4, b"timestamp=", 10) or starts(s, eol, p + 4, b"insert_id", 9)
            or starts(s, eol, p + 4, b"last_insert_id", 14)
        )
    ):
        return True
    while i < eol and is_py_space(s[i]):
        i += 1
    return i == eol  # blank


cdef int STATEMENT_PHASE = 1  # slowquery._STATEMENT


def scan_slow(
    str text, Py_ssize_t pos, Py_ssize_t start, list out, object parser, dict table,
    Py_ssize_t max_statement, object event, object mask
):
    """Entries from `pos` on (see above); returns the offset of the first line left to `_line`
    (`pos` itself while `_line` holds an entry that the line at `pos` does not complete).
    `table` is the parser's AttributeNames.table, `mask` mask_secrets; `parser._db` (the
    carried database) is read and kept up to date."""
    if not one_byte(text):
        return pos
    cdef chars s = <chars>PyUnicode_DATA(text)
    cdef Py_ssize_t n = PyUnicode_GET_LENGTH(text)
    cdef Py_ssize_t p = pos, entry, eol, stmt, b
    cdef long long ts = 0
    cdef bint semicolon
    cdef const void* at
    if parser._event is not None:
        # `_line` holds an entry: a line starting the next one completes it, else it is `_line`'s
        if parser._phase != STATEMENT_PHASE or not entry_line(s, n, pos):
            return pos
        parser._close(out)
    carried = parser._db
    while p < n:
        entry = p
        at = memchr(s + p, b"\n", n - p)
        if at == NULL:
            break
        eol = <chars>at - s
        when = None
        if starts(s, n, p, b"# Time: ", 8):
            if eol - p != 35:
                break
            when = iso_time(s, p + 8)
            if when is None:
                break
            p = eol + 1
            at = memchr(s + p, b"\n", n - p)
            if at == NULL:
                break
            eol = <chars>at - s
        if not starts(s, n, p, b"# User@Host: ", 13) or not printable(s, p, eol):
            break
        fields = {}
        if not user_host(text, s, p + 13, eol, fields):
            break
        p = eol + 1
        at = memchr(s + p, b"\n", n - p)
        if at == NULL or not starts(s, n, p, b"# Query_time: ", 14):
            break
        eol = <chars>at - s
        if not printable(s, p, eol) or not attributes(text, s, p + 1, eol, fields, table):
            break
        p = eol + 1
        at = memchr(s + p, b"\n", n - p)
        if at == NULL:
            break
        eol = <chars>at - s
        if starts(s, n, p, b"use ", 4):
            b = p + 4
            while b < eol and (is_word(s[b]) or s[b] == b"$"):
                b += 1
            if b == p + 4 or b + 1 != eol or s[b] != b";":
                break
            if "db" not in fields:  # setdefault, as `_line`
                fields["db"] = PyUnicode_Substring(text, p + 4, b)
            p = eol + 1
            at = memchr(s + p, b"\n", n - p)
            if at == NULL:
                break
            eol = <chars>at - s
        if starts(s, n, p, b"SET timestamp=", 14):
            if s[eol - 1] != b";" or digits(s, p + 14, eol - 1, &ts) < 0:
                break
            fields["timestamp"] = PyLong_FromLongLong(ts)
            p = eol + 1
            at = memchr(s + p, b"\n", n - p)
            if at == NULL:
                break
            eol = <chars>at - s
        # The statement: its first line must not be one `_line` reads as header.
        if header_like_statement(s, p, eol) or server_header_like(s, p, eol):
            break
        stmt = p
        semicolon = False
        while True:
            if p > stmt:
                if s[p] == b"#":
                    if entry_line(s, n, p):
                        break
                    if semicolon and starts(s, n, p, b"# ", 2):
                        p = -1
                        break
                elif server_header_like(s, p, eol):
                    p = -1
                    break
            if not ascii_text(s, p, eol):
                p = -1
                break
            b = eol
            while b > p and is_py_space(s[b - 1]):
                b -= 1
            semicolon = b > p and s[b - 1] == b";"
            p = eol + 1
            if p >= n:
                p = -1  # the next entry has not started yet: not known to be complete
                break
            at = memchr(s + p, b"\n", n - p)
            if at == NULL:
                p = -1
                break
            eol = <chars>at - s
        if p < 0 or p - stmt > max_statement:
            break
        b = p - 1
        while b > stmt and is_py_space(s[b - 1]):
            b -= 1
        if b > stmt and s[b - 1] == b";":
            b -= 1
        statement = PyUnicode_Substring(text, stmt, b)
        fp, qid = pair_cached(statement)
        fields["statement"] = mask(statement)
        if "cmd" not in fields:
            fields["cmd"] = "Query"
        fields["fingerprint"] = mask(fp) if ("'" in fp or '"' in fp) else fp
        fields["query_id"] = qid
        if "db" not in fields and "schema" in fields:
            fields["db"] = fields["schema"]
        db = fields.get("db")
        if db is not None:
            if db is not carried:
                carried = db
                parser._db = db
        elif carried is not None:
            fields["db"] = carried
        if when is None and "timestamp" in fields:
            try:
                when = fromtimestamp(fields["timestamp"], UTC)
            except (OverflowError, OSError, ValueError):
                when = None
        out.append(event_new(event, start + entry, start + p, fields, when))
        pos = p
    return pos
