/*
 * gossamer_codec.c: an independent implementation of the Gossamer v1 codec (protocol/SPEC.md),
 * speaking the conformance codec adapter protocol of SPEC.md section 11 on stdin/stdout.
 *
 * Written from SPEC.md alone, in C99 with no library beyond libc: its own CBOR encoder and decoder,
 * its own SHA-256. Build:  cc -O2 -std=c99 -o gossamer_codec gossamer_codec.c
 *
 * Every request is a u32 little-endian length and one CBOR map {"op": ..., args}; every answer is
 * {"ok": value} or {"error": "<ERROR_CODE_NAME>"} ([ADPT-1] .. [ADPT-4]).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <setjmp.h>
#include <float.h>
#include <math.h>

typedef unsigned char u8;

/* ------------------------------------------------------------------ errors */
static jmp_buf fail_jmp;
static const char *fail_code;
static void fail(const char *code) { fail_code = code; longjmp(fail_jmp, 1); }

/* ------------------------------------------------------------------ arena (freed after each request) */
typedef struct blk { struct blk *next; } blk;
static blk *arena_head;
static void *amalloc(size_t n) {
    blk *b = malloc(sizeof(blk) + n + 16);
    if (!b) { fprintf(stderr, "out of memory\n"); exit(3); }
    b->next = arena_head; arena_head = b;
    return (void *)(b + 1);
}
static void arena_free(void) { while (arena_head) { blk *n = arena_head->next; free(arena_head); arena_head = n; } }

/* ------------------------------------------------------------------ output buffer */
typedef struct { u8 *p; size_t n, cap; } buf;
static void bput(buf *b, const void *d, size_t n) {
    if (b->n + n > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->n + n) cap *= 2;
        u8 *p = amalloc(cap);
        if (b->n) memcpy(p, b->p, b->n);
        b->p = p; b->cap = cap;
    }
    if (n) memcpy(b->p + b->n, d, n);
    b->n += n;
}
static void bzero_(buf *b, size_t n) { static const u8 z[64]; while (n) { size_t k = n > 64 ? 64 : n; bput(b, z, k); n -= k; } }
static void le(u8 *p, uint64_t v, int n) { for (int i = 0; i < n; i++) p[i] = (u8)(v >> (8 * i)); }
static uint64_t rd(const u8 *p, int n) { uint64_t v = 0; for (int i = n - 1; i >= 0; i--) v = (v << 8) | p[i]; return v; }
static void ble(buf *b, uint64_t v, int n) { u8 t[8]; le(t, v, n); bput(b, t, n); }
static size_t align8(size_t n) { return (n + 7) & ~(size_t)7; }
static void bpad8(buf *b, size_t start) { bzero_(b, align8(b->n - start) - (b->n - start)); }

/* ------------------------------------------------------------------ CBOR encoding (deterministic) */
static void c_head(buf *b, int major, uint64_t v) {
    u8 t[9]; int n;
    if (v < 24) { t[0] = (u8)(major << 5 | v); n = 1; }
    else if (v <= 0xFF) { t[0] = (u8)(major << 5 | 24); t[1] = (u8)v; n = 2; }
    else if (v <= 0xFFFF) { t[0] = (u8)(major << 5 | 25); t[1] = (u8)(v >> 8); t[2] = (u8)v; n = 3; }
    else if (v <= 0xFFFFFFFFu) { t[0] = (u8)(major << 5 | 26); for (int i = 0; i < 4; i++) t[1 + i] = (u8)(v >> (24 - 8 * i)); n = 5; }
    else { t[0] = (u8)(major << 5 | 27); for (int i = 0; i < 8; i++) t[1 + i] = (u8)(v >> (56 - 8 * i)); n = 9; }
    bput(b, t, n);
}
static void c_uint(buf *b, uint64_t v) { c_head(b, 0, v); }
static void c_int(buf *b, int64_t v) { if (v >= 0) c_head(b, 0, (uint64_t)v); else c_head(b, 1, (uint64_t)(-(v + 1))); }
static void c_bytes(buf *b, const u8 *p, size_t n) { c_head(b, 2, n); bput(b, p, n); }
static void c_text(buf *b, const char *s) { size_t n = strlen(s); c_head(b, 3, n); bput(b, s, n); }
static void c_textn(buf *b, const u8 *s, size_t n) { c_head(b, 3, n); bput(b, s, n); }
static void c_array(buf *b, size_t n) { c_head(b, 4, n); }
static void c_map(buf *b, size_t n) { c_head(b, 5, n); }
static void c_null(buf *b) { u8 t = 0xF6; bput(b, &t, 1); }
static void c_bool(buf *b, int v) { u8 t = v ? 0xF5 : 0xF4; bput(b, &t, 1); }
static void c_double(buf *b, double d) { u8 t[9]; uint64_t u; memcpy(&u, &d, 8); t[0] = 0xFB; for (int i = 0; i < 8; i++) t[1 + i] = (u8)(u >> (56 - 8 * i)); bput(b, t, 9); }
static void c_optbytes(buf *b, const u8 *p, size_t n, int present) { if (present) c_bytes(b, p, n); else c_null(b); }

/* ------------------------------------------------------------------ CBOR well-formedness ([SER-2]) */
static int utf8_ok(const u8 *s, size_t n) {
    size_t i = 0;
    while (i < n) {
        u8 c = s[i];
        if (c < 0x80) { i++; continue; }
        int len; uint32_t cp, min;
        if ((c & 0xE0) == 0xC0) { len = 2; cp = c & 0x1F; min = 0x80; }
        else if ((c & 0xF0) == 0xE0) { len = 3; cp = c & 0x0F; min = 0x800; }
        else if ((c & 0xF8) == 0xF0) { len = 4; cp = c & 0x07; min = 0x10000; }
        else return 0;
        if (i + len > n) return 0;
        for (int k = 1; k < len; k++) { if ((s[i + k] & 0xC0) != 0x80) return 0; cp = cp << 6 | (s[i + k] & 0x3F); }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
        i += len;
    }
    return 1;
}

/* Returns the offset after one well-formed item starting at pos, or -1. depth counts open containers. */
static long wf_item(const u8 *d, size_t n, size_t pos, int depth) {
    if (pos >= n) return -1;
    u8 ib = d[pos++];
    int major = ib >> 5, info = ib & 31;
    uint64_t arg = 0; int indef = 0;
    if (info < 24) arg = info;
    else if (info <= 27) {
        int w = 1 << (info - 24);
        if (pos + w > n) return -1;
        for (int i = 0; i < w; i++) arg = arg << 8 | d[pos + i];
        pos += w;
    } else if (info == 31) {
        if (major == 0 || major == 1 || major == 6 || major == 7) return -1;
        indef = 1;
    } else return -1;
    switch (major) {
    case 0: case 1: return (long)pos;
    case 2: case 3:
        if (!indef) {
            if (arg > n - pos) return -1;
            if (major == 3 && !utf8_ok(d + pos, (size_t)arg)) return -1;
            return (long)(pos + arg);
        }
        for (;;) {
            if (pos >= n) return -1;
            if (d[pos] == 0xFF) return (long)(pos + 1);
            if ((d[pos] >> 5) != major || (d[pos] & 31) == 31) return -1;
            long e = wf_item(d, n, pos, depth);
            if (e < 0) return -1;
            pos = (size_t)e;
        }
    case 4: case 5:
        if (depth + 1 > 64) return -1;
        if (!indef) {
            uint64_t cnt = major == 5 ? arg * 2 : arg;
            if (arg > n || cnt > n - pos) return -1;
            for (uint64_t i = 0; i < cnt; i++) { long e = wf_item(d, n, pos, depth + 1); if (e < 0) return -1; pos = (size_t)e; }
            return (long)pos;
        }
        for (uint64_t i = 0;; i++) {
            if (pos >= n) return -1;
            if (d[pos] == 0xFF) { if (major == 5 && (i % 2)) return -1; return (long)(pos + 1); }
            long e = wf_item(d, n, pos, depth + 1);
            if (e < 0) return -1;
            pos = (size_t)e;
        }
    case 6:
        if (depth + 1 > 64) return -1;
        return wf_item(d, n, pos, depth + 1);
    default: /* 7 */
        if (info == 24 && arg < 32) return -1;
        return (long)pos;
    }
}
static double half_to_double(uint16_t h);
/* [DEC-6] step 5: the core deterministic re-encoding of a well-formed item (tags kept, [SER-5]); map keys compared so */
static int to_half(double x, uint16_t *h) {
    uint16_t s = signbit(x) ? 0x8000 : 0; double a = fabs(x);
    if (isinf(a)) { *h = s | 0x7C00; return 1; }
    if (a == 0) { *h = s; return 1; }
    int e; double m = frexp(a, &e); int E = e - 1;
    if (E > 15) return 0;
    if (E >= -14) { double f = ldexp(2 * m - 1, 10); if (f != floor(f)) return 0; *h = (uint16_t)(s | (E + 15) << 10 | (int)f); return 1; }
    double f = ldexp(a, 24); if (f != floor(f) || f >= 1024) return 0;
    *h = (uint16_t)(s | (int)f); return 1;
}
typedef struct { buf k, v; } kv;
static int kv_cmp(const void *x, const void *y) {
    const buf *a = &((const kv *)x)->k, *b = &((const kv *)y)->k;
    int c = memcmp(a->p, b->p, a->n < b->n ? a->n : b->n);
    return c ? c : (a->n > b->n) - (a->n < b->n);
}
static int dup_keys; /* set by canon when a map holds a key twice */
static size_t canon(const u8 *d, size_t pos, buf *b) {
    u8 ib = d[pos++]; int major = ib >> 5, info = ib & 31; uint64_t arg = 0; int indef = info == 31;
    if (info < 24) arg = info;
    else if (info <= 27) { int w = 1 << (info - 24); for (int i = 0; i < w; i++) arg = arg << 8 | d[pos + i]; pos += w; }
    switch (major) {
    case 0: case 1: c_head(b, major, arg); return pos;
    case 2: case 3:
        if (!indef) { c_head(b, major, arg); bput(b, d + pos, (size_t)arg); return pos + (size_t)arg; }
        { buf t = {0}; while (d[pos] != 0xFF) { buf c = {0}; pos = canon(d, pos, &c); size_t h = c.n > 0 ? (c.p[0] & 31) : 0;
              size_t skip = h < 24 ? 1 : 1 + ((size_t)1 << (h - 24)); bput(&t, c.p + skip, c.n - skip); }
          c_head(b, major, t.n); bput(b, t.p, t.n); return pos + 1; }
    case 4: {
        buf t = {0}; uint64_t k = 0;
        for (; indef ? d[pos] != 0xFF : k < arg; k++) pos = canon(d, pos, &t);
        c_head(b, 4, k); bput(b, t.p, t.n); return indef ? pos + 1 : pos;
    }
    case 5: {
        size_t cap = 8, k = 0; kv *e = amalloc(cap * sizeof(kv));
        for (; indef ? d[pos] != 0xFF : k < arg; k++) {
            if (k == cap) { kv *m = amalloc(2 * cap * sizeof(kv)); memcpy(m, e, cap * sizeof(kv)); e = m; cap *= 2; }
            memset(&e[k], 0, sizeof(kv)); pos = canon(d, pos, &e[k].k); pos = canon(d, pos, &e[k].v);
        }
        if (k) qsort(e, k, sizeof(kv), kv_cmp);
        c_head(b, 5, k);
        for (size_t i = 0; i < k; i++) {
            if (i && kv_cmp(&e[i - 1], &e[i]) == 0) dup_keys = 1;
            bput(b, e[i].k.p, e[i].k.n); bput(b, e[i].v.p, e[i].v.n);
        }
        return indef ? pos + 1 : pos;
    }
    case 6: c_head(b, 6, arg); return canon(d, pos, b);
    default: {
        double x; uint16_t h;
        if (info == 25) { x = half_to_double((uint16_t)arg); }
        else if (info == 26) { uint32_t w = (uint32_t)arg; float f; memcpy(&f, &w, 4); x = f; }
        else if (info == 27) { memcpy(&x, &arg, 8); }
        else { c_head(b, 7, arg); return pos; }
        u8 t[9];
        if (isnan(x)) { t[0] = 0xF9; t[1] = 0x7E; t[2] = 0; bput(b, t, 3); }
        else if (to_half(x, &h)) { t[0] = 0xF9; t[1] = (u8)(h >> 8); t[2] = (u8)h; bput(b, t, 3); }
        else if ((double)(float)x == x) { float f = (float)x; uint32_t w; memcpy(&w, &f, 4); t[0] = 0xFA; for (int i = 0; i < 4; i++) t[1 + i] = (u8)(w >> (24 - 8 * i)); bput(b, t, 5); }
        else c_double(b, x);
        return pos;
    }
    }
}
static int cbor_one_item(const u8 *d, size_t n) {
    long e = wf_item(d, n, 0, 0);
    if (e < 0 || (size_t)e != n) return 0;
    buf t = {0}; dup_keys = 0; canon(d, 0, &t); /* [DEC-6] step 5 */
    return !dup_keys;
}

