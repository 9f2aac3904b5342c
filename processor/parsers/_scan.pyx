# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""Compiled scanners for the common line shapes of the error, general and audit logs.

Why compiled: the pure-Python parsers cost 2-3 µs per event, most of it in the interpreter, which
caps these formats near 35 MB/s a core; building the same dicts from C runs at several times that
(bench/results/parsers.json). No library parses these formats, so this is our own code, kept
small on purpose: it accepts only the plainest lines and hands every other line back.

The per-line `_line` of each parser stays the specification. A scanner here emits an event only
for a line it can prove `_line` would turn into exactly that event: ASCII, no secret trigger
word (`masking.TRIGGER_WORDS`; a line holding one goes through `mask`, which is `mask_secrets`),
canonical MySQL 8 time, bounded digit runs. At the first line it is unsure of, it stops and
returns that line's offset; the parser gives the line to `_line` and calls the scanner again.
tests/parsers/test_fast_paths.py checks, over random mixes of odd and ordinary lines cut
anywhere, that the events are exactly the per-line ones.

`text` is the latin-1 view of whole lines (one character per byte, each line ending with a
newline); `pos` an offset in it; `start` the file offset of `text[0]`.
"""

from cpython.datetime cimport datetime_new, import_datetime
from libc.stdint cimport uint64_t
from libc.stdlib cimport free, malloc
from libc.string cimport memchr, memcmp, memcpy


cdef extern from "_scan_event.h":
    object event_new(object cls, object start, object end, object fields, object when)
    bint event_bind(object cls, tuple descriptors)

cdef extern from "Python.h":
    int PyUnicode_KIND(object)
    void* PyUnicode_DATA(object)
    Py_ssize_t PyUnicode_GET_LENGTH(object)
    object PyUnicode_Substring(object, Py_ssize_t, Py_ssize_t)
    object PyUnicode_FromStringAndSize(const char*, Py_ssize_t)
    int PyUnicode_1BYTE_KIND

import_datetime()

from datetime import timezone

cdef object UTC = timezone.utc
# 2100-01-01T00:00:00Z in µs: the Python audit path takes its cached route only below this.
cdef const char* CACHED_BEFORE = b"4102444800000000"
cdef int MAX_DIGITS = 18  # always fits a signed 64-bit integer

ctypedef const unsigned char* chars

cdef enum:
    NOT_ASCII = 0
    PLAIN = 1
    SECRET = 2


include "_scan_text.pxi"
include "_scan_time.pxi"


def bind_event(cls):
    """Let the scanners build `cls` (the slots dataclass `Event`) directly; False (and the
    scanners call `cls` instead) when its slots are not plain object members."""
    names = ("start", "end", "fields", "event_time", "parse_error")
    if tuple(getattr(cls, "__slots__", ())) != names:
        return False
    return event_bind(cls, tuple(cls.__dict__[name] for name in names))

# ---------------------------------------------------------------------------------- audit log


def scan_audit(
    str text, Py_ssize_t pos, Py_ssize_t start, list out, object event, object mask
):
    """Aurora audit records from `pos` on, as `AuditLogParser._line` builds them (`mask` is
    `mask_secrets`); returns the offset of the first line left to the caller."""
    if not one_byte(text):
        return pos
    cdef chars s = <chars>PyUnicode_DATA(text)
    cdef Py_ssize_t n = PyUnicode_GET_LENGTH(text)
    cdef Py_ssize_t eol, k, last, oa, ob
    cdef const void* at
    cdef Py_ssize_t comma[8]
    cdef long long us, connid, queryid, retcode
    cdef int kind
    cdef object obj
    while pos < n:
        eol = line_end(s, pos, n)
        if eol < 0 or eol - pos < 24:
            break
        # ts: exactly 16 digits, before 2100.
        if s[pos + 16] != 44:  # ,
            break
        us = digits(s, pos, pos + 16)
        if us < 0 or memcmp(s + pos, CACHED_BEFORE, 16) >= 0:
            break
        comma[0] = pos + 16
        for k in range(1, 8):
            at = memchr(s + comma[k - 1] + 1, 44, eol - comma[k - 1] - 1)
            if at == NULL:
                break
            comma[k] = <chars>at - s
        else:
            k = 8
        if k < 8:
            break
        kind = line_kind(s, pos, eol)
        if kind == NOT_ASCII:
            break
        # rest.rpartition(","): the object, then the retcode after the last comma.
        last = eol - 1
        while last > comma[7] and s[last] != 44:
            last -= 1
        if last > comma[7]:
            retcode = digits(s, last + 1, eol)
            if retcode < 0 and eol > last + 1:
                break  # not plain digits: `_line` decides
        else:
            last = eol
            retcode = -1
        connid = digits(s, comma[3] + 1, comma[4])
        queryid = digits(s, comma[4] + 1, comma[5])
        if (connid < 0 and comma[4] > comma[3] + 1) or (queryid < 0 and comma[5] > comma[4] + 1):
            break
        oa = comma[7] + 1
        ob = last
        if ob - oa > 1 and s[oa] == 39 and s[ob - 1] == 39:  # quoted: '...'
            if memchr(s + oa + 1, 92, ob - oa - 2) != NULL:  # a backslash
                obj = unescape(s + oa + 1, ob - oa - 2)
            else:
                obj = PyUnicode_Substring(text, oa + 1, ob - 1)
        else:
            obj = PyUnicode_Substring(text, oa, ob)
        if kind == SECRET:
            # `_line` masks only when the object holds the word; `mask` leaves any other
            # text unchanged, so calling it for a word anywhere in the line is the same.
            obj = mask(obj)
        out.append(
            event_new(
                event,
                start + pos,
                start + eol + 1,
                {
                    "serverhost": repeated(text, s, comma[0] + 1, comma[1], F_SERVERHOST),
                    "username": repeated(text, s, comma[1] + 1, comma[2], F_USERNAME),
                    "host": repeated(text, s, comma[2] + 1, comma[3], F_HOST),
                    "connectionid": connid if connid >= 0 else None,
                    "queryid": queryid if queryid >= 0 else None,
                    "operation": repeated(text, s, comma[5] + 1, comma[6], F_OPERATION),
                    "database": repeated(text, s, comma[6] + 1, comma[7], F_DATABASE),
                    "object": obj,
                    "retcode": retcode if retcode >= 0 else None,
                },
                epoch_us_time(us),
            )
        )
        pos = eol + 1
    return pos


# ------------------------------------------------- entries that may span lines (general, error)

# A format's entry line: fills f with the offsets of its parts; 1 if the line is one.
ctypedef Py_ssize_t (*Shape)(chars, Py_ssize_t, Py_ssize_t, Py_ssize_t*) noexcept
# A line `_line` surely joins to the pending entry.
ctypedef bint (*Continues)(chars, Py_ssize_t, Py_ssize_t) noexcept


cdef struct Extent:
    Py_ssize_t end  # offset of the newline ending the entry's last line
    Py_ssize_t size  # PendingEntry's count of the entry, to compare with max_bytes
    Py_ssize_t next  # start of the line after the entry
    Py_ssize_t next_eol  # its newline, or -1 at the end of the text
    int kind  # PLAIN or SECRET over all its lines; NOT_ASCII for a continuation that is


cdef inline Extent extent(
    chars s, Py_ssize_t n, Py_ssize_t eol, Py_ssize_t size, int kind, Continues continues
) noexcept:
    """The entry whose first line ends at `eol`, with its continuation lines."""
    cdef Extent e
    cdef int more
    e.end = eol
    e.size = size
    e.kind = kind
    e.next = eol + 1
    e.next_eol = line_end(s, e.next, n)
    while e.next_eol >= 0 and continues(s, e.next, e.next_eol):
        more = line_kind(s, e.next, e.next_eol)
        if more == NOT_ASCII:
            break
        if more == SECRET:
            e.kind = SECRET
        e.size += e.next_eol - e.next + 1
        e.end = e.next_eol
        e.next = e.next_eol + 1
        e.next_eol = line_end(s, e.next, n)
    return e


cdef bint entry_at(str text, Py_ssize_t pos, Shape shape):
    if not one_byte(text):
        return False
    cdef chars s = <chars>PyUnicode_DATA(text)
    cdef Py_ssize_t f[4]
    cdef Py_ssize_t eol = line_end(s, pos, PyUnicode_GET_LENGTH(text))
    return eol >= 0 and shape(s, pos, eol, f) == 1 and iso_time(s, pos) is not None


# -------------------------------------------------------------------------------- general log


cdef Py_ssize_t general_shape(chars s, Py_ssize_t a, Py_ssize_t eol, Py_ssize_t* f) noexcept:
    """The MySQL 5.7/8 entry `<time>\\t<spaces><id> <Command>[\\t<argument>]` at [a, eol):
    fills f = thread start, thread end, command end, argument start; 1 if it is one, else 0."""
    cdef Py_ssize_t i
    if eol - a < 31 or s[a + 27] != 9:  # a tab after the 27-character time
        return 0
    i = a + 28
    while i < eol and s[i] == 32:
        i += 1
    f[0] = i
    while i < eol and is_digit(s[i]):
        i += 1
    if i == f[0] or i - f[0] > MAX_DIGITS or i >= eol or s[i] != 32:
        return 0
    f[1] = i
    i += 1
    if i >= eol or not is_upper(s[i]):
        return 0
    i += 1
    while i < eol and s[i] != 9:
        if s[i] == 32:
            # single spaces between words, none trailing
            if i + 1 >= eol or not is_alpha(s[i + 1]):
                return 0
        elif not is_alpha(s[i]):
            return 0
        i += 1
    f[2] = i
    f[3] = i + 1 if i < eol else eol
    return 1


def general_entry_at(str text, Py_ssize_t pos):
    """True when the line at `pos` is a MySQL 5.7/8 entry `_line` takes its fast path on."""
    return entry_at(text, pos, general_shape)


cdef bint general_continuation(chars s, Py_ssize_t a, Py_ssize_t eol) noexcept:
    """A line `_line` surely joins to the pending entry: not empty, not starting like an entry
    (digit, tab) and not possibly a server header line (`is_server_header`)."""
    cdef unsigned char first
    if eol == a:
        return False
    first = s[a]
    if is_digit(first) or first == 9 or first >= 128:
        return False
    if first == 47 or is_upper(first):  # / or a capital: header lines start so
        if eol - a >= 3 and (
            memcmp(s + a, b"Tcp", 3) == 0
            or memcmp(s + a, b"TCP", 3) == 0
            or (eol - a >= 4 and memcmp(s + a, b"Time", 4) == 0)
        ):
            return False
        if find(s, a, eol, b"mysqld,", 7) >= 0:
            return False
    return True


cdef bint no_continuation(chars s, Py_ssize_t a, Py_ssize_t eol) noexcept:
    """After a command other than a statement, `_line` joins no line to the entry."""
    return False


cdef bint multiline(chars s, Py_ssize_t a, Py_ssize_t b) noexcept:
    """The command [a, b) is one of `general.MULTILINE_COMMANDS`, whose argument may span lines."""
    if b - a == 5:
        return memcmp(s + a, b"Query", 5) == 0
    if b - a == 7:
        return memcmp(s + a, b"Prepare", 7) == 0 or memcmp(s + a, b"Execute", 7) == 0
    return False


def scan_general(
    str text,
    Py_ssize_t pos,
    Py_ssize_t start,
    list out,
    object event,
    object connect,
    object mask,
    Py_ssize_t max_bytes,
):
    """General-log entries from `pos` on, as `GeneralLogParser._line` and `_push` build them:
    each with its continuation lines, emitted once the line after them is seen to start an
    entry; returns the offset of the first line left to the caller."""
    if not one_byte(text):
        return pos
    cdef chars s = <chars>PyUnicode_DATA(text)
    cdef Py_ssize_t n = PyUnicode_GET_LENGTH(text)
    cdef Py_ssize_t f[4]
    cdef Py_ssize_t g[4]
    cdef Py_ssize_t eol, end, nxt
    cdef int kind
    cdef Extent e
    cdef object when, argument, command, fields
    cdef object next_when = None
    cdef Py_ssize_t next_at = -1
    while pos < n:
        eol = line_end(s, pos, n)
        if eol < 0 or not general_shape(s, pos, eol, f):
            break
        kind = line_kind(s, pos, eol)
        if kind == NOT_ASCII:
            break
        # Continuation lines (only a statement has them), then the line that must start the
        # next entry.
        e = extent(
            s,
            n,
            eol,
            eol - f[3],
            kind,
            general_continuation if multiline(s, f[1] + 1, f[2]) else no_continuation,
        )
        end = e.end
        nxt = e.next
        if e.next_eol < 0 or e.size > max_bytes or not general_shape(s, nxt, e.next_eol, g):
            break
        # The time of the next entry is needed to know it is one; it is its time too.
        when = next_when if next_at == pos else iso_time(s, pos)
        next_when = iso_time(s, nxt)
        next_at = nxt
        if next_when is None or when is None:
            break
        command = repeated(text, s, f[1] + 1, f[2], F_COMMAND)
        argument = PyUnicode_Substring(text, f[3], eol)
        fields = {"thread_id": digits(s, f[0], f[1]), "command": command, "argument": argument}
        if command == "Connect":
            connect(fields, argument)
        if end > eol:
            # `PendingEntry.take` joins the lines with newlines: the text as it is in the file.
            argument = PyUnicode_Substring(text, f[3], end)
            fields["argument"] = argument
        if e.kind == SECRET:
            fields["argument"] = mask(argument)
        out.append(event_new(event, start + pos, start + end + 1, fields, when))
        pos = end + 1
    return pos


# ---------------------------------------------------------------------------------- error log


cdef Py_ssize_t error_shape(chars s, Py_ssize_t a, Py_ssize_t eol, Py_ssize_t* f) noexcept:
    """The MySQL 8 entry `<time> <thread> [<Level>] [MY-<code>] [<Subsystem>][ <message>]` at
    [a, eol): fills f = thread end, level end, code end, subsystem end; 1 if it is one."""
    cdef Py_ssize_t i
    if eol - a < 40 or s[a + 27] != 32:
        return 0
    i = a + 28
    while i < eol and is_digit(s[i]):
        i += 1
    if i == a + 28 or i - (a + 28) > MAX_DIGITS or i + 1 >= eol or s[i] != 32 or s[i + 1] != 91:
        return 0
    f[0] = i
    i += 2
    while i < eol and is_alpha(s[i]):
        i += 1
    if i == f[0] + 2 or i + 5 >= eol or s[i] != 93 or s[i + 1] != 32:  # ] then a space
        return 0
    f[1] = i
    i += 2
    if memcmp(s + i, b"[MY-", 4) != 0:
        return 0
    i += 4
    while i < eol and is_digit(s[i]):
        i += 1
    if i == f[1] + 6 or i - (f[1] + 6) > MAX_DIGITS or i + 2 >= eol or s[i] != 93:
        return 0
    if s[i + 1] != 32 or s[i + 2] != 91:
        return 0
    f[2] = i
    i += 3
    while i < eol and s[i] != 93 and s[i] != 32:
        i += 1
    if i >= eol or s[i] != 93 or (i + 1 < eol and s[i + 1] != 32):
        return 0
    f[3] = i
    return 1


def error_entry_at(str text, Py_ssize_t pos):
    """True when the line at `pos` is a MySQL 8 entry `_line` takes its fast path on."""
    return entry_at(text, pos, error_shape)


cdef bint error_continuation(chars s, Py_ssize_t a, Py_ssize_t eol) noexcept:
    """A line `_line` surely joins to the pending entry: not empty, not starting with a digit."""
    return eol > a and not is_digit(s[a]) and s[a] < 128


def scan_error(
    str text,
    Py_ssize_t pos,
    Py_ssize_t start,
    list out,
    object event,
    dict levels,
    object mask,
    Py_ssize_t max_bytes,
):
    """Error-log entries from `pos` on, as `ErrorLogParser._line` and `_push` build them: each
    with its continuation lines (InnoDB dumps, stack traces), emitted once the line after them
    is seen to start an entry; returns the offset of the first line left to the caller."""
    if not one_byte(text):
        return pos
    cdef chars s = <chars>PyUnicode_DATA(text)
    cdef Py_ssize_t n = PyUnicode_GET_LENGTH(text)
    cdef Py_ssize_t f[4]
    cdef Py_ssize_t g[4]
    cdef Py_ssize_t eol, end, nxt, message_at
    cdef int kind
    cdef Extent e
    cdef object when, level, name, message
    cdef object next_when = None
    cdef Py_ssize_t next_at = -1
    while pos < n:
        eol = line_end(s, pos, n)
        if eol < 0 or not error_shape(s, pos, eol, f):
            break
        kind = line_kind(s, pos, eol)
        if kind == NOT_ASCII:
            break
        e = extent(s, n, eol, eol - pos, kind, error_continuation)
        end = e.end
        nxt = e.next
        if e.next_eol < 0 or e.size > max_bytes or not error_shape(s, nxt, e.next_eol, g):
            break
        # The time of the next entry is needed to know it is one; it is its time too.
        when = next_when if next_at == pos else iso_time(s, pos)
        next_when = iso_time(s, nxt)
        next_at = nxt
        if next_when is None or when is None:
            break
        name = PyUnicode_Substring(text, f[0] + 2, f[1])
        level = levels.get(name)
        if level is None:
            level = name.capitalize()
        # The message, with its continuation lines as `PendingEntry.take` joins them: the
        # text as it is in the file (from the newline when the first line has no message).
        message_at = f[3] + 2 if f[3] + 2 <= eol else eol
        message = PyUnicode_Substring(text, message_at, end) if end > message_at else ""
        if e.kind == SECRET and message:
            message = mask(message)
        out.append(
            event_new(
                event,
                start + pos,
                start + end + 1,
                {
                    "level": level,
                    "thread_id": digits(s, pos + 28, f[0]),
                    "error_code": repeated(text, s, f[1] + 3, f[2], F_CODE),
                    "subsystem": repeated(text, s, f[2] + 3, f[3], F_SUBSYSTEM),
                    "message": message,
                },
                when,
            )
        )
        pos = end + 1
    return pos
