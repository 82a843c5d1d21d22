/*
 * The compiled fast path of validation: a block of complete JSONL lines in, per-block
 * statistics and the few lines that need Python out.
 *
 * It accepts only the common chat record, exactly the subset that ``_fast.decode_chat`` plus
 * ``_fast.check_fast`` accept without a finding: ``{"messages": [...]}`` whose messages are
 * system/user/assistant/tool with their allowed keys, non-empty string content, ``weight`` 0
 * or 1, well-formed tool calls whose arguments are JSON, tool replies that answer an earlier
 * call. Anything else (a key with an escape, a duplicate key, a lone surrogate, invalid UTF-8,
 * an odd number...) is handed back as a "slow" line, and the Python checks, which produce the
 * findings, decide. So the compiled path can only be stricter than the Python one, never
 * looser, and the reports are the same whichever path a line took (the tests compare them).
 *
 * For an accepted line it computes what ``check_fast`` returns (messages, the token
 * estimate's units as ``_estimate.units`` counts them, trainable units, user turns, system
 * or not), notes the
 * same provider features in the same order, and the line's duplicate key (a hash and the
 * length; ``line_hash`` gives the same hash to the Python path).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

/* Bumped whenever behaviour changes; Python ignores a stale build with another number. */
#define CSCAN_VERSION 2

/* -- the duplicate key's hash -------------------------------------------------------------
 * Any hash does (equal keys are confirmed byte by byte), so a fast one: a multiply-xorshift
 * over eight bytes at a time. Its value depends on the machine's byte order, which is fine:
 * keys are only compared within one validation run. */

static uint32_t line_hash(const uint8_t *p, size_t n) {
    const uint64_t m = 0x9E3779B97F4A7C15ull;
    uint64_t h = m ^ (uint64_t)n, x;
    while (n >= 8) {
        memcpy(&x, p, 8);
        h = (h ^ x) * m;
        h ^= h >> 29;
        p += 8;
        n -= 8;
    }
    x = 0;
    memcpy(&x, p, n);
    h = (h ^ x) * m;
    h ^= h >> 32;
    h *= m;
    return (uint32_t)(h >> 32);
}

/* -- JSON pieces ---------------------------------------------------------------------------- */

typedef struct {
    const uint8_t *p;
    const uint8_t *e;
} Cur;

typedef struct {
    const uint8_t *s; /* the raw bytes between the quotes */
    Py_ssize_t n;
    Py_ssize_t chars; /* the estimate's units once decoded (what _estimate.units gives) */
    int escaped;      /* it holds a backslash escape */
} Str;

static inline void skip_ws(Cur *c) {
    while (c->p < c->e && (*c->p == ' ' || *c->p == '\t' || *c->p == '\r' || *c->p == '\n'))
        c->p++;
}

static inline int expect(Cur *c, uint8_t ch) {
    skip_ws(c);
    if (c->p < c->e && *c->p == ch) {
        c->p++;
        return 1;
    }
    return 0;
}

static inline int hexval(uint8_t h) {
    if (h >= '0' && h <= '9') return h - '0';
    if (h >= 'a' && h <= 'f') return h - 'a' + 10;
    if (h >= 'A' && h <= 'F') return h - 'A' + 10;
    return -1;
}

static int hex4(const uint8_t *p, const uint8_t *e, unsigned *out) {
    if (e - p < 4) return 0;
    unsigned v = 0;
    for (int k = 0; k < 4; k++) {
        int h = hexval(p[k]);
        if (h < 0) return 0;
        v = (v << 4) | (unsigned)h;
    }
    *out = v;
    return 1;
}

/* Length of a valid UTF-8 sequence starting at a non-ASCII byte, else 0 (Unicode table 3-7:
 * no overlong forms, no encoded surrogates, nothing past U+10FFFF). */
static inline int utf8_seq(const uint8_t *p, const uint8_t *e) {
    uint8_t b = p[0];
    Py_ssize_t left = e - p;
    if (b >= 0xC2 && b <= 0xDF) return (left >= 2 && (p[1] & 0xC0) == 0x80) ? 2 : 0;
    if (b >= 0xE0 && b <= 0xEF) {
        if (left < 3 || (p[2] & 0xC0) != 0x80) return 0;
        uint8_t lo = 0x80, hi = 0xBF;
        if (b == 0xE0) lo = 0xA0;
        if (b == 0xED) hi = 0x9F;
        return (p[1] >= lo && p[1] <= hi) ? 3 : 0;
    }
    if (b >= 0xF0 && b <= 0xF4) {
        if (left < 4 || (p[2] & 0xC0) != 0x80 || (p[3] & 0xC0) != 0x80) return 0;
        uint8_t lo = 0x80, hi = 0xBF;
        if (b == 0xF0) lo = 0x90;
        if (b == 0xF4) hi = 0x8F;
        return (p[1] >= lo && p[1] <= hi) ? 4 : 0;
    }
    return 0;
}