/* ------------------------------------------------------------------ CBOR decoding into values ([DEC-6]: indefinite
 * lengths too; callers check well-formedness with wf_item first) */
enum { T_UINT, T_NINT, T_BYTES, T_TEXT, T_ARRAY, T_MAP, T_FALSE, T_TRUE, T_NULL, T_UNDEF, T_FLOAT };
typedef struct val { int t; uint64_t u; double f; const u8 *p; size_t n; struct val *items; int tagged; } val;

static double half_to_double(uint16_t h) {
    int e = (h >> 10) & 0x1F, m = h & 0x3FF; double v;
    if (e == 0) v = ldexp(m, -24); else if (e == 31) v = m ? NAN : INFINITY; else v = ldexp(m + 1024, e - 25);
    return (h & 0x8000) ? -v : v;
}
static size_t parse(const u8 *d, size_t n, size_t pos, val *out, int depth);
/* An indefinite-length string (its chunks joined) or array or map (its items up to the break). */
static size_t parse_indefinite(const u8 *d, size_t n, size_t pos, int major, val *out, int depth) {
    buf s = {0}; size_t cnt = 0, cap = 8; val *items = amalloc(sizeof(val) * cap);
    while (pos < n && d[pos] != 0xFF) {
        if (major <= 3) {
            val ch; pos = parse(d, n, pos, &ch, depth + 1);
            if (ch.t != (major == 2 ? T_BYTES : T_TEXT)) fail("BAD_ARGUMENT");
            bput(&s, ch.p, ch.n);
            continue;
        }
        if (cnt == cap) { val *more = amalloc(sizeof(val) * cap * 2); memcpy(more, items, sizeof(val) * cap); items = more; cap *= 2; }
        pos = parse(d, n, pos, &items[cnt++], depth + 1);
    }
    if (pos >= n || (major == 5 && cnt % 2)) fail("BAD_ARGUMENT");
    memset(out, 0, sizeof *out);
    if (major <= 3) { out->t = major == 2 ? T_BYTES : T_TEXT; out->p = s.p ? s.p : d; out->n = s.n; }
    else { out->t = major == 4 ? T_ARRAY : T_MAP; out->n = major == 5 ? cnt / 2 : cnt; out->items = items; }
    return pos + 1;
}
static size_t parse(const u8 *d, size_t n, size_t pos, val *out, int depth) {
    if (pos >= n || depth > 200) fail("BAD_ARGUMENT");
    u8 ib = d[pos++];
    int major = ib >> 5, info = ib & 31;
    uint64_t arg = 0;
    if (info < 24) arg = info;
    else if (info <= 27) { int w = 1 << (info - 24); if (pos + w > n) fail("BAD_ARGUMENT"); for (int i = 0; i < w; i++) arg = arg << 8 | d[pos + i]; pos += w; }
    else if (info == 31 && major >= 2 && major <= 5) return parse_indefinite(d, n, pos, major, out, depth);
    else fail("BAD_ARGUMENT");
    memset(out, 0, sizeof *out);
    switch (major) {
    case 0: out->t = T_UINT; out->u = arg; return pos;
    case 1: out->t = T_NINT; out->u = arg; return pos;
    case 2: case 3: if (arg > n - pos) fail("BAD_ARGUMENT"); out->t = major == 2 ? T_BYTES : T_TEXT; out->p = d + pos; out->n = (size_t)arg; return pos + (size_t)arg;
    case 4: case 5: {
        uint64_t cnt = major == 5 ? arg * 2 : arg;
        if (arg > n || cnt > n - pos) fail("BAD_ARGUMENT");
        out->t = major == 4 ? T_ARRAY : T_MAP; out->n = (size_t)arg;
        out->items = amalloc(sizeof(val) * (size_t)(cnt ? cnt : 1));
        for (uint64_t i = 0; i < cnt; i++) pos = parse(d, n, pos, &out->items[i], depth + 1);
        return pos;
    }
    case 6: { size_t end = parse(d, n, pos, out, depth + 1); out->tagged = 1; return end; } /* tags: content stands for itself, marked tagged */
    default:
        if (info == 20) out->t = T_FALSE; else if (info == 21) out->t = T_TRUE; else if (info == 22) out->t = T_NULL;
        else if (info == 25) { out->t = T_FLOAT; out->f = half_to_double((uint16_t)arg); }
        else if (info == 26) { uint32_t u = (uint32_t)arg; float f; memcpy(&f, &u, 4); out->t = T_FLOAT; out->f = f; }
        else if (info == 27) { out->t = T_FLOAT; memcpy(&out->f, &arg, 8); }
        else out->t = T_UNDEF;
        return pos;
    }
}

static val *get(val *m, const char *key) {
    if (!m || m->t != T_MAP) return NULL;
    size_t kl = strlen(key);
    for (size_t i = 0; i < m->n; i++) {
        val *k = &m->items[2 * i];
        if (k->t == T_TEXT && k->n == kl && memcmp(k->p, key, kl) == 0) return &m->items[2 * i + 1];
    }
    return NULL;
}
static val *need(val *m, const char *key) { val *v = get(m, key); if (!v) fail("BAD_ARGUMENT"); return v; }
static uint64_t as_u(val *v) { if (!v || v->t != T_UINT) fail("BAD_ARGUMENT"); return v->u; }
static uint64_t geti(val *m, const char *k, uint64_t dflt) { val *v = get(m, k); return (v && v->t != T_NULL) ? as_u(v) : dflt; }
static int has(val *m, const char *k) { val *v = get(m, k); return v && v->t != T_NULL; }
static val *as_array(val *v) { if (!v || v->t != T_ARRAY) fail("BAD_ARGUMENT"); return v; }
static void as_bytes(val *v, const u8 **p, size_t *n) { if (!v || v->t != T_BYTES) fail("BAD_ARGUMENT"); *p = v->p; *n = v->n; }
static int text_is(val *v, const char *s) { return v && v->t == T_TEXT && v->n == strlen(s) && memcmp(v->p, s, v->n) == 0; }

