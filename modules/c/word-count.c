/*
 * word-count: a Sandstep task written in C, run as a WASI preview 1 *command*.
 *
 *   clang-16 --target=wasm32-wasi -Oz -s word-count.c -o word-count.wasm
 *
 * Reads the task input from stdin, e.g. {"text": "one two\nthree"}, and prints
 * {"words": 3, "lines": 2} on stdout. Words are runs of non-whitespace; lines are
 * newline-terminated lines, plus a last one without a newline. Anything else — input
 * that is not a JSON object, or whose "text" is missing or not a string — is a task
 * failure: a message on stderr and exit status 2.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *p;   /* parse cursor into the NUL-terminated input */
static const char *end;

static void fail(const char *why) {
    fprintf(stderr, "word-count: bad input: %s\n", why);
    exit(2);
}

static void ws(void) {
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')) p++;
}

static int hex(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Appends the UTF-8 encoding of code point cp to out (NULL: just skip). */
static size_t put_utf8(char *out, size_t n, unsigned cp) {
    char b[4];
    size_t k;
    if (cp < 0x80) { b[0] = (char)cp; k = 1; }
    else if (cp < 0x800) { b[0] = (char)(0xC0 | cp >> 6); b[1] = (char)(0x80 | (cp & 0x3F)); k = 2; }
    else if (cp < 0x10000) { b[0] = (char)(0xE0 | cp >> 12); b[1] = (char)(0x80 | (cp >> 6 & 0x3F)); b[2] = (char)(0x80 | (cp & 0x3F)); k = 3; }
    else { b[0] = (char)(0xF0 | cp >> 18); b[1] = (char)(0x80 | (cp >> 12 & 0x3F)); b[2] = (char)(0x80 | (cp >> 6 & 0x3F)); b[3] = (char)(0x80 | (cp & 0x3F)); k = 4; }
    if (out) memcpy(out + n, b, k);
    return n + k;
}

static unsigned hex4(void) {
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
static size_t string(char *out) {
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

static void value(int depth);

static void number(void) {
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

static void literal(const char *word) {
    size_t k = strlen(word);
    if ((size_t)(end - p) < k || memcmp(p, word, k) != 0) fail("unexpected character");
    p += k;
}

/* Skips one JSON value, checking its syntax. */
static void value(int depth) {
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

int main(void) {
    /* Read all of stdin. */
    size_t cap = 4096, len = 0;
    char *in = malloc(cap);
    if (!in) { fputs("word-count: out of memory\n", stderr); return 1; }
    size_t got;
    while ((got = fread(in + len, 1, cap - len, stdin)) > 0) {
        len += got;
        if (len == cap) {
            char *bigger = realloc(in, cap *= 2);
            if (!bigger) { fputs("word-count: out of memory\n", stderr); return 1; }
            in = bigger;
        }
    }
    p = in;
    end = in + len;

    /* The top level must be an object; remember where "text" is. */
    const char *text_at = NULL;
    ws();
    if (p >= end || *p != '{') fail("expected a JSON object like {\"text\": \"...\"}");
    p++; ws();
    if (p < end && *p == '}') p++;
    else for (;;) {
        ws();
        if (p >= end || *p != '"') fail("expected a key");
        const char *key = p;
        size_t klen = string(NULL);
        int is_text = klen == 4 && memcmp(key, "\"text\"", 6) == 0;
        ws();
        if (p >= end || *p != ':') fail("expected ':'");
        p++; ws();
        if (is_text) {
            if (p >= end || *p != '"') fail("\"text\" must be a string");
            text_at = p;
        }
        value(1); ws();
        if (p < end && *p == ',') { p++; continue; }
        if (p < end && *p == '}') { p++; break; }
        fail("expected ',' or '}'");
    }
    ws();
    if (p != end) fail("trailing characters after the object");
    if (!text_at) fail("missing \"text\"");

    /* Decode the text and count. */
    p = text_at;
    char *text = malloc((size_t)(end - p) + 1);
    if (!text) { fputs("word-count: out of memory\n", stderr); return 1; }
    size_t n = string(text);
    unsigned long words = 0, lines = 0;
    int in_word = 0;
    for (size_t i = 0; i < n; i++) {
        char c = text[i];
        int space = c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
        if (!space && !in_word) words++;
        in_word = !space;
        if (c == '\n') lines++;
    }
    if (n > 0 && text[n - 1] != '\n') lines++;
    printf("{\"words\": %lu, \"lines\": %lu}\n", words, lines);
    return 0;
}