/* The estimate's units of one code point (see _estimate.py): 1, 3 for a wide character
 * (U+3000..U+D7FF, beyond U+FFFF), 5 for a line break. */
#define UNITS_LF 5
#define UNITS_WIDE 3

/* An escape after the backslash at p[-1]: advance past it; returns the units of the code
 * point it stands for (0 when it is not a valid escape). Lone surrogates are refused (the
 * Python decoders refuse them too). */
static inline int escape(Cur *c) {
    if (c->p >= c->e) return 0;
    uint8_t x = *c->p++;
    switch (x) {
        case 'n':
            return UNITS_LF;
        case '"': case '\\': case '/': case 'b': case 'f': case 'r': case 't':
            return 1;
        case 'u': {
            unsigned u;
            if (!hex4(c->p, c->e, &u)) return 0;
            c->p += 4;
            if (u >= 0xDC00 && u <= 0xDFFF) return 0;
            if (u >= 0xD800 && u <= 0xDBFF) {
                unsigned lo;
                if (c->e - c->p < 6 || c->p[0] != '\\' || c->p[1] != 'u' ||
                    !hex4(c->p + 2, c->e, &lo) || lo < 0xDC00 || lo > 0xDFFF)
                    return 0;
                c->p += 6;
                return UNITS_WIDE;
            }
            if (u == '\n') return UNITS_LF;
            return (u >= 0x3000 && u <= 0xD7FF) ? UNITS_WIDE : 1;
        }
        default:
            return 0;
    }
}

#define ONES 0x0101010101010101ull
#define HIGHS 0x8080808080808080ull

/* Non-zero when one of the eight bytes is a quote, a backslash, a control or non-ASCII byte. */
static inline uint64_t has_zero(uint64_t v) { return (v - ONES) & ~v & HIGHS; }

static inline uint64_t special8(uint64_t x) {
    return has_zero(x ^ (ONES * '"')) | has_zero(x ^ (ONES * '\\')) |
           ((x - ONES * 0x20) & ~x & HIGHS) | (x & HIGHS);
}

/* A string at the cursor (which must be at its opening quote), fully validated. */
static int parse_str(Cur *c, Str *s) {
    skip_ws(c);
    if (c->p >= c->e || *c->p != '"') return 0;
    const uint8_t *p = ++c->p;
    const uint8_t *e = c->e;
    Py_ssize_t chars = 0;
    int escaped = 0;
    s->s = p;
    for (;;) {
        /* the common run of plain ASCII, eight bytes at a time while none is special */
        const uint8_t *run = p;
        while (e - p >= 8) {
            uint64_t x;
            memcpy(&x, p, 8);
            if (special8(x)) break;
            p += 8;
        }
        while (p < e && *p >= 0x20 && *p < 0x80 && *p != '"' && *p != '\\') p++;
        chars += p - run;
        if (p >= e) return 0;
        uint8_t b = *p;
        if (b == '"') break;
        if (b == '\\') {
            c->p = p + 1;
            int units = escape(c);
            if (!units) return 0;
            p = c->p;
            chars += units;
            escaped = 1;
        } else if (b < 0x20) {
            return 0;  /* a raw control character */
        } else {
            int k = utf8_seq(p, e);
            if (!k) return 0;
            /* lead bytes E3..ED: U+3000..U+D7FF; a four-byte sequence: beyond U+FFFF */
            chars += (b >= 0xE3 && b <= 0xED) || k == 4 ? UNITS_WIDE : 1;
            p += k;
        }
    }
    s->n = p - s->s;
    s->chars = chars;
    s->escaped = escaped;
    c->p = p + 1;
    return 1;
}

static inline int str_is(const Str *s, const char *lit, Py_ssize_t n) {
    return !s->escaped && s->n == n && memcmp(s->s, lit, (size_t)n) == 0;
}
#define STR_IS(s, lit) str_is((s), lit, (Py_ssize_t)(sizeof(lit) - 1))

