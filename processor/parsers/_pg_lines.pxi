# The PostgreSQL parser's line loop in C (included by _pg.pyx): the same state machine as
# PostgresLogParser._line & co. in postgresql.py (the specification), which the pure-Python
# build runs instead. Prefixes of the canonical RDS shape in UTC are read here; any other line
# that starts with a digit goes through the parser's own regex, and times, fingerprints and
# masking call the same Python functions, so the events are the same.

from processor.parsers.pg_zones import UTC_NAMES

cdef extern from "_scan_event.h":
    # Events built without the dataclass __init__, as the other scanners build them.
    object event_new(object cls, object start, object end, object fields, object when)
    bint event_bind(object cls, tuple descriptors)

EVENT_SLOTS = ("start", "end", "fields", "event_time", "parse_error")

# Statement text -> (masked class, query_id, masked statement), shared by every parser of the
# process (a processor starts one per range; the workload repeats across them), bounded.
cdef dict CLASSES = {}
cdef Py_ssize_t CLASSES_MAX = 8192

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
    attached-line table, utc_time, zoned_time, fingerprint, parameters, mask_secrets,
    the attached fields to mask).
    """

    cdef object parser, event_cls, prefix_re, utc_time, zoned_time
    cdef object fingerprint, parameters, mask
    cdef tuple masked_attached
    cdef dict attached
    cdef Py_ssize_t limit
    # the pending entry (fields is None when there is none)
    cdef dict fields
    cdef object when
    cdef long long start, end
    cdef object pid
    cdef str target
    cdef list parts
    cdef Py_ssize_t size
    cdef bint ascii, truncated
    # the last whole-second UTC time read by the C path
    cdef char last_ts[27]
    cdef Py_ssize_t last_len
    cdef object last_when
    cdef Last severity, client, user, db, kind, name

    def __init__(self, tuple helpers, Py_ssize_t limit):
        (self.parser, self.event_cls, self.prefix_re, self.attached, self.utc_time,
         self.zoned_time, self.fingerprint, self.parameters, self.mask,
         self.masked_attached) = helpers
        self.limit = limit
        if tuple(getattr(self.event_cls, "__slots__", ())) == EVENT_SLOTS:
            event_bind(self.event_cls, tuple(self.event_cls.__dict__[k] for k in EVENT_SLOTS))
        self.fields = None
        self.last_when = None
        self.last_len = 0
        self.severity = Last()
        self.client = Last()
        self.user = Last()
        self.db = Last()
        self.kind = Last()
        self.name = Last()

    def lines(self, str text, long long start, list out, bint block_ascii):
        """Whole lines of `text` (each ending with a newline, none over the limit)."""
        cdef const uchar *s = <const uchar *>PyUnicode_DATA(text)
        cdef Py_ssize_t n = PyUnicode_GET_LENGTH(text)
        cdef Py_ssize_t p = 0, e
        cdef long long pos = start, end
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

    def line(self, str line, long long start, long long end, bint truncated, list out,
             bint block_ascii):
        """One line (latin-1, without its newline) spanning [start, end)."""
        if PyUnicode_KIND(line) != PyUnicode_1BYTE_KIND:
            raise ValueError("latin-1 text expected")
        self.line_at(line, <const uchar *>PyUnicode_DATA(line), 0, PyUnicode_GET_LENGTH(line),
                     start, end, truncated, out, block_ascii)

    def finish(self, list out):
        self.close(out)

    cdef void line_at(self, str text, const uchar *s, Py_ssize_t p, Py_ssize_t e,
                      long long start, long long end, bint truncated, list out,
                      bint block_ascii) except *:
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
            # The time (and zone) mostly repeat from line to line: read once.
            if pf.zone1 == self.last_len and memcmp(self.last_ts, at, pf.zone1) == 0:
                when = self.last_when
            else:
                when = self.time_of(sub(text, p, p + 19), sub(text, p + 20, p + pf.zone1))
                memcpy(self.last_ts, at, pf.zone1)
                self.last_len = pf.zone1
                self.last_when = when
            if type(when) is tuple:  # a named zone: (time, zone, flag)
                fields["time_zone"] = when[1]
                if when[2] is not None:
                    fields[when[2]] = True
                when = when[0]
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

    cdef object time_of(self, str ts, str zone):
        """The event time of `ts` printed in `zone` (letters), as prefix_fields reads it:
        a datetime (or None) in UTC, else (time, zone, flag) for the fields it adds."""
        if zone in UTC_NAMES:
            return self.utc_time(ts)
        when, flag = self.zoned_time(ts, zone)
        return (when, zone, flag)

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
        fields["statement_kind"] = self.kind.get(s + k, d1 - k)
        # (an empty name is "", as the regex's group gives it)
        fields["prepared_name"] = (
            None if name0 < 0 else self.name.get(s + name0, name1 - name0) if name1 > name0 else ""
        )
        fields["message"] = sub(text, i, j - 1)
        self.target = "statement"
        return j

    cdef void meta(self, str text, Py_ssize_t p, Py_ssize_t e, long long end, bint truncated,
                   bint block_ascii) except *:
        self.end = end
        if not block_ascii and not sub(text, p, e).isascii():
            self.ascii = False
        if truncated:
            self.truncated = True

    cdef void append(self, str line, long long end, bint truncated, bint block_ascii) except *:
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
        cdef bint failed = False
        self.store()
        self.fields = None
        try:
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
            for name in self.masked_attached:  # after the class: DETAIL's parameters feed it
                text = fields.get(name)
                if text:
                    fields[name] = self.mask(text)
        except Exception as exc:  # a parser bug must not lose the entry
            failed = self.parser._close_failed(fields, self.start, exc)
        if self.truncated:
            fields["truncated"] = True
        event = event_new(self.event_cls, self.start, self.end, fields, self.when)
        if self.ascii and not failed:  # what LogParser._push does for an ASCII entry
            out.append(event)
            self.parser._committed = self.end
        else:
            event.parse_error = failed
            self.parser._push(out, event, self.ascii)

    cdef tuple fingerprint_of(self, str statement, object parameters):
        """(masked class or None, query_id, masked statement), remembered per statement text
        when no value is bound (real workloads repeat their statements)."""
        cdef dict cache = CLASSES
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
            if len(cache) >= CLASSES_MAX:
                cache.clear()
            cache[statement] = found
        return found
