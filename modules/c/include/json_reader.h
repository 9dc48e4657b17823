/*
 * json_reader.h: a small, strict JSON reader for Sandstep's C task modules (WASI
 * preview 1 commands), shared so each module does not carry its own copy.
 *
 * Define PROGRAM (the module's name, for messages) before including it. The reader works
 * on one buffer, [p, end): read_stdin() fills it with the task input; string() decodes a
 * string at p, value() checks and skips any value. Bad input is a task failure: fail()
 * writes "<PROGRAM>: bad input: <why>" on stderr and exits with status 2, which Sandstep
 * reports as the task's cause.
 */
#ifndef SANDSTEP_JSON_READER_H
#define SANDSTEP_JSON_READER_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *p;   /* parse cursor into the NUL-terminated input */
static const char *end;

static inline void fail(const char *why) {
    fprintf(stderr, PROGRAM ": bad input: %s\n", why);
    exit(2);
}

static inline void ws(void) {
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')) p++;
}

static inline int hex(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Appends the UTF-8 encoding of code point cp to out (NULL: just skip). */
static inline size_t put_utf8(char *out, size_t n, unsigned cp) {
    char b[4];
    size_t k;
    if (cp < 0x80) { b[0] = (char)cp; k = 1; }
    else if (cp < 0x800) { b[0] = (char)(0xC0 | cp >> 6); b[1] = (char)(0x80 | (cp & 0x3F)); k = 2; }
    else if (cp < 0x10000) { b[0] = (char)(0xE0 | cp >> 12); b[1] = (char)(0x80 | (cp >> 6 & 0x3F)); b[2] = (char)(0x80 | (cp & 0x3F)); k = 3; }
    else { b[0] = (char)(0xF0 | cp >> 18); b[1] = (char)(0x80 | (cp >> 12 & 0x3F)); b[2] = (char)(0x80 | (cp >> 6 & 0x3F)); b[3] = (char)(0x80 | (cp & 0x3F)); k = 4; }
    if (out) memcpy(out + n, b, k);
    return n + k;
}

static inline unsigned hex4(void) {
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        int h = p < end ? hex(*p) : -1;
        if (h < 0) fail("bad \\u escape");
        v = v << 4 | (unsigned)h;
        p++;
    }
    return v;
}

/* Parses a string at p (which is at '"'). Decodes into out when out is not NULL (out
 * must have room for the raw length: decoding never grows). Returns the decoded length. */
static inline size_t string(char *out) {
    size_t n = 0;
    p++;
    for (;;) {
        if (p >= end) fail("unterminated string");
        unsigned char c = (unsigned char)*p++;
        if (c == '"') return n;
        if (c < 0x20) fail("control character in string");
        if (c != '\\') { if (out) out[n] = (char)c; n++; continue; }
        if (p >= end) fail("unterminated string");
        char e = *p++;
        switch (e) {
        case '"': case '\\': case '/': if (out) out[n] = e; n++; break;
        case 'b': if (out) out[n] = '\b'; n++; break;
        case 'f': if (out) out[n] = '\f'; n++; break;
        case 'n': if (out) out[n] = '\n'; n++; break;
        case 'r': if (out) out[n] = '\r'; n++; break;
        case 't': if (out) out[n] = '\t'; n++; break;
        case 'u': {
            unsigned cp = hex4();
            if (cp >= 0xD800 && cp < 0xDC00 && p + 1 < end && p[0] == '\\' && p[1] == 'u') {
                p += 2;
                unsigned lo = hex4();
                if (lo < 0xDC00 || lo > 0xDFFF) fail("bad surrogate pair");
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            }
            n = put_utf8(out, n, cp);
            break;
        }
        default: fail("bad escape in string");
        }
    }
}

static inline void value(int depth);

static inline void number(void) {
    const char *start = p;
    if (p < end && *p == '-') p++;
    if (p >= end || *p < '0' || *p > '9') fail("bad number");
    if (*p == '0') p++; else while (p < end && *p >= '0' && *p <= '9') p++;
    if (p < end && *p == '.') { p++; if (p >= end || *p < '0' || *p > '9') fail("bad number"); while (p < end && *p >= '0' && *p <= '9') p++; }
    if (p < end && (*p == 'e' || *p == 'E')) {
        p++;
        if (p < end && (*p == '+' || *p == '-')) p++;
        if (p >= end || *p < '0' || *p > '9') fail("bad number");
        while (p < end && *p >= '0' && *p <= '9') p++;
    }
    (void)start;
}

static inline void literal(const char *word) {
    size_t k = strlen(word);
    if ((size_t)(end - p) < k || memcmp(p, word, k) != 0) fail("unexpected character");
    p += k;
}

/* Skips one JSON value, checking its syntax. */
static inline void value(int depth) {
    if (depth > 64) fail("nested too deeply");
    ws();
    if (p >= end) fail("unexpected end of input");
    switch (*p) {
    case '"': string(NULL); return;
    case '{':
        p++; ws();
        if (p < end && *p == '}') { p++; return; }
        for (;;) {
            ws();
            if (p >= end || *p != '"') fail("expected a key");
            string(NULL); ws();
            if (p >= end || *p != ':') fail("expected ':'");
            p++; value(depth + 1); ws();
            if (p < end && *p == ',') { p++; continue; }
            if (p < end && *p == '}') { p++; return; }
            fail("expected ',' or '}'");
        }
    case '[':
        p++; ws();
        if (p < end && *p == ']') { p++; return; }
        for (;;) {
            value(depth + 1); ws();
            if (p < end && *p == ',') { p++; continue; }
            if (p < end && *p == ']') { p++; return; }
            fail("expected ',' or ']'");
        }
    case 't': literal("true"); return;
    case 'f': literal("false"); return;
    case 'n': literal("null"); return;
    default: number(); return;
    }
}

/* Reads all of stdin into a fresh buffer and points [p, end) at it. */
static inline void read_stdin(void) {
    size_t cap = 4096, len = 0;
    char *in = malloc(cap);
    if (!in) { fputs(PROGRAM ": out of memory\n", stderr); exit(1); }
    size_t got;
    while ((got = fread(in + len, 1, cap - len, stdin)) > 0) {
        len += got;
        if (len == cap) {
            char *bigger = realloc(in, cap *= 2);
            if (!bigger) { fputs(PROGRAM ": out of memory\n", stderr); exit(1); }
            in = bigger;
        }
    }
    p = in;
    end = in + len;
}

/* Writes s (n bytes) as a JSON string to stdout. */
static inline void write_string(const char *s, size_t n) {
    putchar('"');
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') { putchar('\\'); putchar(c); }
        else if (c < 0x20) printf("\\u%04x", c);
        else putchar(c);
    }
    putchar('"');
}

#endif