/* ------------------------------------------------------------------ SHA-256 ([CID-1]) */
static const uint32_t K256[64] = {
    0x428a2f98,0x71374491,0xb5c0fbcf,0xe9b5dba5,0x3956c25b,0x59f111f1,0x923f82a4,0xab1c5ed5,0xd807aa98,0x12835b01,0x243185be,0x550c7dc3,
    0x72be5d74,0x80deb1fe,0x9bdc06a7,0xc19bf174,0xe49b69c1,0xefbe4786,0x0fc19dc6,0x240ca1cc,0x2de92c6f,0x4a7484aa,0x5cb0a9dc,0x76f988da,
    0x983e5152,0xa831c66d,0xb00327c8,0xbf597fc7,0xc6e00bf3,0xd5a79147,0x06ca6351,0x14292967,0x27b70a85,0x2e1b2138,0x4d2c6dfc,0x53380d13,
    0x650a7354,0x766a0abb,0x81c2c92e,0x92722c85,0xa2bfe8a1,0xa81a664b,0xc24b8b70,0xc76c51a3,0xd192e819,0xd6990624,0xf40e3585,0x106aa070,
    0x19a4c116,0x1e376c08,0x2748774c,0x34b0bcb5,0x391c0cb3,0x4ed8aa4a,0x5b9cca4f,0x682e6ff3,0x748f82ee,0x78a5636f,0x84c87814,0x8cc70208,
    0x90befffa,0xa4506ceb,0xbef9a3f7,0xc67178f2};