/* -- a generic JSON validator, for tool-call arguments ---------------------------------------
 * It must accept only what orjson.loads accepts; whatever it is unsure of it refuses, and the
 * Python checks decide. */

static int valid_value(Cur *c, int depth);

static int valid_number(Cur *c) {
    const uint8_t *p = c->p, *e = c->e, *start = c->p;
    if (p < e && *p == '-') p++;
    if (p >= e) return 0;
    if (*p == '0') {
        p++;
    } else if (*p >= '1' && *p <= '9') {
        while (p < e && *p >= '0' && *p <= '9') p++;
    } else {
        return 0;
    }
    if (p < e && *p == '.') {
        p++;
        if (p >= e || *p < '0' || *p > '9') return 0;
        while (p < e && *p >= '0' && *p <= '9') p++;
    }
    if (p < e && (*p == 'e' || *p == 'E')) {
        p++;
        if (p < e && (*p == '+' || *p == '-')) p++;
        const uint8_t *d = p;
        while (p < e && *p >= '0' && *p <= '9') p++;
        if (p == d || p - d > 2) return 0; /* a huge exponent may overflow a double: unsure */
    }
    if (p - start > 40) return 0;
    c->p = p;
    return 1;
}

static int valid_lit(Cur *c, const char *lit, size_t n) {
    if ((size_t)(c->e - c->p) < n || memcmp(c->p, lit, n) != 0) return 0;
    c->p += n;
    return 1;
}

static int valid_value(Cur *c, int depth) {
    Str s;
    skip_ws(c);
    if (c->p >= c->e || depth > 200) return 0;
    switch (*c->p) {
        case '"':
            return parse_str(c, &s);
        case '{':
            c->p++;
            if (expect(c, '}')) return 1;
            for (;;) {
                if (!parse_str(c, &s) || !expect(c, ':') || !valid_value(c, depth + 1)) return 0;
                if (expect(c, ',')) continue;
                return expect(c, '}');
            }
        case '[':
            c->p++;
            if (expect(c, ']')) return 1;
            for (;;) {
                if (!valid_value(c, depth + 1)) return 0;
                if (expect(c, ',')) continue;
                return expect(c, ']');
            }
        case 't':
            return valid_lit(c, "true", 4);
        case 'f':
            return valid_lit(c, "false", 5);
        case 'n':
            return valid_lit(c, "null", 4);
        default:
            return valid_number(c);
    }
}

/* Does the (decoded) string hold one JSON document? */
static int arguments_are_json(const Str *s) {
    Cur c;
    uint8_t stack_buf[512];
    uint8_t *buf = NULL;
    int ok;
    if (!s->escaped) {
        c.p = s->s;
        c.e = s->s + s->n;
        ok = valid_value(&c, 0);
        skip_ws(&c);
        return ok && c.p == c.e;
    }
    /* decode the escapes first: the decoded text is what orjson.loads would see */
    buf = (size_t)s->n <= sizeof(stack_buf) ? stack_buf : (uint8_t *)PyMem_Malloc((size_t)s->n);
    if (buf == NULL) return 0;
    uint8_t *o = buf;
    const uint8_t *p = s->s, *e = s->s + s->n;
    while (p < e) {
        if (*p != '\\') {
            *o++ = *p++;
            continue;
        }
        uint8_t x = p[1];
        p += 2;
        unsigned u;
        switch (x) {
            case 'b': *o++ = '\b'; continue;
            case 'f': *o++ = '\f'; continue;
            case 'n': *o++ = '\n'; continue;
            case 'r': *o++ = '\r'; continue;
            case 't': *o++ = '\t'; continue;
            case 'u': break;
            default: *o++ = x; continue;  /* " \ / */
        }
        hex4(p, e, &u); /* validated by parse_str already */
        p += 4;
        if (u >= 0xD800 && u <= 0xDBFF) {
            unsigned lo;
            hex4(p + 2, e, &lo);
            p += 6;
            u = 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00);
        }
        /* an escape never takes more bytes as UTF-8 than it took as \uXXXX */
        if (u < 0x80) {
            *o++ = (uint8_t)u;
        } else if (u < 0x800) {
            *o++ = (uint8_t)(0xC0 | (u >> 6));
            *o++ = (uint8_t)(0x80 | (u & 0x3F));
        } else if (u < 0x10000) {
            *o++ = (uint8_t)(0xE0 | (u >> 12));
            *o++ = (uint8_t)(0x80 | ((u >> 6) & 0x3F));
            *o++ = (uint8_t)(0x80 | (u & 0x3F));
        } else {
            *o++ = (uint8_t)(0xF0 | (u >> 18));
            *o++ = (uint8_t)(0x80 | ((u >> 12) & 0x3F));
            *o++ = (uint8_t)(0x80 | ((u >> 6) & 0x3F));
            *o++ = (uint8_t)(0x80 | (u & 0x3F));
        }
    }
    c.p = buf;
    c.e = o;
    ok = valid_value(&c, 0);
    skip_ws(&c);
    ok = ok && c.p == c.e;
    if (buf != stack_buf) PyMem_Free(buf);
    return ok;
}

