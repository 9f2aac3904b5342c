# Times of the scanners (included by _scan.pyx): the MySQL 8 ISO time and µs since the epoch,
# as aware UTC datetimes, exactly as the Python parsers get them.

cdef inline int two(chars s, Py_ssize_t at) noexcept:
    return (s[at] - 48) * 10 + (s[at + 1] - 48)


cdef inline bint leap(int year) noexcept:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


cdef int days_in_month(int year, int month) noexcept:
    if month == 2:
        return 29 if leap(year) else 28
    if month == 4 or month == 6 or month == 9 or month == 11:
        return 30
    return 31


cdef object iso_time(chars s, Py_ssize_t a):
    """`YYYY-MM-DDTHH:MM:SS.ffffffZ` at `a` (27 characters, checked by the caller to exist) as
    an aware UTC datetime; None unless the shape is exact and the date and time valid."""
    cdef int k
    cdef int year, month, day, hour, minute, second, micro
    for k in range(26):
        if k == 4 or k == 7:
            if s[a + k] != 45:  # -
                return None
        elif k == 10:
            if s[a + k] != 84:  # T
                return None
        elif k == 13 or k == 16:
            if s[a + k] != 58:  # :
                return None
        elif k == 19:
            if s[a + k] != 46:  # .
                return None
        elif not is_digit(s[a + k]):
            return None
    if s[a + 26] != 90:  # Z
        return None
    year = two(s, a) * 100 + two(s, a + 2)
    month = two(s, a + 5)
    day = two(s, a + 8)
    hour = two(s, a + 11)
    minute = two(s, a + 14)
    second = two(s, a + 17)
    micro = 0
    for k in range(20, 26):
        micro = micro * 10 + (s[a + k] - 48)
    if year < 1 or month < 1 or month > 12 or day < 1 or day > days_in_month(year, month):
        return None
    if hour > 23 or minute > 59 or second > 59:
        return None
    return datetime_new(year, month, day, hour, minute, second, micro, UTC)


cdef object epoch_us_time(long long us):
    """µs since the epoch (0 <= us < 2100) as an aware UTC datetime (civil-from-days)."""
    cdef long long secs = us // 1000000
    cdef int micro = <int>(us % 1000000)
    cdef long long days = secs // 86400
    cdef int rem = <int>(secs % 86400)
    # Howard Hinnant's civil_from_days, for days >= 0.
    cdef long long z = days + 719468
    cdef long long era = z // 146097
    cdef long long doe = z - era * 146097
    cdef long long yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    cdef long long doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    cdef long long mp = (5 * doy + 2) // 153
    cdef int day = <int>(doy - (153 * mp + 2) // 5 + 1)
    cdef int month = <int>(mp + 3 if mp < 10 else mp - 9)
    cdef int year = <int>(yoe + era * 400 + (1 if month <= 2 else 0))
    return datetime_new(year, month, day, rem // 3600, (rem // 60) % 60, rem % 60, micro, UTC)
