/*
 * clean-sale: one row of the sales ETL sample, checked and normalised; a Sandstep task in
 * C, run as a WASI preview 1 command (the sample's module in another language than Rust).
 *
 *   clang-16 --target=wasm32-wasi -Oz -s -I ../../../c/include clean-sale.c -o clean-sale.wasm
 *
 * Input: a CSV row as the Distributed Map's CSV reader gives it, every value a string:
 * {"order_id": "1001", "date": "2026-12-01", "sku": "widget-a", "qty": "3",
 *  "unit_price": "25.00"}. Output, for a good row:
 * {"valid": true, "order_id": "1001", "date": "2026-12-01", "sku": "WIDGET-A", "qty": 3,
 *  "revenue_cents": 7500}; for a row that breaks a rule (no order id, a date that is not
 * YYYY-MM-DD, no SKU, a quantity that is not a positive integer, a price that is not a
 * decimal with at most two places): {"valid": false, "order_id": "...", "reason": "..."}.
 * A bad row is data, not a failure: the workflow counts it. Input that is not a JSON
 * object of strings fails the task (exit status 2).
 */
#define PROGRAM "clean-sale"
#include "json_reader.h"

enum { ORDER_ID, DATE, SKU, QTY, UNIT_PRICE, FIELDS };
static const char *const NAMES[FIELDS] = {"order_id", "date", "sku", "qty", "unit_price"};

static char *field[FIELDS];
static size_t length[FIELDS];

/* Reads the input object, keeping the fields above (each must be a string). */
static void read_row(void) {
    ws();
    if (p >= end || *p != '{') fail("expected a JSON object (a CSV row)");
    p++; ws();
    if (p < end && *p == '}') { p++; return; }
    for (;;) {
        ws();
        if (p >= end || *p != '"') fail("expected a key");
        char *key = malloc((size_t)(end - p) + 1);
        if (!key) fail("out of memory");
        size_t klen = string(key);
        ws();
        if (p >= end || *p != ':') fail("expected ':'");
        p++; ws();
        int which = -1;
        for (int i = 0; i < FIELDS; i++) {
            if (strlen(NAMES[i]) == klen && memcmp(NAMES[i], key, klen) == 0) which = i;
        }
        free(key);
        if (which >= 0) {
            if (p >= end || *p != '"') fail("every field of the row must be a string");
            field[which] = malloc((size_t)(end - p) + 1);
            if (!field[which]) fail("out of memory");
            length[which] = string(field[which]);
        } else {
            value(1);
        }
        ws();
        if (p < end && *p == ',') { p++; continue; }
        if (p < end && *p == '}') { p++; break; }
        fail("expected ',' or '}'");
    }
    ws();
    if (p != end) fail("trailing characters after the object");
}

static int digits(const char *s, size_t n) {
    if (n == 0) return 0;
    for (size_t i = 0; i < n; i++) if (s[i] < '0' || s[i] > '9') return 0;
    return 1;
}

/* "12", "12.5", "12.50" -> cents; -1 when it is not such a number (or too large). */
static long long cents(const char *s, size_t n) {
    size_t dot = n;
    for (size_t i = 0; i < n; i++) if (s[i] == '.') { dot = i; break; }
    size_t places = dot < n ? n - dot - 1 : 0;
    if (!digits(s, dot) || dot > 9 || (dot < n && (places == 0 || places > 2 || !digits(s + dot + 1, places)))) return -1;
    long long whole = 0, frac = 0;
    for (size_t i = 0; i < dot; i++) whole = whole * 10 + (s[i] - '0');
    for (size_t i = 0; i < places; i++) frac = frac * 10 + (s[dot + 1 + i] - '0');
    if (places == 1) frac *= 10;
    return whole * 100 + frac;
}

static int rejected(const char *reason) {
    printf("{\"valid\": false, \"order_id\": ");
    write_string(field[ORDER_ID] ? field[ORDER_ID] : "", length[ORDER_ID]);
    printf(", \"reason\": ");
    write_string(reason, strlen(reason));
    printf("}\n");
    return 0;
}

int main(void) {
    read_stdin();
    read_row();
    if (length[ORDER_ID] == 0) return rejected("no order_id");
    const char *d = field[DATE];
    if (length[DATE] != 10 || !digits(d, 4) || d[4] != '-' || !digits(d + 5, 2) || d[7] != '-' || !digits(d + 8, 2))
        return rejected("date must be YYYY-MM-DD");
    if (length[SKU] == 0) return rejected("no sku");
    if (!digits(field[QTY], length[QTY]) || length[QTY] > 6) return rejected("qty must be a positive integer");
    long qty = strtol(field[QTY], NULL, 10);
    if (qty <= 0) return rejected("qty must be a positive integer");
    long long price = field[UNIT_PRICE] ? cents(field[UNIT_PRICE], length[UNIT_PRICE]) : -1;
    if (price < 0) return rejected("unit_price must be a decimal like 12.50");

    for (size_t i = 0; i < length[SKU]; i++) {
        char c = field[SKU][i];
        if (c >= 'a' && c <= 'z') field[SKU][i] = (char)(c - 'a' + 'A');
    }
    printf("{\"valid\": true, \"order_id\": ");
    write_string(field[ORDER_ID], length[ORDER_ID]);
    printf(", \"date\": ");
    write_string(field[DATE], length[DATE]);
    printf(", \"sku\": ");
    write_string(field[SKU], length[SKU]);
    printf(", \"qty\": %ld, \"revenue_cents\": %lld}\n", qty, price * qty);
    return 0;
}