/* -- the chat record ------------------------------------------------------------------------ */

enum { R_NONE = 0, R_SYSTEM = 1, R_USER = 2, R_ASSISTANT = 3, R_TOOL = 4 };

/* features, in the numbering ``_scan`` maps back to names and locations */
enum {
    F_WEIGHT = 0,          /* messages[i].weight      message_key.weight */
    F_CALLS = 1,           /* messages[i].tool_calls  message_key.tool_calls */
    F_PARALLEL = 2,        /* messages[i].tool_calls  assistant.parallel_tool_calls */
    F_NO_CONTENT = 3,      /* messages[i].content     assistant.tool_calls_without_content */
    F_SYSTEM_NOT_1ST = 4,  /* messages[i].role        turns.system_not_first */
    F_TOOL_ROLE = 5,       /* messages[i].role        role.tool */
    F_CONSECUTIVE = 6,     /* messages[i].role        turns.consecutive {role} */
    F_FIRST_NOT_USER = 7,  /* messages[i].role        turns.first_not_user {role} */
};

#define MAX_CALLS 64
#define MAX_FEATS 96

typedef struct {
    int flags; /* 1 << F_x for each feature a profile wants noted */
    /* the record being checked */
    const uint8_t *call_id[MAX_CALLS];
    Py_ssize_t call_len[MAX_CALLS];
    int ncalls;
    int feat[MAX_FEATS][3]; /* message index, feature, role */
    int nfeat;
} Rec;

static inline int note(Rec *r, int i, int f, int role) {
    if (!(r->flags & (1 << f))) return 1;
    if (r->nfeat >= MAX_FEATS) return 0;
    r->feat[r->nfeat][0] = i;
    r->feat[r->nfeat][1] = f;
    r->feat[r->nfeat][2] = role;
    r->nfeat++;
    return 1;
}

/* One tool call object: {"id", "type": "function", "function": {"name", "arguments"}}. */
static int parse_call(Cur *c, Rec *r) {
    Str k, id, type, name, args;
    int seen = 0;
    if (!expect(c, '{')) return 0;
    if (expect(c, '}')) return 0;
    for (;;) {
        if (!parse_str(c, &k) || !expect(c, ':')) return 0;
        if (STR_IS(&k, "id") && !(seen & 1)) {
            seen |= 1;
            if (!parse_str(c, &id) || id.chars == 0 || id.escaped) return 0;
        } else if (STR_IS(&k, "type") && !(seen & 2)) {
            seen |= 2;
            if (!parse_str(c, &type) || !STR_IS(&type, "function")) return 0;
        } else if (STR_IS(&k, "function") && !(seen & 4)) {
            seen |= 4;
            int fseen = 0;
            if (!expect(c, '{') || expect(c, '}')) return 0;
            for (;;) {
                Str fk;
                if (!parse_str(c, &fk) || !expect(c, ':')) return 0;
                if (STR_IS(&fk, "name") && !(fseen & 1)) {
                    fseen |= 1;
                    if (!parse_str(c, &name) || name.chars == 0) return 0;
                } else if (STR_IS(&fk, "arguments") && !(fseen & 2)) {
                    fseen |= 2;
                    if (!parse_str(c, &args)) return 0;
                } else {
                    return 0;
                }
                if (expect(c, ',')) continue;
                if (!expect(c, '}')) return 0;
                break;
            }
            if (fseen != 3) return 0;
        } else {
            return 0;
        }
        if (expect(c, ',')) continue;
        if (!expect(c, '}')) return 0;
        break;
    }
    if (seen != 7) return 0;
    /* the checks in the order check_fast makes them: duplicate id, then the arguments */
    for (int j = 0; j < r->ncalls; j++)
        if (r->call_len[j] == id.n && memcmp(r->call_id[j], id.s, (size_t)id.n) == 0) return 0;
    if (r->ncalls >= MAX_CALLS) return 0;
    r->call_id[r->ncalls] = id.s;
    r->call_len[r->ncalls] = id.n;
    r->ncalls++;
    return arguments_are_json(&args);
}

