# MD5 (RFC 1321) of a fingerprint, as pt-query-digest's query id: upper-case hex of the digest.
# Why here: hashlib's per-call cost (an object, a context, hexdigest, upper) was a third of the
# compiled fingerprint's time; a fingerprint is a few dozen bytes. Tests compare with hashlib.

from libc.stdint cimport uint32_t, uint64_t
from libc.string cimport memset

cdef uint32_t[64] MD5_K
cdef int[64] MD5_R = [
    7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22,
    5, 9, 14, 20, 5, 9, 14, 20, 5, 9, 14, 20, 5, 9, 14, 20,
    4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23,
    6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21,
]


def _md5_constants():
    from math import floor, sin
    cdef int i
    for i in range(64):
        MD5_K[i] = <uint32_t>(<uint64_t>floor(abs(sin(i + 1)) * 4294967296.0) & 0xFFFFFFFF)


_md5_constants()


cdef inline uint32_t rotl(uint32_t x, int c) noexcept nogil:
    return (x << c) | (x >> (32 - c))


cdef void md5_block(uint32_t* h, const unsigned char* p) noexcept nogil:
    cdef uint32_t w[16]
    cdef uint32_t a = h[0], b = h[1], c = h[2], d = h[3], f, t
    cdef int i, g
    for i in range(16):
        w[i] = p[4 * i] | (<uint32_t>p[4 * i + 1] << 8) | (<uint32_t>p[4 * i + 2] << 16) | (
            <uint32_t>p[4 * i + 3] << 24
        )
    for i in range(64):
        if i < 16:
            f = (b & c) | (~b & d)
            g = i
        elif i < 32:
            f = (d & b) | (~d & c)
            g = (5 * i + 1) & 15
        elif i < 48:
            f = b ^ c ^ d
            g = (3 * i + 5) & 15
        else:
            f = c ^ (b | ~d)
            g = (7 * i) & 15
        t = d
        d = c
        c = b
        b = b + rotl(a + f + MD5_K[i] + w[g], MD5_R[i])
        a = t
    h[0] += a
    h[1] += b
    h[2] += c
    h[3] += d


cdef str md5_hex_upper(chars s, Py_ssize_t n):
    cdef uint32_t h[4]
    cdef unsigned char tail[128]
    cdef Py_ssize_t i, rest
    cdef uint64_t bits = (<uint64_t>n) * 8
    cdef char out[32]
    h[0] = 0x67452301
    h[1] = 0xEFCDAB89
    h[2] = 0x98BADCFE
    h[3] = 0x10325476
    i = 0
    while i + 64 <= n:
        md5_block(h, s + i)
        i += 64
    rest = n - i
    memcpy(tail, s + i, rest)
    tail[rest] = 0x80
    cdef Py_ssize_t size = 64 if rest < 56 else 128
    memset(tail + rest + 1, 0, size - rest - 1)
    for i in range(8):
        tail[size - 8 + i] = (bits >> (8 * i)) & 0xFF
    md5_block(h, tail)
    if size == 128:
        md5_block(h, tail + 64)
    for i in range(16):
        out[2 * i] = HEX[(h[i >> 2] >> (8 * (i & 3) + 4)) & 15]
        out[2 * i + 1] = HEX[(h[i >> 2] >> (8 * (i & 3))) & 15]
    return PyUnicode_DecodeLatin1(out, 32, NULL)


def md5_upper(str text):
    """pt-query-digest's `make_checksum` of a latin-1 view: hashlib.md5(...).hexdigest().upper()."""
    if not one_byte(text):
        raise ValueError("not a latin-1 view")
    return md5_hex_upper(<chars>PyUnicode_DATA(text), PyUnicode_GET_LENGTH(text))