#define ROR(x, n) (((x) >> (n)) | ((x) << (32 - (n))))
static void sha256_block(uint32_t h[8], const u8 *p) {
    uint32_t w[64];
    for (int i = 0; i < 16; i++) w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 | (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
    for (int i = 16; i < 64; i++) {
        uint32_t s0 = ROR(w[i - 15], 7) ^ ROR(w[i - 15], 18) ^ (w[i - 15] >> 3), s1 = ROR(w[i - 2], 17) ^ ROR(w[i - 2], 19) ^ (w[i - 2] >> 10);
        w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
    uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], hh = h[7];
    for (int i = 0; i < 64; i++) {
        uint32_t t1 = hh + (ROR(e, 6) ^ ROR(e, 11) ^ ROR(e, 25)) + ((e & f) ^ (~e & g)) + K256[i] + w[i];
        uint32_t t2 = (ROR(a, 2) ^ ROR(a, 13) ^ ROR(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
        hh = g; g = f; f = e; e = d + t1; d = c; c = b; b = a; a = t1 + t2;
    }
    h[0] += a; h[1] += b; h[2] += c; h[3] += d; h[4] += e; h[5] += f; h[6] += g; h[7] += hh;
}
static uint64_t closure_id(const u8 *s, size_t n) {
    uint32_t h[8] = {0x6a09e667,0xbb67ae85,0x3c6ef372,0xa54ff53a,0x510e527f,0x9b05688c,0x1f83d9ab,0x5be0cd19};
    u8 blk[64]; size_t i = 0;
    for (; i + 64 <= n; i += 64) sha256_block(h, s + i);
    size_t r = n - i; memset(blk, 0, 64); memcpy(blk, s + i, r); blk[r] = 0x80;
    if (r >= 56) { sha256_block(h, blk); memset(blk, 0, 64); }
    uint64_t bits = (uint64_t)n * 8;
    for (int k = 0; k < 8; k++) blk[63 - k] = (u8)(bits >> (8 * k));
    sha256_block(h, blk);
    u8 dig[8]; for (int k = 0; k < 2; k++) for (int j = 0; j < 4; j++) dig[4 * k + j] = (u8)(h[k] >> (24 - 8 * j));
    return rd(dig, 8);
}

/* ------------------------------------------------------------------ layouts ([LAYOUT-1] .. [LAYOUT-3]) */
enum { K_U, K_I, K_F, K_BOOL, K_BYTES };
typedef struct { int kind, size; } field;
typedef struct { int n; field *f; long size; } layout; /* no limit on the number of fields */

static void parse_layout(const u8 *s, size_t n, layout *L) {
    L->n = 0; L->size = 0; L->f = amalloc(sizeof(field) * (n / 2 + 1)); /* each field takes >= 2 characters */
    size_t i = 0;
    while (i < n) {
        while (i < n && s[i] == ' ') i++;
        if (i >= n) break;
        size_t j = i; char tok[32]; size_t tl = 0;
        while (j < n && s[j] != ' ') { if (tl < 31) tok[tl++] = (char)s[j]; j++; } /* [DEC-7]: case-sensitive */
        tok[tl] = 0;
        if (j - i > 31) fail("NOREF");
        field f;
        if (!strcmp(tok, "u8")) f = (field){K_U, 1}; else if (!strcmp(tok, "u16")) f = (field){K_U, 2};
        else if (!strcmp(tok, "u32")) f = (field){K_U, 4}; else if (!strcmp(tok, "u64")) f = (field){K_U, 8};
        else if (!strcmp(tok, "i8")) f = (field){K_I, 1}; else if (!strcmp(tok, "i16")) f = (field){K_I, 2};
        else if (!strcmp(tok, "i32")) f = (field){K_I, 4}; else if (!strcmp(tok, "i64")) f = (field){K_I, 8};
        else if (!strcmp(tok, "f32")) f = (field){K_F, 4}; else if (!strcmp(tok, "f64")) f = (field){K_F, 8};
        else if (!strcmp(tok, "bool")) f = (field){K_BOOL, 1};
        else if (!strncmp(tok, "bytes", 5) && tl > 5 && tok[5] != '0') { /* [DEC-7]: no leading zeros */
            long v = 0;
            for (size_t k = 5; k < tl; k++) { if (tok[k] < '0' || tok[k] > '9') fail("NOREF"); v = v * 10 + (tok[k] - '0'); if (v > 1000000) break; }
            if (v < 1 || v > 65536) fail("NOREF");
            f = (field){K_BYTES, (int)v};
        } else fail("NOREF"); /* [LAYOUT-3]: anything but a fixed-size plain value */
        L->f[L->n++] = f; L->size += f.size;
        i = j;
    }
    if (L->size > (1 << 20)) fail("NOREF"); /* [DEC-7]: a layout takes at most 1 MiB */
}

/* ------------------------------------------------------------------ closures */
typedef struct { uint64_t id; const u8 *name; size_t name_n; uint32_t csize; int pkind; uint32_t m; int rcbor; uint32_t rsize; layout cap; } shape;
enum { P_NONE, P_VAR, P_FIXED };

static void parse_param(val *v, shape *s) {
    s->pkind = P_NONE; s->m = 0;
    if (!v || v->t == T_NULL || (v->t == T_TEXT && v->n == 0)) return;
    if (text_is(v, "cbor")) { s->pkind = P_VAR; return; }
    if (v->t == T_TEXT && v->n > 5 && v->n < 12 && memcmp(v->p, "cbor:", 5) == 0 && v->p[5] != '0') {
        long m = 0;
        for (size_t i = 5; i < v->n; i++) { if (v->p[i] < '0' || v->p[i] > '9') fail("BAD_ARGUMENT"); m = m * 10 + (v->p[i] - '0'); }
        if (m >= 1 && m <= 65536) { s->pkind = P_FIXED; s->m = (uint32_t)m; return; }
    }
    fail("BAD_ARGUMENT");
}
static void parse_result(val *v, shape *s) {
    if (v && text_is(v, "cbor")) { s->rcbor = 1; s->rsize = 0; return; }
    layout L; s->rcbor = 0;
    if (!v || v->t == T_NULL) { s->rsize = 0; return; }
    if (v->t != T_TEXT) fail("BAD_ARGUMENT"); /* [ADPT-19]: a layout that is not text */
    parse_layout(v->p, v->n, &L); s->rsize = (uint32_t)L.size;
}
static void parse_closure(val *d, shape *s) {
    val *cap = need(d, "capture");
    if (cap->t != T_TEXT) fail("BAD_ARGUMENT"); /* [ADPT-19]: a layout that is not text */
    parse_layout(cap->p, cap->n, &s->cap); s->csize = (uint32_t)s->cap.size;
    parse_result(get(d, "result"), s);
    parse_param(get(d, "param"), s);
    s->id = as_u(need(d, "id"));
    val *nm = need(d, "name"); if (nm->t != T_TEXT) fail("BAD_ARGUMENT");
    s->name = nm->p; s->name_n = nm->n;
}
typedef struct { int n; shape *s; } shapes;
static shapes parse_closures(val *arr) {
    shapes S; as_array(arr);
    S.n = (int)arr->n; S.s = amalloc(sizeof(shape) * (arr->n + 1));
    for (size_t i = 0; i < arr->n; i++) parse_closure(&arr->items[i], &S.s[i]);
    return S;
}
static shape *find(shapes *S, uint64_t id) { for (int i = 0; i < S->n; i++) if (S->s[i].id == id) return &S->s[i]; return NULL; }

/* ------------------------------------------------------------------ config */
typedef struct { uint32_t slot_size, table_k; uint64_t fallback_limit; } config;
static config get_config(val *a) {
    config c = {1024, 4, 64u << 20};
    val *m = get(a, "config");
    if (m && m->t == T_MAP) { c.slot_size = (uint32_t)geti(m, "slot_size", 1024); c.table_k = (uint32_t)geti(m, "table_k", 4); c.fallback_limit = geti(m, "fallback_limit", 64u << 20); }
    if (c.slot_size < 64 || c.slot_size > 65536 || c.slot_size % 64) fail("BAD_ARGUMENT"); /* [SLOT-3] */
    if (c.table_k > 32) fail("BAD_ARGUMENT"); /* [VT-1] */
    if (c.fallback_limit > 0xFFFFFFFFu) fail("BAD_ARGUMENT"); /* [ADPT-19] */
    return c;
}

/* ------------------------------------------------------------------ request batches (sections 1, 3, 4, 7) */
typedef struct { uint64_t prop, cid; const u8 *cap; size_t capn; const u8 *param; size_t pn; int has_param; } request;
typedef struct { request r; shape *s; int ref, fallback; } placed;
typedef struct { config c; shapes *S; uint64_t table[32]; int tlen; placed *e; int count; size_t used; } builder;

static request get_request(val *v) {
    request r; memset(&r, 0, sizeof r);
    r.prop = as_u(need(v, "property")); r.cid = as_u(need(v, "closure_id"));
    as_bytes(need(v, "captured"), &r.cap, &r.capn);
    if (has(v, "param")) { as_bytes(get(v, "param"), &r.param, &r.pn); r.has_param = 1; }
    return r;
}
static size_t param_wire(shape *s, request *r) { return !r->has_param ? 0 : (s->pkind == P_FIXED ? r->pn : 4 + r->pn); }
static shape *check_request(shapes *S, request *r) {
    shape *s = find(S, r->cid);
    if (!s) fail("UNKNOWN_CLOSURE"); /* [VT-5] */
    if (r->prop >> 48) fail("BAD_ARGUMENT"); /* [REQ-1]; pointer 0 is entrust's ([TRUST-3]) */
    if (r->capn != s->csize) fail("BAD_ARGUMENT"); /* [REQ-3] */
    if ((s->pkind != P_NONE) != r->has_param) fail("BAD_ARGUMENT"); /* [REQ-4] */
    if (s->pkind == P_FIXED && r->pn != s->m) fail("BAD_ARGUMENT"); /* [SER-3] */
    if (r->has_param && !cbor_one_item(r->param, r->pn)) fail("BAD_ARGUMENT"); /* [DEC-8] step 5 */
    return s;
}
static void builder_init(builder *b, config c, shapes *S, size_t max) { memset(b, 0, sizeof *b); b->c = c; b->S = S; b->used = 16; b->e = amalloc(sizeof(placed) * (max + 1)); }
/* [SLOT-10], [VT-3], [FB-1]: add while the request fits; returns 0 when a new batch is needed. */
static int try_add(builder *b, request *r) {
    shape *s = check_request(b->S, r);
    if (b->count >= 255) return 0;
    size_t inl = align8(8 + s->csize + param_wire(s, r));
    int fallback = 24 + inl > b->c.slot_size;
    if (fallback && r->capn + r->pn > b->c.fallback_limit) fail("OVERSIZE"); /* [DEC-8] step 5, [FB-2] */
    size_t size = fallback ? 16 : inl, extra = 0;
    int ref = -1;
    for (int i = 0; i < b->tlen; i++) if (b->table[i] == r->cid) ref = i;
    if (ref < 0) { extra = 8; ref = b->tlen < (int)b->c.table_k ? b->tlen : 0xFF; }
    if (b->used + extra + size > b->c.slot_size) return 0;
    if (ref != 0xFF && ref == b->tlen) b->table[b->tlen++] = r->cid;
    b->used += extra + size;
    b->e[b->count++] = (placed){*r, s, ref, fallback};
    return 1;
}
static void frame_out(buf *b, int kind, uint32_t slot, uint32_t seq, uint32_t index, const u8 *p1, size_t n1, const u8 *p2, size_t n2) {
    buf f = {0};
    ble(&f, 0x42465347u, 4); ble(&f, (uint64_t)kind, 1); ble(&f, 0, 1); ble(&f, slot, 2); ble(&f, seq, 4); ble(&f, index, 2); ble(&f, 0, 2); ble(&f, n1 + n2, 4);
    bput(&f, p1, n1); bput(&f, p2, n2);
    c_bytes(b, f.p, f.n);
}
static void builder_finish(builder *b, uint32_t seq, uint32_t slot_id, buf *out) {
    if (seq == 0) fail("BAD_ARGUMENT"); /* [LAND-4] */
    buf img = {0};
    u8 h[8]; le(h, seq, 4); le(h + 4, b->used / 8, 2); h[6] = (u8)b->count; h[7] = (u8)b->tlen;
    bput(&img, h, 8);
    for (int i = 0; i < b->tlen; i++) ble(&img, b->table[i], 8);
    int nframes = 0;
    for (int i = 0; i < b->count; i++) {
        placed *p = &b->e[i]; size_t start = img.n;
        ble(&img, p->r.prop | (uint64_t)p->ref << 48 | (uint64_t)(p->fallback ? 1 : 0) << 56, 8);
        if (p->ref == 0xFF) ble(&img, p->r.cid, 8);
        if (p->fallback) { ble(&img, p->r.capn + p->r.pn, 4); ble(&img, 0, 4); nframes++; continue; }
        bput(&img, p->r.cap, p->r.capn);
        if (p->r.has_param) { if (p->s->pkind == P_VAR) ble(&img, p->r.pn, 4); bput(&img, p->r.param, p->r.pn); }
        bpad8(&img, start);
    }
    bput(&img, h, 8);
    c_map(out, 2); c_text(out, "image"); c_bytes(out, img.p, img.n);
    c_text(out, "frames"); c_array(out, (size_t)nframes); /* [FB-4]: in entry order */
    for (int i = 0; i < b->count; i++)
        if (b->e[i].fallback) frame_out(out, 1, slot_id, seq, (uint32_t)i, b->e[i].r.cap, b->e[i].r.capn, b->e[i].r.param, b->e[i].r.pn);
}

static void op_encode_request_batch(val *a, buf *out) {
    config c = get_config(a); shapes S = parse_closures(need(a, "closures"));
    val *rs = as_array(need(a, "requests"));
    uint64_t seq = as_u(need(a, "seq"));
    if (seq == 0 || seq > 0xFFFFFFFFu) fail("BAD_ARGUMENT"); /* [DEC-8] step 2 */
    uint64_t slot_id = as_u(need(a, "slot_id"));
    if (slot_id > 0xFFFF) fail("BAD_ARGUMENT"); /* [DEC-8] step 3 */
    if (!rs->n) fail("BAD_ARGUMENT"); /* [DEC-8] step 4, [SLOT-6] */
    builder b; builder_init(&b, c, &S, rs->n);
    for (size_t i = 0; i < rs->n; i++) { request r = get_request(&rs->items[i]); if (!try_add(&b, &r)) fail("OVERSIZE"); /* [SLOT-4] */ }
    builder_finish(&b, (uint32_t)seq, (uint32_t)slot_id, out);
}
static void op_pack_requests(val *a, buf *out) {
    config c = get_config(a); shapes S = parse_closures(need(a, "closures"));
    val *rs = as_array(need(a, "requests"));
    size_t *counts = amalloc(sizeof(size_t) * (rs->n + 1)); size_t nb = 0;
    builder b; builder_init(&b, c, &S, rs->n);
    for (size_t i = 0; i < rs->n; i++) {
        request r = get_request(&rs->items[i]);
        if (!try_add(&b, &r)) { counts[nb++] = (size_t)b.count; builder_init(&b, c, &S, rs->n); if (!try_add(&b, &r)) fail("OVERSIZE"); }
    }
    if (b.count) counts[nb++] = (size_t)b.count;
    c_map(out, 1); c_text(out, "counts"); c_array(out, nb);
    for (size_t i = 0; i < nb; i++) c_uint(out, counts[i]);
}

/* [LAND-5] / [RSP-6] header checks, in the spec's order. */
static void read_header(const u8 *img, size_t n, config *c, val *a, uint32_t *seq, size_t *len, int *count, int *b7) {
    if (has(a, "expected_seq") && (as_u(get(a, "expected_seq")) == 0 || as_u(get(a, "expected_seq")) > 0xFFFFFFFFu)) fail("BAD_ARGUMENT");
    if (has(a, "imm_seq16") && as_u(get(a, "imm_seq16")) > 0xFFFF) fail("BAD_ARGUMENT"); /* [ADPT-19] */
    if (n < 8) fail("TRUNCATED");
    *seq = (uint32_t)rd(img, 4); *len = (size_t)rd(img + 4, 2) * 8; *count = img[6]; *b7 = img[7];
    if (has(a, "expected_seq") && *seq != as_u(get(a, "expected_seq"))) fail("STALE_SEQUENCE");
    if (has(a, "imm_seq16") && (*seq & 0xFFFF) != as_u(get(a, "imm_seq16"))) fail("STALE_SEQUENCE");
    if (*len > c->slot_size) fail("BAD_HEADER"); /* [SLOT-4] */
    if (*len < 16) fail("BAD_HEADER");
    if (*len > n) fail("TRUNCATED");
}

typedef struct { uint64_t prop, cid; const u8 *cap; size_t capn; const u8 *param; size_t pn; int has_param; int64_t fb; } dreq;

static int decode_requests(const u8 *img, size_t n, config c, shapes *S, val *a, uint32_t *seq_out, uint64_t *table, int *tl_out, dreq **out) {
    uint32_t seq; size_t len; int count, tl;
    read_header(img, n, &c, a, &seq, &len, &count, &tl);
    if (count == 0) fail("BAD_HEADER"); /* [SLOT-6] */
    if ((uint32_t)tl > c.table_k) fail("BAD_HEADER"); /* [VT-2] */
    size_t end = len - 8;
    if (memcmp(img, img + end, 8)) fail("TORN"); /* [SLOT-7] */
    size_t off = 8 + 8 * (size_t)tl;
    if (off > end) fail("TRUNCATED");
    shape *ts[32];
    for (int i = 0; i < tl; i++) { table[i] = rd(img + 8 + 8 * i, 8); ts[i] = find(S, table[i]); if (!ts[i]) fail("UNKNOWN_CLOSURE"); }
    dreq *R = amalloc(sizeof(dreq) * (size_t)count);
    for (int i = 0; i < count; i++) {
        size_t start = off; dreq *r = &R[i]; memset(r, 0, sizeof *r); r->fb = -1;
        if (off + 8 > end) fail("TRUNCATED");
        uint64_t w = rd(img + off, 8); off += 8;
        int ref = (int)(w >> 48 & 0xFF), flags = (int)(w >> 56);
        shape *s;
        if (ref < tl) { r->cid = table[ref]; s = ts[ref]; }
        else if (ref == 0xFF) {
            if (off + 8 > end) fail("TRUNCATED");
            r->cid = rd(img + off, 8); off += 8;
            s = find(S, r->cid); if (!s) fail("UNKNOWN_CLOSURE"); /* [VT-5] */
        } else fail("BAD_HEADER"); /* [VT-4] */
        r->prop = w & 0xFFFFFFFFFFFFull;
        if (flags) {
            if (flags != 1) fail("BAD_HEADER"); /* [REQ-2] */
            if (off + 8 > end) fail("TRUNCATED");
            uint64_t plen = rd(img + off, 4), zero = rd(img + off + 4, 4); off += 8;
            if (zero) fail("BAD_HEADER");
            if (plen > c.fallback_limit) fail("OVERSIZE"); /* [FB-6] */
            r->fb = (int64_t)plen; r->cap = img; r->capn = 0;
            continue;
        }
        if (off + s->csize > end) fail("TRUNCATED");
        r->cap = img + off; r->capn = s->csize; off += s->csize;
        if (s->pkind != P_NONE) {
            size_t m = s->m;
            if (s->pkind == P_VAR) {
                if (off + 4 > end) fail("TRUNCATED");
                m = (size_t)rd(img + off, 4); off += 4;
                if (m > c.slot_size) fail("OVERSIZE"); /* [REQ-5] */
            }
            if (off + m > end) fail("TRUNCATED");
            r->param = img + off; r->pn = m; r->has_param = 1; off += m;
        }
        off = start + align8(off - start);
        if (off > end) fail("TRUNCATED");
    }
    if (off != end) fail("BAD_HEADER"); /* [SLOT-8] */
    *seq_out = seq; *tl_out = tl; *out = R;
    return count;
}
static void op_decode_request_batch(val *a, buf *out) {
    config c = get_config(a); shapes S = parse_closures(need(a, "closures"));
    const u8 *img; size_t n; as_bytes(need(a, "image"), &img, &n);
    uint32_t seq; uint64_t table[32]; int tl; dreq *R;
    int count = decode_requests(img, n, c, &S, a, &seq, table, &tl, &R);
    c_map(out, 3); c_text(out, "seq"); c_uint(out, seq);
    c_text(out, "table"); c_array(out, (size_t)tl); for (int i = 0; i < tl; i++) c_uint(out, table[i]);
    c_text(out, "requests"); c_array(out, (size_t)count);
    for (int i = 0; i < count; i++) {
        dreq *r = &R[i];
        c_map(out, 5); c_text(out, "property"); c_uint(out, r->prop); c_text(out, "closure_id"); c_uint(out, r->cid);
        c_text(out, "captured"); c_bytes(out, r->cap, r->capn); c_text(out, "param"); c_optbytes(out, r->param, r->pn, r->has_param);
        c_text(out, "fallback_len"); if (r->fb >= 0) c_uint(out, (uint64_t)r->fb); else c_null(out);
    }
}

static void op_attach_payload(val *a, buf *out) {
    shapes S = parse_closures(need(a, "closures"));
    shape *s = find(&S, as_u(need(a, "closure_id"))); if (!s) fail("UNKNOWN_CLOSURE");
    uint64_t flen = as_u(need(a, "fallback_len")); const u8 *p; size_t n; as_bytes(need(a, "payload"), &p, &n);
    if (n != flen) fail("BAD_FRAME"); /* [FB-6] */
    if (n < s->csize) fail("BAD_FRAME");
    if (s->pkind == P_NONE && n != s->csize) fail("BAD_FRAME");
    if (s->pkind == P_FIXED && n != s->csize + s->m) fail("BAD_FRAME"); /* [FB-2] */
    c_map(out, 2); c_text(out, "captured"); c_bytes(out, p, s->csize);
    c_text(out, "param"); c_optbytes(out, p + s->csize, n - s->csize, s->pkind != P_NONE);
}

/* ------------------------------------------------------------------ responses (section 5) */
static int entry_status(uint64_t st) { /* section 9 rows of level "entry", and [FB-6] codes */
    return st == 0x00 || st == 0x11 || st == 0x14 || st == 0x16 || st == 0x19 || st == 0x21 || st == 0x22 || st == 0x1B || st == 0x15
        || st == 0x1D; /* [ERR-5] */
}
static int batch_level(uint64_t st) { return st == 0x10 || st == 0x12 || st == 0x13 || st == 0x15 || st == 0x17 || st == 0x18; }

static void op_encode_response_batch(val *a, buf *out) {
    config c = get_config(a); val *rs = as_array(need(a, "responses"));
    uint64_t seq = as_u(need(a, "seq")), slot64 = as_u(need(a, "slot_id"));
    if (seq == 0 || seq > 0xFFFFFFFFu || slot64 > 0xFFFF) fail("BAD_ARGUMENT"); /* [DEC-8] */
    uint32_t slot = (uint32_t)slot64;
    size_t count = rs->n;
    if (count < 1 || count > 255) fail("BAD_ARGUMENT"); /* [RSP-2] */
    if (16 + 8 * count > c.slot_size) fail("BAD_ARGUMENT"); /* [DEC-8] step 4: not even as 8-byte entries */
    uint64_t *st = amalloc(8 * count); const u8 **res = amalloc(sizeof(u8 *) * count), **body = amalloc(sizeof(u8 *) * count);
    size_t *rn = amalloc(8 * count), *bn = amalloc(8 * count); int *inl = amalloc(sizeof(int) * count);
    size_t used = 16;
    for (size_t i = 0; i < count; i++) {
        val *r = &rs->items[i];
        st[i] = as_u(need(r, "status"));
        if (!entry_status(st[i])) fail("BAD_ARGUMENT");
        as_bytes(need(r, "result"), &res[i], &rn[i]);
        if (st[i] != 0 && rn[i]) fail("BAD_ARGUMENT"); /* [DEC-8] step 5, [RSP-8] */
        if (has(r, "body")) as_bytes(get(r, "body"), &body[i], &bn[i]); else { body[i] = res[i]; bn[i] = 0; }
        size_t size = align8(8 + rn[i] + bn[i]);
        inl[i] = used + size + 8 * (count - 1 - i) <= c.slot_size; /* [RSP-4] */
        used += inl[i] ? size : 8;
    }
    buf img = {0}; u8 h[8]; le(h, seq, 4); le(h + 4, used / 8, 2); h[6] = (u8)count; h[7] = 0;
    bput(&img, h, 8);
    size_t nframes = 0;
    for (size_t i = 0; i < count; i++) if (!inl[i] && st[i] == 0 && rn[i] + bn[i] <= c.fallback_limit) nframes++;
    for (size_t i = 0; i < count; i++) {
        size_t start = img.n;
        if (!inl[i] && st[i] != 0) { ble(&img, st[i], 1); bzero_(&img, 7); continue; } /* [RSP-4]: keep the status */
        if (!inl[i] && rn[i] + bn[i] > c.fallback_limit) { ble(&img, 0x15, 1); bzero_(&img, 7); continue; } /* [RSP-8] OVERSIZE */
        if (!inl[i]) { ble(&img, 1, 1); bzero_(&img, 3); ble(&img, rn[i] + bn[i], 4); continue; }
        ble(&img, st[i], 1); bzero_(&img, 3); ble(&img, bn[i], 4); bput(&img, res[i], rn[i]); bput(&img, body[i], bn[i]);
        bpad8(&img, start);
    }
    bput(&img, h, 8);
    c_map(out, 2); c_text(out, "image"); c_bytes(out, img.p, img.n); c_text(out, "frames"); c_array(out, nframes);
    for (size_t i = 0; i < count; i++) if (!inl[i] && st[i] == 0 && rn[i] + bn[i] <= c.fallback_limit) frame_out(out, 2, slot, (uint32_t)seq, (uint32_t)i, res[i], rn[i], body[i], bn[i]);
}

static const char *CODE_NAMES[] = {"OK", "FALLBACK", "UNKNOWN_CLOSURE", "BAD_PROPERTY", "TRUNCATED", "STALE_SEQUENCE", "MALFORMED_CBOR", "OVERSIZE",
    "FALLBACK_TIMEOUT", "TORN", "BAD_HEADER", "CLOSURE_RAISED", "VERSION_MISMATCH", "BAD_FRAME", "PEER_FAILED", "NESTED_APPLY", "NOREF",
    "BAD_ARGUMENT", "SLOT_BUSY", "BAD_CAPTURE", "BAD_RESULT"};
static int code_value(int idx) { return idx < 2 ? idx : 0x10 + idx - 2; }

static void error_response(buf *img, uint32_t seq, int code, const char *detail, config c) {
    size_t room = c.slot_size - 16 - 4, dl = detail ? strlen(detail) : 0; /* a detail that fits is kept exactly (section 13) */
    buf d = {0};
    for (; detail;) { d.n = 0; c_textn(&d, (const u8 *)detail, dl); if (d.n <= room) break; size_t cut = d.n - room + 1; dl = dl > cut ? dl - cut : 0; }
    size_t len = 16 + align8(4 + d.n);
    u8 h[8]; le(h, seq, 4); le(h + 4, len / 8, 2); h[6] = 0; h[7] = (u8)code;
    size_t start = img->n;
    bput(img, h, 8); ble(img, d.n, 4); bput(img, d.p, d.n); bpad8(img, start + 8); bput(img, h, 8);
}
static void op_encode_error_response(val *a, buf *out) {
    config c = get_config(a); val *code = need(a, "code"); int v = -1;
    for (int i = 0; i < 21; i++) if (text_is(code, CODE_NAMES[i])) v = code_value(i);
    if (v < 0 || !batch_level((uint64_t)v)) fail("BAD_ARGUMENT"); /* [RSP-5] */
    val *d = get(a, "detail"); char *detail = NULL; /* absent or null: no detail, n = 0 ([ADPT-7]) */
    if (d && d->t != T_NULL && d->t != T_TEXT) fail("BAD_ARGUMENT");
    if (d && d->t == T_TEXT) { detail = amalloc(d->n + 1); memcpy(detail, d->p, d->n); detail[d->n] = 0; }
    uint64_t seq = as_u(need(a, "seq"));
    if (seq > 0xFFFFFFFFu) fail("BAD_ARGUMENT"); /* [DEC-8]: any u32, 0 included */
    buf img = {0}; error_response(&img, (uint32_t)seq, v, detail, c);
    c_map(out, 1); c_text(out, "image"); c_bytes(out, img.p, img.n);
}

static void op_decode_response_batch(val *a, buf *out) {
    config c = get_config(a); val *specs = as_array(need(a, "results"));
    const u8 *img; size_t n; as_bytes(need(a, "image"), &img, &n);
    uint32_t seq; size_t len; int count, status;
    read_header(img, n, &c, a, &seq, &len, &count, &status);
    size_t end = len - 8;
    if (memcmp(img, img + end, 8)) fail("TORN"); /* [RSP-6] */
    if (status) {
        if (!batch_level((uint64_t)status)) fail("BAD_HEADER");
        if (count) fail("BAD_HEADER");
        if (12 > end) fail("TRUNCATED");
        size_t dn = (size_t)rd(img + 8, 4);
        if (12 + dn > end) fail("TRUNCATED");
        if (8 + align8(4 + dn) != end) fail("BAD_HEADER");
        /* [ERR-3]: the detail never rejects a response; it is reported when it is one CBOR text */
        val dv; dv.t = T_NULL; dv.p = img; dv.n = 0;
        if (dn && (img[12] >> 5) == 3 && cbor_one_item(img + 12, dn)) parse(img + 12, dn, 0, &dv, 0); /* untagged text only */
        c_map(out, 4); c_text(out, "seq"); c_uint(out, seq); c_text(out, "status"); c_uint(out, (uint64_t)status);
        c_text(out, "responses"); c_array(out, 0); c_text(out, "detail");
        if (dv.t == T_TEXT) c_textn(out, dv.p, dv.n); else c_text(out, "");
        return;
    }
    if ((size_t)count != specs->n) fail("BAD_HEADER"); /* [RSP-6] */
    buf items = {0}; size_t off = 8;
    for (int i = 0; i < count; i++) {
        shape s; memset(&s, 0, sizeof s); parse_result(&specs->items[i], &s);
        size_t start = off;
        if (off + 8 > end) fail("TRUNCATED");
        int st = img[off]; size_t bn = (size_t)rd(img + off + 4, 4);
        if (img[off + 1] || img[off + 2] || img[off + 3]) fail("BAD_HEADER");
        off += 8;
        c_map(&items, 4); c_text(&items, "status"); c_uint(&items, (uint64_t)st);
        if (st == 1 && bn > c.fallback_limit) fail("OVERSIZE"); /* [DEC-2] step 5.3 */
        if (st == 1) { c_text(&items, "result"); c_bytes(&items, img, 0); c_text(&items, "body"); c_null(&items); c_text(&items, "fallback_len"); c_uint(&items, bn); continue; }
        if (!entry_status((uint64_t)st)) fail("BAD_HEADER"); /* [ERR-4] */
        size_t r = st == 0 ? s.rsize : 0;
        if (st == 0 && !s.rcbor && bn) fail("BAD_HEADER"); /* [RSP-3] */
        if (bn > c.slot_size) fail("OVERSIZE");
        if (off + r + bn > end) fail("TRUNCATED");
        c_text(&items, "result"); c_bytes(&items, img + off, r); off += r;
        c_text(&items, "body"); c_optbytes(&items, img + off, bn, bn || s.rcbor || st != 0); off += bn;
        c_text(&items, "fallback_len"); c_null(&items);
        off = start + align8(off - start);
        if (off > end) fail("TRUNCATED");
    }
    if (off != end) fail("BAD_HEADER");
    c_map(out, 4); c_text(out, "seq"); c_uint(out, seq); c_text(out, "status"); c_uint(out, 0);
    c_text(out, "responses"); c_array(out, (size_t)count); bput(out, items.p, items.n); c_text(out, "detail"); c_text(out, "");
}

/* ------------------------------------------------------------------ fallback frames ([FB-3], [FB-6]) */
static void op_encode_frame(val *a, buf *out) {
    uint64_t kind = as_u(need(a, "kind")), slot = as_u(need(a, "slot_id")), seq = as_u(need(a, "seq")), index = as_u(need(a, "index"));
    const u8 *p; size_t n; as_bytes(need(a, "payload"), &p, &n);
    if ((kind != 1 && kind != 2) || slot > 0xFFFF || index > 0xFFFF || seq > 0xFFFFFFFFu) fail("BAD_ARGUMENT");
    c_map(out, 1); c_text(out, "frame"); frame_out(out, (int)kind, (uint32_t)slot, (uint32_t)seq, (uint32_t)index, p, n, p, 0);
}
static void op_decode_frames(val *a, buf *out) {
    uint64_t limit = geti(a, "limit", 64u << 20);
    if (limit > 0xFFFFFFFFu || has(a, "chunks") == has(a, "data")) fail("BAD_ARGUMENT"); /* [ADPT-19] */
    buf data = {0};
    val *chunks = get(a, "chunks");
    if (chunks && chunks->t == T_ARRAY) for (size_t i = 0; i < chunks->n; i++) { const u8 *p; size_t n; as_bytes(&chunks->items[i], &p, &n); bput(&data, p, n); }
    else { const u8 *p; size_t n; as_bytes(need(a, "data"), &p, &n); bput(&data, p, n); }
    buf items = {0}; size_t nf = 0, off = 0;
    while (data.n - off >= 20) {
        const u8 *h = data.p + off;
        if (rd(h, 4) != 0x42465347u) fail("BAD_FRAME");
        if (h[4] != 1 && h[4] != 2) fail("BAD_FRAME");
        if (h[5] || rd(h + 14, 2)) fail("BAD_FRAME");
        uint64_t len = rd(h + 16, 4);
        if (len > limit) fail("OVERSIZE");
        if (data.n - off < 20 + len) break;
        c_map(&items, 5); c_text(&items, "kind"); c_uint(&items, h[4]); c_text(&items, "slot_id"); c_uint(&items, rd(h + 6, 2));
        c_text(&items, "seq"); c_uint(&items, rd(h + 8, 4)); c_text(&items, "index"); c_uint(&items, rd(h + 12, 2));
        c_text(&items, "payload"); c_bytes(&items, h + 20, (size_t)len);
        nf++; off += 20 + (size_t)len;
    }
    c_map(out, 2); c_text(out, "frames"); c_array(out, nf); bput(out, items.p, items.n); c_text(out, "buffered"); c_uint(out, data.n - off);
}

/* ------------------------------------------------------------------ trust ids (section 6) */
static void op_mint(val *a, buf *out) {
    uint64_t m = as_u(need(a, "machine")), t = as_u(need(a, "thread")), c = as_u(need(a, "counter"));
    if (m > 0xFFFF || t > 0xFFFF || c >= 0xFFFFFFFFu) fail("BAD_ARGUMENT"); /* [TRUST-1], [ADPT-19] */
    c_map(out, 1); c_text(out, "id"); c_uint(out, m << 48 | t << 32 | (c + 1));
}
static void op_toggle(val *a, buf *out) {
    val *ts = as_array(need(a, "toggles"));
    uint64_t *set = amalloc(8 * (ts->n + 1)); size_t n = 0; int dropped = 0;
    set[n++] = as_u(need(a, "first"));
    buf items = {0};
    for (size_t i = 0; i < ts->n; i++) {
        if (dropped) fail("BAD_PROPERTY"); /* [TRUST-5] */
        uint64_t id = as_u(need(&ts->items[i], "id")); size_t k;
        for (k = 0; k < n && set[k] != id; k++) {}
        if (k < n) set[k] = set[--n]; else set[n++] = id; /* [TRUST-2]: symmetric difference */
        dropped = n == 0; c_bool(&items, dropped);
    }
    c_map(out, 1); c_text(out, "emptied"); c_array(out, ts->n); bput(out, items.p, items.n);
}

/* ------------------------------------------------------------------ bootstrap (section 10) */
static void op_negotiate(val *a, buf *out) {
    val *o = as_array(need(a, "ours")), *t = as_array(need(a, "theirs"));
    if (o->n != 2 || t->n != 2) fail("BAD_ARGUMENT");
    if (as_u(&o->items[0]) > as_u(&o->items[1]) || as_u(&t->items[0]) > as_u(&t->items[1])) fail("BAD_ARGUMENT"); /* [ADPT-19] */
    uint64_t lo = as_u(&o->items[0]) > as_u(&t->items[0]) ? o->items[0].u : t->items[0].u;
    uint64_t hi = as_u(&o->items[1]) < as_u(&t->items[1]) ? o->items[1].u : t->items[1].u;
    if (lo > hi) fail("VERSION_MISMATCH"); /* [BOOT-1] */
    c_map(out, 1); c_text(out, "version"); c_uint(out, hi);
}
static int is_uint(const val *v) { return v->t == T_UINT && !v->tagged; }
static const char *HELLO_KEYS[] = {"versions", "machine", "threads", "slot_size", "table_k", "fallback_timeout_ms", "fallback_limit"};
static void op_decode_hello(val *a, buf *out) {
    const u8 *d; size_t n; as_bytes(need(a, "data"), &d, &n);
    if (n < 4) fail("TRUNCATED");
    uint64_t len = rd(d, 4);
    if (len > (1u << 20)) fail("OVERSIZE"); /* [BOOT-4] */
    if (n < 4 + len) fail("TRUNCATED");
    if (n > 4 + len) fail("BAD_ARGUMENT"); /* [DEC-5]: exactly one message */
    if (!cbor_one_item(d + 4, (size_t)len)) fail("MALFORMED_CBOR");
    val m; parse(d + 4, (size_t)len, 0, &m, 0);
    if (m.t != T_MAP || m.tagged) fail("MALFORMED_CBOR");
    for (size_t i = 0; i < m.n; i++) /* [DEC-5] step 5: text keys only (untagged) */
        if (m.items[2 * i].t != T_TEXT || m.items[2 * i].tagged) fail("MALFORMED_CBOR");
    for (size_t i = 0; i < m.n; i++) for (size_t j = i + 1; j < m.n; j++) /* [DEC-5] step 5: no key twice */
        if (m.items[2 * i].t == T_TEXT && m.items[2 * j].t == T_TEXT && m.items[2 * i].n == m.items[2 * j].n
            && memcmp(m.items[2 * i].p, m.items[2 * j].p, m.items[2 * i].n) == 0) fail("MALFORMED_CBOR");
    for (int i = 0; i < 7; i++) if (!get(&m, HELLO_KEYS[i])) fail("MALFORMED_CBOR"); /* [BOOT-2] */
    val *v = get(&m, "versions");
    /* [SER-5]: a tagged item (2(h'0400'), 55799(2)) is not an integer, nor a tagged array an array */
    if (v->t != T_ARRAY || v->tagged || v->n != 2 || !is_uint(&v->items[0]) || !is_uint(&v->items[1]) || v->items[0].u > v->items[1].u) fail("BAD_HEADER");
    uint64_t x[7];
    for (int i = 1; i < 7; i++) { val *f = get(&m, HELLO_KEYS[i]); if (!is_uint(f)) fail("BAD_HEADER"); x[i] = f->u; }
    if (x[3] < 64 || x[3] > 65536 || x[3] % 64) fail("BAD_HEADER"); /* [SLOT-3] */
    if (x[4] > 32) fail("BAD_HEADER"); /* [VT-1] */
    if (x[1] > 0xFFFF || x[2] < 1 || x[2] > 0xFFFF) fail("BAD_HEADER");
    if (x[5] > 0xFFFFFFFFu || x[6] > 0xFFFFFFFFu) fail("BAD_HEADER"); /* [DEC-5] step 9 */
    val *tr = get(&m, "trustees"); /* [SHAPE-4]: runs [first, count], count >= 1, each after a gap, inside threads */
    if (tr) {
        if (tr->t != T_ARRAY || tr->tagged) fail("BAD_HEADER");
        uint64_t after = 0;
        for (size_t i = 0; i < tr->n; i++) {
            val *r = &tr->items[i];
            if (r->t != T_ARRAY || r->tagged || r->n != 2 || !is_uint(&r->items[0]) || !is_uint(&r->items[1])) fail("BAD_HEADER");
            uint64_t first = r->items[0].u, count = r->items[1].u;
            if (count == 0 || first < after || first > x[2] || count > x[2] - first) fail("BAD_HEADER");
            after = first + count + 1;
        }
    }
    c_map(out, tr ? 8 : 7); c_text(out, "versions"); c_array(out, 2); c_uint(out, v->items[0].u); c_uint(out, v->items[1].u);
    for (int i = 1; i < 7; i++) { c_text(out, HELLO_KEYS[i]); c_uint(out, x[i]); }
    if (tr) {
        c_text(out, "trustees"); c_array(out, tr->n);
        for (size_t i = 0; i < tr->n; i++) { c_array(out, 2); c_uint(out, tr->items[i].items[0].u); c_uint(out, tr->items[i].items[1].u); }
    }
}

/* ------------------------------------------------------------------ slots and landing (section 2) */
static uint64_t next_seq(uint64_t s) { return s >= 0xFFFFFFFFu ? 1 : s + 1; } /* [LAND-4] */
static void op_next_seq(val *a, buf *out) {
    uint64_t s = as_u(need(a, "seq"));
    if (s > 0xFFFFFFFFu) fail("BAD_ARGUMENT"); /* [ADPT-19] */
    c_map(out, 1); c_text(out, "seq"); c_uint(out, next_seq(s));
}
/* [SHAPE-2]: the ids of one machine of a rack shape, walked as nested loops; [LIM-3]: 16-bit ids */
static void op_shape_slots(val *a, buf *out) {
    val *sh = as_array(need(a, "shape"));
    uint64_t mach = as_u(need(a, "machine")), M = sh->n, total_t = 0, total_r = 0;
    if (M < 1 || M > 0x10000 || mach >= M) fail("BAD_ARGUMENT");
    uint64_t *T = amalloc(8 * M), *R = amalloc(8 * M);
    for (size_t i = 0; i < M; i++) {
        val *m = &sh->items[i];
        if (m->t != T_MAP || m->n != 2) fail("BAD_ARGUMENT");
        T[i] = as_u(need(m, "threads"));
        val *runs = as_array(need(m, "trustees"));
        if (T[i] < 1 || T[i] > 0xFFFF) fail("BAD_ARGUMENT"); /* [SHAPE-1] */
        uint64_t after = 0; R[i] = 0;
        for (size_t k = 0; k < runs->n; k++) { /* [SHAPE-4] runs */
            val *r = as_array(&runs->items[k]);
            if (r->n != 2) fail("BAD_ARGUMENT");
            uint64_t first = as_u(&r->items[0]), count = as_u(&r->items[1]);
            if (count == 0 || first < after || first > T[i] || count > T[i] - first) fail("BAD_ARGUMENT");
            after = first + count + 1; R[i] += count;
        }
        total_t += T[i]; total_r += R[i];
    }
    for (size_t i = 0; i < M; i++) if (total_t * R[i] + T[i] * total_r > 0x10000) fail("BAD_ARGUMENT"); /* [LIM-3] */
    uint64_t n = total_t * R[mach] + T[mach] * total_r;
    c_map(out, 2); c_text(out, "count"); c_uint(out, n); c_text(out, "slots"); c_array(out, n);
    val *mine = as_array(need(&sh->items[mach], "trustees"));
    for (size_t p = 0; p < M; p++) /* request slots: (client machine p, client thread c, our trustee t) */
        for (uint64_t c = 0; c < T[p]; c++)
            for (size_t k = 0; k < mine->n; k++)
                for (uint64_t t = mine->items[k].items[0].u; t < mine->items[k].items[0].u + mine->items[k].items[1].u; t++) {
                    c_array(out, 4); c_text(out, "request"); c_uint(out, p); c_uint(out, c); c_uint(out, t);
                }
    for (uint64_t c = 0; c < T[mach]; c++) /* response slots: (our client thread c, trustee machine p, its trustee t) */
        for (size_t p = 0; p < M; p++) {
            val *runs = need(&sh->items[p], "trustees");
            for (size_t k = 0; k < runs->n; k++)
                for (uint64_t t = runs->items[k].items[0].u; t < runs->items[k].items[0].u + runs->items[k].items[1].u; t++) {
                    c_array(out, 4); c_text(out, "response"); c_uint(out, p); c_uint(out, t); c_uint(out, c);
                }
        }
}
static void op_make_imm(val *a, buf *out) {
    uint64_t slot = as_u(need(a, "slot_id")), seq = as_u(need(a, "seq"));
    if (slot > 0xFFFF || seq > 0xFFFFFFFFu) fail("BAD_ARGUMENT"); /* [SLOT-5], [ADPT-19] */
    uint64_t imm = slot << 16 | (seq & 0xFFFF); /* [LAND-2] */
    c_map(out, 2); c_text(out, "imm"); c_uint(out, imm); c_text(out, "parsed"); c_array(out, 2); c_uint(out, imm >> 16); c_uint(out, imm & 0xFFFF);
}
static void op_slot_events(val *a, buf *out) {
    int client = text_is(need(a, "role"), "client"), busy = 0;
    val *ev = as_array(need(a, "events"));
    if (!client && !text_is(get(a, "role"), "trustee")) fail("BAD_ARGUMENT"); /* [ADPT-19] */
    for (size_t i = 0; i < ev->n; i++)
        if (!text_is(&ev->items[i], "write") && !text_is(&ev->items[i], "response") && !text_is(&ev->items[i], "landed")
            && !text_is(&ev->items[i], "respond")) fail("BAD_ARGUMENT");
    c_map(out, 1); c_text(out, "results"); c_array(out, ev->n);
    for (size_t i = 0; i < ev->n; i++) {
        val *e = &ev->items[i];
        if (client) {
            if (!busy && text_is(e, "write")) { busy = 1; c_text(out, "AWAITING"); }
            else if (busy && text_is(e, "response")) { busy = 0; c_text(out, "IDLE"); }
            else c_text(out, "SLOT_BUSY"); /* [FLOW-1] */
        } else {
            if (!busy && text_is(e, "landed")) { busy = 1; c_text(out, "BUSY"); }
            else if (busy && text_is(e, "respond")) { busy = 0; c_text(out, "READY"); }
            else c_text(out, "BAD_ARGUMENT"); /* [FLOW-2] */
        }
    }
}
static void op_land(val *a, buf *out) {
    config c = get_config(a); shapes S = parse_closures(need(a, "closures"));
    val *ls = as_array(need(a, "landings"));
    volatile uint64_t expected = 1;
    c_map(out, 1); c_text(out, "results"); c_array(out, ls->n);
    for (size_t i = 0; i < ls->n; i++) {
        const u8 *img; size_t n; as_bytes(need(&ls->items[i], "image"), &img, &n);
        uint64_t imm = as_u(need(&ls->items[i], "imm"));
        /* a nested decode: its failure must not unwind the whole op */
        buf qa = {0}; c_map(&qa, 2); c_text(&qa, "expected_seq"); c_uint(&qa, expected); c_text(&qa, "imm_seq16"); c_uint(&qa, imm & 0xFFFF);
        val q; parse(qa.p, qa.n, 0, &q, 0);
        jmp_buf saved; memcpy(saved, fail_jmp, sizeof saved);
        uint32_t seq; uint64_t table[32]; int tl, count; dreq *R;
        if (setjmp(fail_jmp) == 0) {
            count = decode_requests(img, n, c, &S, &q, &seq, table, &tl, &R);
            memcpy(fail_jmp, saved, sizeof saved);
            expected = next_seq(expected);
            c_map(out, 2); c_text(out, "seq"); c_uint(out, seq); c_text(out, "count"); c_uint(out, (uint64_t)count);
        } else {
            memcpy(fail_jmp, saved, sizeof saved);
            const char *code = fail_code; int v = 0;
            for (int k = 0; k < 21; k++) if (!strcmp(code, CODE_NAMES[k])) v = code_value(k);
            if (strcmp(code, "STALE_SEQUENCE")) expected = next_seq(expected); /* [FLOW-5] */
            buf r = {0}; error_response(&r, n >= 4 ? (uint32_t)rd(img, 4) : 0, v, "batch rejected", c); /* [RSP-5] */
            c_map(out, 1); c_text(out, "response"); c_bytes(out, r.p, r.n);
        }
    }
}

/* ------------------------------------------------------------------ closures and layouts */
static void op_closure_id(val *a, buf *out) {
    val *nm = need(a, "name"); if (nm->t != T_TEXT) fail("BAD_ARGUMENT");
    c_map(out, 1); c_text(out, "id"); c_uint(out, closure_id(nm->p, nm->n));
}
static void op_register(val *a, buf *out) {
    shapes S = parse_closures(need(a, "closures"));
    for (int i = 0; i < S.n; i++) {
        if (S.s[i].id == 0) fail("BAD_ARGUMENT"); /* [CID-2] */
        for (int j = 0; j < i; j++)
            if (S.s[j].id == S.s[i].id && (S.s[j].name_n != S.s[i].name_n || memcmp(S.s[j].name, S.s[i].name, S.s[i].name_n))) fail("BAD_ARGUMENT");
    }
    c_map(out, 0);
}
static void op_unpack_capture(val *a, buf *out) {
    val *cs = need(a, "capture"); if (cs->t != T_TEXT) fail("BAD_ARGUMENT"); /* [ADPT-19]: a layout that is not text */
    layout L; parse_layout(cs->p, cs->n, &L);
    const u8 *d; size_t n; as_bytes(need(a, "data"), &d, &n);
    if (n != (size_t)L.size) fail("BAD_CAPTURE"); /* [LAYOUT-4] */
    buf items = {0}; size_t off = 0;
    for (int i = 0; i < L.n; i++) {
        field f = L.f[i]; const u8 *p = d + off; off += (size_t)f.size;
        uint64_t u = f.kind == K_BYTES ? 0 : rd(p, f.size);
        switch (f.kind) {
        case K_U: c_uint(&items, u); break;
        case K_I: { int sh = 64 - 8 * f.size; int64_t s = (int64_t)(u << sh) >> sh; c_int(&items, s); break; }
        case K_F: if (f.size == 4) { uint32_t w = (uint32_t)u; float x; memcpy(&x, &w, 4); c_double(&items, x); } else { double x; memcpy(&x, &u, 8); c_double(&items, x); } break;
        case K_BOOL: if (u > 1) fail("BAD_CAPTURE"); c_bool(&items, (int)u); break;
        default: c_bytes(&items, p, (size_t)f.size);
        }
    }
    c_map(out, 1); c_text(out, "values"); c_array(out, (size_t)L.n); bput(out, items.p, items.n);
}
static void op_pack_capture(val *a, buf *out) {
    val *cs = need(a, "capture"); if (cs->t != T_TEXT) fail("BAD_ARGUMENT"); /* [ADPT-19]: a layout that is not text */
    layout L; parse_layout(cs->p, cs->n, &L);
    val *vs = as_array(need(a, "values"));
    if (vs->n != (size_t)L.n) fail("BAD_ARGUMENT");
    buf d = {0};
    for (int i = 0; i < L.n; i++) {
        field f = L.f[i]; val *v = &vs->items[i];
        switch (f.kind) {
        case K_U: if (v->t != T_UINT || (f.size < 8 && v->u >> (8 * f.size))) fail("BAD_ARGUMENT"); ble(&d, v->u, f.size); break;
        case K_I: {
            if (v->t != T_UINT && v->t != T_NINT) fail("BAD_ARGUMENT");
            uint64_t lim = (uint64_t)1 << (8 * f.size - 1);
            if (v->t == T_UINT ? v->u >= lim : v->u >= lim) fail("BAD_ARGUMENT");
            int64_t s = v->t == T_UINT ? (int64_t)v->u : -(int64_t)v->u - 1;
            ble(&d, (uint64_t)s, f.size); break;
        }
        case K_F: {
            double x;
            if (v->t == T_FLOAT) x = v->f; else if (v->t == T_UINT) x = (double)v->u; else if (v->t == T_NINT) x = -(double)v->u - 1; else fail("BAD_ARGUMENT");
            if (f.size == 4) { if (isfinite(x) && fabs(x) > FLT_MAX) fail("BAD_ARGUMENT"); float y = (float)x; uint32_t w; memcpy(&w, &y, 4); ble(&d, w, 4); }
            else { uint64_t w; memcpy(&w, &x, 8); ble(&d, w, 8); }
            break;
        }
        case K_BOOL: if (v->t != T_TRUE && v->t != T_FALSE) fail("BAD_ARGUMENT"); ble(&d, v->t == T_TRUE, 1); break;
        default: if (v->t != T_BYTES || v->n != (size_t)f.size) fail("BAD_ARGUMENT"); bput(&d, v->p, v->n);
        }
    }
    c_map(out, 1); c_text(out, "data"); c_bytes(out, d.p, d.n);
}
static void op_check_cbor(val *a, buf *out) {
    const u8 *d; size_t n; as_bytes(need(a, "data"), &d, &n);
    if (!cbor_one_item(d, n)) fail("MALFORMED_CBOR"); /* [SER-2] */
    c_map(out, 0);
}

/* ------------------------------------------------------------------ dispatch ([ADPT-3]) */
typedef void (*opfn)(val *, buf *);
static void op_hello(val *a, buf *out);
static const struct { const char *name; opfn fn; } OPS[] = {
    {"hello", op_hello}, {"closure_id", op_closure_id}, {"register", op_register}, {"pack_capture", op_pack_capture},
    {"unpack_capture", op_unpack_capture}, {"check_cbor", op_check_cbor}, {"encode_request_batch", op_encode_request_batch},
    {"pack_requests", op_pack_requests}, {"decode_request_batch", op_decode_request_batch},
    {"encode_response_batch", op_encode_response_batch}, {"encode_error_response", op_encode_error_response},
    {"decode_response_batch", op_decode_response_batch}, {"encode_frame", op_encode_frame}, {"decode_frames", op_decode_frames},
    {"attach_payload", op_attach_payload}, {"mint", op_mint}, {"toggle", op_toggle}, {"negotiate", op_negotiate},
    {"decode_hello", op_decode_hello}, {"next_seq", op_next_seq}, {"make_imm", op_make_imm}, {"slot_events", op_slot_events},
    {"land", op_land}, {"shape_slots", op_shape_slots},
};
#define NOPS (sizeof OPS / sizeof OPS[0])
static void op_hello(val *a, buf *out) {
    (void)a;
    c_map(out, 3); c_text(out, "name"); c_text(out, "gossamer_codec.c"); c_text(out, "versions"); c_array(out, 2); c_uint(out, 1); c_uint(out, 1);
    c_text(out, "ops"); c_array(out, NOPS); for (size_t i = 0; i < NOPS; i++) c_text(out, OPS[i].name);
}

static int read_all(u8 *p, size_t n) { size_t got = 0; while (got < n) { size_t k = fread(p + got, 1, n - got, stdin); if (!k) return 0; got += k; } return 1; }

static buf body, reply; /* static: they live across setjmp/longjmp */
static u8 *msg;
static size_t msg_n;

static void handle(void) {
    memset(&body, 0, sizeof body); memset(&reply, 0, sizeof reply);
    if (setjmp(fail_jmp) == 0) {
        val m;
        if (!cbor_one_item(msg, msg_n)) fail("BAD_ARGUMENT");
        parse(msg, msg_n, 0, &m, 0);
        val *op = need(&m, "op");
        size_t i;
        for (i = 0; i < NOPS; i++) if (text_is(op, OPS[i].name)) break;
        if (i == NOPS) fail("UNSUPPORTED");
        OPS[i].fn(&m, &body);
        c_map(&reply, 1); c_text(&reply, "ok"); bput(&reply, body.p, body.n);
    } else {
        memset(&reply, 0, sizeof reply); c_map(&reply, 1); c_text(&reply, "error"); c_text(&reply, fail_code);
    }
}

int main(void) {
    for (;;) {
        u8 h[4];
        if (!read_all(h, 4)) return 0;
        msg_n = (size_t)rd(h, 4);
        if (msg_n > (64u << 20) + 4096) return 2; /* [ADPT-2] */
        msg = amalloc(msg_n + 1);
        if (!read_all(msg, msg_n)) return 2;
        handle();
        u8 lh[4]; le(lh, reply.n, 4);
        fwrite(lh, 1, 4, stdout); fwrite(reply.p, 1, reply.n, stdout); fflush(stdout);
        arena_free();
    }
}