typedef struct {
    Py_ssize_t n, chars, trainable, users;
    int has_system;
} Result;

/* One line: 1 and *out filled when it is an accepted chat record, 0 for the Python path. */
static int check_line(const uint8_t *p, const uint8_t *e, Rec *r, Result *out) {
    Cur c = {p, e};
    Str k;
    Py_ssize_t chars = 0, trainable = 0, users = 0, assistants = 0, weighted_out = 0, i = -1;
    int has_system = 0, prev = R_NONE, first_turn = -1, first_turn_role = R_NONE;
    r->ncalls = 0;
    r->nfeat = 0;
    if (!expect(&c, '{') || !parse_str(&c, &k) || !STR_IS(&k, "messages") || !expect(&c, ':') ||
        !expect(&c, '['))
        return 0;
    if (expect(&c, ']')) return 0; /* no messages */
    for (;;) {
        /* one message, keys in any order */
        int role = R_NONE, seen = 0, weight = -1, ncalls = 0, content_null = 0;
        int calls_before = r->ncalls;
        Str content = {0}, tcid = {0};
        i++;
        if (i > 1000000) return 0;
        if (!expect(&c, '{') || expect(&c, '}')) return 0;
        for (;;) {
            if (!parse_str(&c, &k) || !expect(&c, ':')) return 0;
            if (STR_IS(&k, "role") && !(seen & 1)) {
                Str v;
                seen |= 1;
                if (!parse_str(&c, &v)) return 0;
                if (STR_IS(&v, "user")) role = R_USER;
                else if (STR_IS(&v, "assistant")) role = R_ASSISTANT;
                else if (STR_IS(&v, "system")) role = R_SYSTEM;
                else if (STR_IS(&v, "tool")) role = R_TOOL;
                else return 0;
            } else if (STR_IS(&k, "content") && !(seen & 2)) {
                seen |= 2;
                skip_ws(&c);
                if (c.p < c.e && *c.p == 'n') {
                    if (!valid_lit(&c, "null", 4)) return 0;
                    content_null = 1;
                } else if (!parse_str(&c, &content) || content.chars == 0) {
                    return 0;
                }
            } else if (STR_IS(&k, "weight") && !(seen & 4)) {
                seen |= 4;
                skip_ws(&c);
                if (c.p >= c.e || (*c.p != '0' && *c.p != '1')) return 0;
                weight = *c.p++ - '0';
                skip_ws(&c);
                if (c.p >= c.e || (*c.p != ',' && *c.p != '}')) return 0;
            } else if (STR_IS(&k, "tool_calls") && !(seen & 8)) {
                seen |= 8;
                if (!expect(&c, '[') || expect(&c, ']')) return 0;
                for (;;) {
                    if (!parse_call(&c, r)) return 0;
                    ncalls++;
                    if (expect(&c, ',')) continue;
                    if (!expect(&c, ']')) return 0;
                    break;
                }
            } else if (STR_IS(&k, "tool_call_id") && !(seen & 16)) {
                seen |= 16;
                if (!parse_str(&c, &tcid) || tcid.escaped) return 0;
            } else {
                return 0;
            }
            if (expect(&c, ',')) continue;
            if (!expect(&c, '}')) return 0;
            break;
        }
        /* the keys each role admits (as the _fast structs do) */
        switch (role) {
            case R_SYSTEM:
            case R_USER:
                if (seen != 3 || content_null) return 0;
                break;
            case R_ASSISTANT:
                if (seen & 16) return 0;
                break;
            case R_TOOL:
                if (seen != (1 | 2 | 16) || content_null) return 0;
                break;
            default:
                return 0;
        }
        /* what check_fast does with the message, feature for feature */
        if (role == R_USER) {
            chars += content.chars;
            users++;
        } else if (role == R_ASSISTANT) {
            int has_content = (seen & 2) && !content_null;
            assistants++;
            if (!(seen & 8)) {
                if (!has_content) return 0; /* chat.assistant_empty */
                chars += content.chars;
                if (weight < 0) {
                    trainable += content.chars;
                } else {
                    if (weight) trainable += content.chars;
                    else weighted_out++;
                    if (!note(r, (int)i, F_WEIGHT, 0)) return 0;
                }
            } else {
                int wk = r->flags & (1 << F_WEIGHT), ck = r->flags & (1 << F_CALLS);
                Py_ssize_t n = 0;
                if (weight >= 0 && wk) {
                    if (ck) return 0; /* the two features' order follows the keys' order */
                    if (!note(r, (int)i, F_WEIGHT, 0)) return 0;
                } else if (ck) {
                    if (!note(r, (int)i, F_CALLS, 0)) return 0;
                }
                if (ncalls > 1 && !note(r, (int)i, F_PARALLEL, 0)) return 0;
                if (!has_content) {
                    if (!note(r, (int)i, F_NO_CONTENT, 0)) return 0;
                } else {
                    n = content.chars;
                    chars += n;
                }
                if (weight != 0) trainable += n;
                else weighted_out++;
            }
        } else if (role == R_SYSTEM) {
            chars += content.chars;
            has_system = 1;
            if (i && !note(r, (int)i, F_SYSTEM_NOT_1ST, 0)) return 0;
        } else { /* tool */
            int found = 0;
            if (!note(r, (int)i, F_TOOL_ROLE, 0)) return 0;
            for (int j = 0; j < calls_before && !found; j++)
                found = r->call_len[j] == tcid.n &&
                        memcmp(r->call_id[j], tcid.s, (size_t)tcid.n) == 0;
            if (!found) return 0; /* chat.tool_call_id_unknown */
            chars += content.chars;
        }
        if (role == prev && role != R_TOOL && !note(r, (int)i, F_CONSECUTIVE, role)) return 0;
        prev = role;
        if (first_turn < 0 && role != R_SYSTEM) {
            first_turn = (int)i;
            first_turn_role = role;
        }
        if (expect(&c, ',')) continue;
        if (!expect(&c, ']')) return 0;
        break;
    }
    if (!expect(&c, '}')) return 0;
    skip_ws(&c);
    if (c.p != c.e) return 0;
    if (!assistants || weighted_out == assistants) return 0; /* nothing to learn from */
    /* the first message after any system ones should be the user's */
    if (first_turn >= 0 && first_turn_role != R_USER &&
        !note(r, first_turn, F_FIRST_NOT_USER, first_turn_role))
        return 0;
    out->n = i + 1;
    out->chars = chars;
    out->trainable = trainable;
    out->users = users;
    out->has_system = has_system;
    return 1;
}

