# The PostgreSQL parser's line loop in C (included by _pg.pyx): the same state machine as
# PostgresLogParser._line & co. in postgresql.py (the specification), which the pure-Python
# build runs instead. Prefixes of the canonical RDS shape in UTC are read here; any other line
# that starts with a digit goes through the parser's own regex, and times, fingerprints and
# masking call the same Python functions, so the events are the same.

from cpython.float cimport PyFloat_FromDouble
from cpython.long cimport PyLong_FromLongLong
from cpython.unicode cimport PyUnicode_Substring

from processor.parsers.pg_zones import UTC_NAMES

cdef extern from "_scan_event.h":
    # Events built without the dataclass __init__, as the other scanners build them.
    object event_new(object cls, object start, object end, object fields, object when)
    bint event_bind(object cls, tuple descriptors)

EVENT_SLOTS = ("start", "end", "fields", "event_time", "parse_error")

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


cdef Py_ssize_t utc_time_end(const uchar *s, Py_ssize_t n) noexcept nogil:
    """`YYYY-MM-DD HH:MM:SS UTC:` at s: the offset of its colon, or -1."""
    if n < 24:
        return -1
    if not (two(s, 0) and two(s, 2) and s[4] == 45 and two(s, 5) and s[7] == 45 and two(s, 8)
            and s[10] == 32 and two(s, 11) and s[13] == 58 and two(s, 14) and s[16] == 58
            and two(s, 17)):
        return -1
    if memcmp(s + 19, b" UTC:", 5) != 0:
        return -1
    return 23


ctypedef struct Prefix:
    # offsets of one line's prefix fields, relative to the line (-1: absent)
    Py_ssize_t c0, c1, port0, port1, u0, u1, d0, d1, sev0, sev1, st0, text
    long long pid


cdef bint scan_prefix(const uchar *s, Py_ssize_t n, Prefix *p) noexcept nogil:
    """The canonical `%t:%r:%u@%d:[%p]:SEVERITY:  ` prefix in UTC; False for anything the
    regex might read differently (the caller then asks the regex)."""
    cdef Py_ssize_t i, j
    p.st0 = -1
    i = utc_time_end(s, n)
    if i < 0:
        return False
    i += 1
    # %r: `[local]`, `host(port)` or a host without a port; no `(`, `)`, space, `:` or `@`.
    p.c0 = i
    p.port0 = -1
    p.port1 = -1
    if n - i >= 8 and memcmp(s + i, b"[local]:", 8) == 0:
        i += 7
        p.c1 = i
    else:
        while (i < n and s[i] != 58 and s[i] != 40 and s[i] != 41 and s[i] != 64
               and not is_space(s[i])):
            i += 1
        p.c1 = i
        if i < n and s[i] == 40:
            j = skip_digits(s, i + 1, n)
            if j == i + 1 or j - i > 19 or j >= n or s[j] != 41:
                return False
            p.port0 = i + 1
            p.port1 = j
            i = j + 1
        else:
            # The regex tries `[^()\s]*\((\d+)\)` before `[^:]*`: the first may run on
            # through `:` and `@` to a `(` further on; leave such a line to the regex.
            j = i
            while j < n and s[j] != 40 and s[j] != 41 and not is_space(s[j]):
                j += 1
            if j < n and s[j] == 40:
                return False
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


cdef inline str sub(str line, Py_ssize_t a, Py_ssize_t b):
    return PyUnicode_Substring(line, a, b)


cdef str rstrip_py(str text):
    """str.rstrip() of latin-1 text."""
    cdef const uchar *s = <const uchar *>PyUnicode_DATA(text)
    cdef Py_ssize_t n = PyUnicode_GET_LENGTH(text)
    cdef Py_ssize_t m = n
    while m > 0 and py_space(s[m - 1]):
        m -= 1
    return text if m == n else sub(text, 0, m)


