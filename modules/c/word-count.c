/*
 * word-count: a Sandstep task written in C, run as a WASI preview 1 *command*.
 *
 *   clang-16 --target=wasm32-wasi -Oz -s -I include word-count.c -o word-count.wasm
 *
 * Reads the task input from stdin, e.g. {"text": "one two\nthree"}, and prints
 * {"words": 3, "lines": 2} on stdout. Words are runs of non-whitespace; lines are
 * newline-terminated lines, plus a last one without a newline. Anything else — input
 * that is not a JSON object, or whose "text" is missing or not a string — is a task
 * failure: a message on stderr and exit status 2.
 */
#define PROGRAM "word-count"
#include "json_reader.h"

int main(void) {
    read_stdin();

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