/* -- the Python entry point ----------------------------------------------------------------- */

typedef struct {
    int64_t *v;
    Py_ssize_t n, cap;
} Vec;

static int vec_push(Vec *a, int64_t x) {
    if (a->n == a->cap) {
        Py_ssize_t cap = a->cap ? a->cap * 2 : 1024;
        int64_t *v = (int64_t *)PyMem_Realloc(a->v, (size_t)cap * sizeof(int64_t));
        if (v == NULL) return 0;
        a->v = v;
        a->cap = cap;
    }
    a->v[a->n++] = x;
    return 1;
}

static PyObject *vec_bytes(Vec *a) {
    return PyBytes_FromStringAndSize((const char *)a->v, a->n * (Py_ssize_t)sizeof(int64_t));
}

static PyObject *events_for(Rec *r, Py_ssize_t ln, int64_t tokens, int64_t lowest) {
    PyObject *feats = PyTuple_New(r->nfeat * 3);
    if (feats == NULL) return NULL;
    for (int j = 0; j < r->nfeat; j++)
        for (int q = 0; q < 3; q++)
            PyTuple_SET_ITEM(feats, j * 3 + q, PyLong_FromLong(r->feat[j][q]));
    return Py_BuildValue("(nnNL)", ln, (Py_ssize_t)1, feats,
                         (long long)(tokens > lowest ? tokens : 0));
}

PyDoc_STRVAR(scan_block_doc,
"scan_block(block, flags, first_line, base, lowest, max_line) -> tuple\n\n"
"Check every line of ``block`` (complete lines, each ending in a newline). ``first_line`` is\n"
"the number of the line before the block, ``base`` the block's offset in the file, ``lowest``\n"
"the lowest token limit, ``max_line`` the longest line to check here.\n\n"
"Returns ``(lines, stats, hashes, hash_lines, offsets, events)``: ``stats`` is (examples,\n"
"token sum/min/max, trainable tokens, messages sum/min/max, user turns sum/min/max, without\n"
"system); the three byte strings are int64 arrays for the accepted lines; ``events`` lists,\n"
"in line order, ``(line, 0, start, end)`` for a line Python must check itself (start and end\n"
"index the block) and ``(line, 1, features, tokens)`` for an accepted line with features or\n"
"over ``lowest`` tokens (``tokens`` 0 when not over).");