cdef class Last:
    """The text of one prefix field on the previous line: consecutive lines mostly repeat
    their severity, client, user and database, and share one string object for it."""

    cdef bytes raw
    cdef object text

    def __cinit__(self):
        self.raw = b""
        self.text = None

    cdef inline object get(self, const uchar *s, Py_ssize_t n):
        if n == 0:
            return None
        if n == len(self.raw) and memcmp(<const char *>self.raw, s, n) == 0:
            return self.text
        self.raw = (<const char *>s)[:n]
        self.text = PyUnicode_DecodeLatin1(<const char *>s, n, NULL)
        return self.text


cdef class PgLines:
    """The pending entry and the per-line rules of one PostgresLogParser (see postgresql.py).

    `helpers` hands over the parser's Python pieces: (parser, Event, the prefix regex, the
    attached-line table, utc_time, zoned_time, fingerprint, parameters, mask_secrets).
    """

    cdef object parser, event_cls, prefix_re, utc_time, zoned_time
    cdef object fingerprint, parameters, mask
    cdef dict attached, fingerprints
    cdef Py_ssize_t limit
    # the pending entry (fields is None when there is none)
    cdef dict fields
    cdef object when
    cdef object start, end, pid
    cdef str target
    cdef list parts
    cdef Py_ssize_t size
    cdef bint ascii, truncated
    # the last whole-second UTC time read by the C path
    cdef char last_ts[19]
    cdef object last_when
    cdef Last severity, client, user, db

    def __init__(self, tuple helpers, Py_ssize_t limit):
        (self.parser, self.event_cls, self.prefix_re, self.attached, self.utc_time,
         self.zoned_time, self.fingerprint, self.parameters, self.mask) = helpers
        self.limit = limit
        if tuple(getattr(self.event_cls, "__slots__", ())) == EVENT_SLOTS:
            event_bind(self.event_cls, tuple(self.event_cls.__dict__[k] for k in EVENT_SLOTS))
        self.fields = None
        self.fingerprints = {}
        self.last_when = None
        self.severity = Last()
        self.client = Last()
        self.user = Last()
        self.db = Last()

    @property
    def pending(self):
        return self.fields is not None

    def lines(self, str text, object start, list out, bint block_ascii):
        """Whole lines of `text` (each ending with a newline, none over the limit)."""
        cdef const uchar *s = <const uchar *>PyUnicode_DATA(text)
        cdef Py_ssize_t n = PyUnicode_GET_LENGTH(text)
        cdef Py_ssize_t p = 0, e
        cdef object pos = start, end
        if PyUnicode_KIND(text) != PyUnicode_1BYTE_KIND:
            raise ValueError("latin-1 text expected")
        while p < n:
            e = p
            while e < n and s[e] != 10:
                e += 1
            end = pos + (e + 1 - p)
            try:
                self.line_at(text, s, p, e, pos, end, False, out, block_ascii)
            except Exception as exc:  # a parser bug must not lose the line
                self.parser._internal_error(exc, sub(text, p, e), pos, end, out)
            pos = end
            p = e + 1

    def line(self, str line, object start, object end, bint truncated, list out,
             bint block_ascii):
        """One line (latin-1, without its newline) spanning [start, end)."""
        if PyUnicode_KIND(line) != PyUnicode_1BYTE_KIND:
            raise ValueError("latin-1 text expected")
        self.line_at(line, <const uchar *>PyUnicode_DATA(line), 0, PyUnicode_GET_LENGTH(line),
                     start, end, truncated, out, block_ascii)

    def finish(self, list out):
        self.close(out)

    cdef void line_at(self, str text, const uchar *s, Py_ssize_t p, Py_ssize_t e, object start,
                      object end, bint truncated, list out, bint block_ascii) except *:
        cdef Prefix pf
        cdef Py_ssize_t n = e - p
        cdef Py_ssize_t body_at
        cdef const uchar *at = s + p
        cdef str line = None
        cdef object m, groups = None, key, when, pid
        cdef str severity, body
        cdef dict fields
        cdef bint fast = n > 0 and is_digit(at[0]) and scan_prefix(at, n, &pf)
        if fast:
            pid = pf.pid
            severity = self.severity.get(at + pf.sev0, pf.sev1 - pf.sev0)
            body_at = p + pf.text
        else:
            line = sub(text, p, e)
            m = self.prefix_re.match(line) if n > 0 and is_digit(at[0]) else None
            if m is None:
                if self.fields is not None:
                    self.append(line, end, truncated, block_ascii)
                elif not line.strip():
                    self.parser._skip_blank(start, end)
                else:
                    self.parser._raw_event(out, line, start, end, truncated,
                                           "line outside any entry")
                return
            groups = m.groups()
            pid = int(groups[6])
            severity = groups[7]
            body_at = p + m.end()
        key = self.attached.get(severity)
        if key is not None and self.fields is not None and pid == self.pid:
            body = sub(text, body_at, e)
            self.store()
            self.target = key
            self.parts = [body]
            self.size += PyUnicode_GET_LENGTH(body)
            self.meta(text, p, e, end, truncated, block_ascii)
            return
        self.close(out)
        if fast:
            # Room for every field a statement entry gets: no resize on the way.
            fields = _PyDict_NewPresized(16)
            fields["severity"] = severity
            fields["client"] = self.client.get(at + pf.c0, pf.c1 - pf.c0)
            fields["client_port"] = (
                PyLong_FromLongLong(strtoll(<const char *>(at + pf.port0), NULL, 10))
                if pf.port0 >= 0 else None
            )
            fields["user"] = self.user.get(at + pf.u0, pf.u1 - pf.u0)
            fields["db"] = self.db.get(at + pf.d0, pf.d1 - pf.d0)
            fields["pid"] = pid
            fields["sqlstate"] = sub(text, p + pf.st0, p + pf.st0 + 5) if pf.st0 >= 0 else None
            if memcmp(self.last_ts, at, 19) == 0 and self.last_when is not None:
                when = self.last_when
            else:
                when = self.utc_time(sub(text, p, p + 19))
                memcpy(self.last_ts, at, 19)
                self.last_when = when
        else:
            fields, when = self.prefix_fields(groups)
        self.fields = fields
        self.when = when
        self.start = start
        self.end = end
        self.pid = pid
        self.ascii = block_ascii or (line.isascii() if line is not None
                                     else sub(text, p, e).isascii())
        self.truncated = truncated
        self.size = e - body_at
        self.target = "message"
        if key is None:
            body_at = self.statement_head(text, s, body_at, e, fields)
        self.parts = [sub(text, body_at, e)]

    cdef tuple prefix_fields(self, tuple groups):
        """The fields of a prefix the regex read (the Python parser's own code)."""
        ts, zone, client, port, user, db, pid_text, severity, sqlstate = groups
        fields = {
            "severity": severity,
            "client": (client[: client.rfind("(")] if port is not None else client) or None,
            "client_port": None if port is None else int(port),
            "user": user or None,
            "db": db or None,
            "pid": int(pid_text),
            "sqlstate": sqlstate,
        }
        if zone is None or zone in UTC_NAMES:
            when = self.utc_time(ts)
        else:
            when, flag = self.zoned_time(ts, zone)
            if zone[0] not in "+-" or flag is not None:
                fields["time_zone"] = zone
            if flag is not None:
                fields[flag] = True
        return fields, when

    cdef Py_ssize_t statement_head(self, str text, const uchar *s, Py_ssize_t i, Py_ssize_t e,
                                   dict fields) except -1:
        """`duration: … ms  statement: ` or `statement: ` at i: fields set, target switched;
        returns where the entry's text (message or statement) starts."""
        cdef Py_ssize_t j, k, d0, d1, name0, name1
        if word_at(s, i, e, b"duration: ", 10):
            d0 = i + 10
            j = skip_digits(s, d0, e)
            if j == d0:
                return i
            if j + 1 < e and s[j] == 46 and is_digit(s[j + 1]):
                j = skip_digits(s, j + 1, e)
            if not word_at(s, j, e, b" ms", 3):
                return i
            fields["duration_ms"] = decimal(text, s, d0, j)
            j += 3
            k = j
            while k < e and (s[k] == 32 or s[k] == 9):
                k += 1
            if k == j:
                return i
            j = kind_end(s, k, e, True)
            if j < 0:
                return i
            d1 = j
            j = kind_tail(s, j, e, &name0, &name1)
            if j < 0:
                return i
        elif i < e and (s[i] == 115 or s[i] == 101 or s[i] == 98 or s[i] == 112):
            k = i
            d1 = kind_end(s, k, e, False)
            if d1 < 0:
                return i
            j = kind_tail(s, d1, e, &name0, &name1)
            if j < 0:
                return i
        else:
            return i
        fields["statement_kind"] = sub(text, k, d1)
        fields["prepared_name"] = sub(text, name0, name1) if name0 >= 0 else None
        fields["message"] = sub(text, i, j - 1)
        self.target = "statement"
        return j

    cdef void meta(self, str text, Py_ssize_t p, Py_ssize_t e, object end, bint truncated,
                   bint block_ascii) except *:
        self.end = end
        if not block_ascii and not sub(text, p, e).isascii():
            self.ascii = False
        if truncated:
            self.truncated = True

    cdef void append(self, str line, object end, bint truncated, bint block_ascii) except *:
        cdef Py_ssize_t size
        self.meta(line, 0, PyUnicode_GET_LENGTH(line), end, truncated, block_ascii)
        size = self.size + PyUnicode_GET_LENGTH(line) + 1
        if size > self.limit:
            self.truncated = True
            room = self.limit - self.size
            if room <= 0:
                return
            line = line[:room]
            size = self.limit
        self.size = size
        self.parts.append(line)

    cdef void store(self) except *:
        cdef str text
        if len(self.parts) == 1:
            text = rstrip_py(self.parts[0])
        else:
            text = rstrip_py("\n".join(self.parts))
        previous = self.fields.get(self.target)
        self.fields[self.target] = text if previous is None else previous + "\n" + text

    cdef void close(self, list out) except *:
        cdef dict fields = self.fields
        if fields is None:
            return
        self.store()
        self.fields = None
        statement = fields.get("statement")
        if statement:
            detail = fields.get("detail")
            if detail is not None and "parameters: " not in detail:
                detail = None  # what `parameters` gives such a text
            found = self.fingerprint_of(statement, None if detail is None
                                        else self.parameters(detail))
            if found[0] is not None:
                fields["fingerprint"] = found[0]
                fields["query_id"] = found[1]
            fields["statement"] = found[2]
        message = fields.get("message")
        if message:
            fields["message"] = self.mask(message)
        if self.truncated:
            fields["truncated"] = True
        event = event_new(self.event_cls, self.start, self.end, fields, self.when)
        if self.ascii:  # what LogParser._push does for an ASCII entry
            out.append(event)
            self.parser._committed = self.end
        else:
            self.parser._push(out, event, False)

    cdef tuple fingerprint_of(self, str statement, object parameters):
        """(masked class or None, query_id, masked statement), remembered per statement text
        when no value is bound (real workloads repeat their statements)."""
        cdef dict cache = self.fingerprints
        if parameters is None:
            found = cache.get(statement)
            if found is not None:
                return found
        found = pgbadger_class(statement, parameters)
        if found is False:
            found = self.fingerprint(statement, parameters)
        if found is None:
            found = (None, None, self.mask(statement))
        else:
            found = (self.mask(found[0]), found[1], self.mask(statement))
        if parameters is None and PyUnicode_GET_LENGTH(statement) <= 512:
            if len(cache) >= 8192:
                cache.clear()
            cache[statement] = found
        return found