static PyObject *scan_block(PyObject *self, PyObject *args) {
    (void)self;
    Py_buffer view;
    int flags;
    Py_ssize_t first_line;
    long long base, lowest;
    Py_ssize_t max_line;
    if (!PyArg_ParseTuple(args, "y*inLLn", &view, &flags, &first_line, &base, &lowest, &max_line))
        return NULL;
    const uint8_t *buf = (const uint8_t *)view.buf, *end = buf + view.len, *p = buf;
    Vec hashes = {0}, lines = {0}, offsets = {0};
    PyObject *events = PyList_New(0);
    PyObject *result = NULL;
    Rec *r = (Rec *)PyMem_Malloc(sizeof(Rec));
    int64_t checked = 0, tok_sum = 0, tok_min = INT64_MAX, tok_max = 0, train_sum = 0;
    int64_t msg_sum = 0, msg_min = INT64_MAX, msg_max = 0, turn_sum = 0, turn_min = INT64_MAX;
    int64_t turn_max = 0, without_system = 0;
    Py_ssize_t ln = first_line;
    if (events == NULL || r == NULL) goto done;
    r->flags = flags;
    while (p < end) {
        const uint8_t *nl = (const uint8_t *)memchr(p, '\n', (size_t)(end - p));
        const uint8_t *le = nl ? nl : end;
        Result res;
        ln++;
        if (le - p <= max_line && check_line(p, le, r, &res)) {
            int64_t len = le - p;
            int64_t tokens = res.chars / 4 + 3 * res.n + 3;
            uint32_t hash = line_hash(p, (size_t)len);
            if (!vec_push(&hashes, (int64_t)hash | (len << 32)) || !vec_push(&lines, ln) ||
                !vec_push(&offsets, base + (p - buf)))
                goto nomem;
            checked++;
            tok_sum += tokens;
            if (tokens < tok_min) tok_min = tokens;
            if (tokens > tok_max) tok_max = tokens;
            train_sum += res.trainable / 4;
            msg_sum += res.n;
            if (res.n < msg_min) msg_min = res.n;
            if (res.n > msg_max) msg_max = res.n;
            turn_sum += res.users;
            if (res.users < turn_min) turn_min = res.users;
            if (res.users > turn_max) turn_max = res.users;
            if (!res.has_system) without_system++;
            if (r->nfeat || tokens > lowest) {
                PyObject *ev = events_for(r, ln, tokens, lowest);
                if (ev == NULL || PyList_Append(events, ev) < 0) {
                    Py_XDECREF(ev);
                    goto done;
                }
                Py_DECREF(ev);
            }
        } else {
            PyObject *ev = Py_BuildValue("(nnnn)", ln, (Py_ssize_t)0, (Py_ssize_t)(p - buf),
                                         (Py_ssize_t)(le - buf));
            if (ev == NULL || PyList_Append(events, ev) < 0) {
                Py_XDECREF(ev);
                goto done;
            }
            Py_DECREF(ev);
        }
        if (nl == NULL) break;
        p = nl + 1;
    }
    {
        PyObject *h = vec_bytes(&hashes), *l = vec_bytes(&lines), *o = vec_bytes(&offsets);
        if (h == NULL || l == NULL || o == NULL) {
            Py_XDECREF(h);
            Py_XDECREF(l);
            Py_XDECREF(o);
            goto done;
        }
        result = Py_BuildValue(
            "(n(LLLLLLLLLLLL)NNNO)", ln - first_line, (long long)checked, (long long)tok_sum,
            (long long)tok_min, (long long)tok_max, (long long)train_sum, (long long)msg_sum,
            (long long)msg_min, (long long)msg_max, (long long)turn_sum, (long long)turn_min,
            (long long)turn_max, (long long)without_system, h, l, o, events);
    }
    goto done;
nomem:
    PyErr_NoMemory();
done:
    Py_XDECREF(events);
    PyMem_Free(r);
    PyMem_Free(hashes.v);
    PyMem_Free(lines.v);
    PyMem_Free(offsets.v);
    PyBuffer_Release(&view);
    return result;
}

static PyObject *line_hash_py(PyObject *self, PyObject *arg) {
    Py_buffer view;
    (void)self;
    if (PyObject_GetBuffer(arg, &view, PyBUF_SIMPLE) < 0) return NULL;
    uint32_t h = line_hash((const uint8_t *)view.buf, (size_t)view.len);
    PyBuffer_Release(&view);
    return PyLong_FromUnsignedLong(h);
}

PyDoc_STRVAR(dup_probe_doc,
"dup_probe(keys, where, stored, limit, before, hashes, hash_lines, offsets) -> tuple\n\n"
"Look a range's duplicate keys up in an open-addressing table (``keys`` and ``where``, two\n"
"writable int64 arrays whose length is a power of two, at most half full), adding the new\n"
"ones while fewer than ``limit`` are stored. ``before`` is the number of lines before the range.\n"
"Returns ``(stored, checked, firsts, candidates)``: ``firsts`` an int64 array (bytes) of\n"
"(line, offset) pairs for the keys added, ``candidates`` a list of ``(index of the earlier\n"
"key, line, offset, length)`` for lines whose key was seen before, to confirm byte by byte.");

static PyObject *dup_probe(PyObject *self, PyObject *args) {
    Py_buffer kb, wb, hb, lb, ob;
    Py_ssize_t stored, limit, before;
    (void)self;
    if (!PyArg_ParseTuple(args, "w*w*nnny*y*y*", &kb, &wb, &stored, &limit, &before, &hb, &lb,
                          &ob))
        return NULL;
    PyObject *result = NULL, *candidates = PyList_New(0);
    Vec firsts = {0};
    int64_t *keys = (int64_t *)kb.buf, *where = (int64_t *)wb.buf;
    const int64_t *hashes = (const int64_t *)hb.buf, *lines = (const int64_t *)lb.buf;
    const int64_t *offsets = (const int64_t *)ob.buf;
    Py_ssize_t slots = kb.len / 8, n = hb.len / 8, checked = 0;
    uint64_t mask = (uint64_t)slots - 1;
    if (candidates == NULL) goto done;
    if (slots == 0 || (slots & (slots - 1)) || wb.len != kb.len || lb.len != hb.len ||
        ob.len != hb.len || stored * 2 > slots) {
        PyErr_SetString(PyExc_ValueError, "dup_probe: inconsistent table or key arrays");
        goto done;
    }
    for (Py_ssize_t j = 0; j < n; j++) {
        int64_t key = hashes[j];
        uint64_t slot = (uint64_t)key & mask;
        while (keys[slot] != 0 && keys[slot] != key) slot = (slot + 1) & mask;
        if (keys[slot] == 0) {
            if (stored < limit && stored * 2 < slots) {
                keys[slot] = key;
                where[slot] = stored;
                if (!vec_push(&firsts, lines[j] + before) || !vec_push(&firsts, offsets[j])) {
                    PyErr_NoMemory();
                    goto done;
                }
                stored++;
                checked++;
            }
            continue;
        }
        checked++;
        PyObject *c = Py_BuildValue("(LLLL)", (long long)where[slot], (long long)lines[j],
                                    (long long)offsets[j], (long long)(key >> 32));
        if (c == NULL || PyList_Append(candidates, c) < 0) {
            Py_XDECREF(c);
            goto done;
        }
        Py_DECREF(c);
    }
    {
        PyObject *fb = vec_bytes(&firsts);
        if (fb != NULL) result = Py_BuildValue("(nnNO)", stored, checked, fb, candidates);
    }
done:
    Py_XDECREF(candidates);
    PyMem_Free(firsts.v);
    PyBuffer_Release(&kb);
    PyBuffer_Release(&wb);
    PyBuffer_Release(&hb);
    PyBuffer_Release(&lb);
    PyBuffer_Release(&ob);
    return result;
}

static PyMethodDef methods[] = {
    {"scan_block", scan_block, METH_VARARGS, scan_block_doc},
    {"dup_probe", dup_probe, METH_VARARGS, dup_probe_doc},
    {"line_hash", line_hash_py, METH_O,
     "line_hash(data) -> int: the 32-bit hash scan_block keys duplicates with"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_cscan",
    "The compiled fast path of dataset validation (see _cscan.c).", -1, methods,
    NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__cscan(void) {
    PyObject *m = PyModule_Create(&module);
    if (m != NULL && PyModule_AddIntConstant(m, "VERSION", CSCAN_VERSION) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
