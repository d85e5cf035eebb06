/*
 * ingest_spl.c — DailyMed SPL XML: a small, strict XML reader (elements, attributes, the five
 * predefined entities and character references, CDATA, comments, processing instructions,
 * DOCTYPE skipped) building a tree, then SPL extraction: set id, version, effective time, title,
 * product names, and sections by LOINC code (nested sections inherit their parent's code when
 * they are unclassified). Section text keeps paragraph, list item and table row boundaries.
 */
#define _GNU_SOURCE 1 /* memmem, strcasestr */
#include "kb/kb.h"
#include "util/util.h"
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#define MAX_XML (256u << 20) /* one SPL file */
#define MAX_XML_DEPTH 256    /* element nesting */

/* ============================================================================================
 * XML tree
 * ========================================================================================== */
typedef struct xattr {
    char *name;  /* local name (namespace prefix dropped) */
    char *value; /* decoded value */
} xattr;

typedef struct xnode {
    char         *name;   /* local element name; NULL for a text node */
    char         *text;   /* decoded text (text nodes only) */
    xattr        *attrs;  /* attributes */
    int           nattrs; /* count of attrs */
    struct xnode *parent; /* NULL for the root */
    struct xnode *first;  /* first child */
    struct xnode *last;   /* last child */
    struct xnode *next;   /* next sibling */
} xnode;

static void xfree(xnode *n) {
    while (n) {
        xnode *nx = n->next;
        xfree(n->first);
        for (int i = 0; i < n->nattrs; i++) {
            free(n->attrs[i].name);
            free(n->attrs[i].value);
        }
        free(n->attrs);
        free(n->name);
        free(n->text);
        free(n);
        n = nx;
    }
}

static const char *xattr_get(const xnode *n, const char *name) {
    for (int i = 0; n && i < n->nattrs; i++)
        if (!strcmp(n->attrs[i].name, name)) return n->attrs[i].value;
    return NULL;
}

static xnode *xchild(const xnode *n, const char *name) {
    for (xnode *c = n ? n->first : NULL; c; c = c->next)
        if (c->name && !strcmp(c->name, name)) return c;
    return NULL;
}

/* ============================================================================================
 * XML parser
 * ========================================================================================== */
typedef struct xparser {
    const char *s;     /* input */
    size_t      len;   /* bytes */
    size_t      pos;   /* cursor */
    const char *name;  /* file name for messages */
    orx_error  *err;   /* error sink */
    orx_status  st;    /* first error */
} xparser;

static orx_status xerr(xparser *p, size_t at, const char *fmt, const char *arg) {
    if (p->st != ORX_OK) return p->st;
    long line = 1, col = 1;
    for (size_t i = 0; i < at && i < p->len; i++) {
        if (p->s[i] == '\n') line++, col = 1;
        else col++;
    }
    char what[256];
    snprintf(what, sizeof what, fmt, arg ? arg : "");
    p->st = orx_fail(p->err, ORX_ERR_PARSE, "%s:%ld:%ld: %s", p->name, line, col, what);
    return p->st;
}

static bool starts(const xparser *p, const char *lit) {
    size_t n = strlen(lit);
    return p->pos + n <= p->len && !memcmp(p->s + p->pos, lit, n);
}

static bool skip_past(xparser *p, const char *lit) {
    const char *e = memmem(p->s + p->pos, p->len - p->pos, lit, strlen(lit));
    if (!e) return false;
    p->pos = (size_t)(e - p->s) + strlen(lit);
    return true;
}

static void put_utf8(orx_buf *b, unsigned long cp) {
    char u[4];
    size_t n;
    if (cp < 0x80) u[0] = (char)cp, n = 1;
    else if (cp < 0x800) u[0] = (char)(0xC0 | (cp >> 6)), u[1] = (char)(0x80 | (cp & 0x3F)), n = 2;
    else if (cp < 0x10000)
        u[0] = (char)(0xE0 | (cp >> 12)), u[1] = (char)(0x80 | ((cp >> 6) & 0x3F)),
        u[2] = (char)(0x80 | (cp & 0x3F)), n = 3;
    else
        u[0] = (char)(0xF0 | (cp >> 18)), u[1] = (char)(0x80 | ((cp >> 12) & 0x3F)),
        u[2] = (char)(0x80 | ((cp >> 6) & 0x3F)), u[3] = (char)(0x80 | (cp & 0x3F)), n = 4;
    orx_buf_append(b, u, n);
}

/* decode s[from, to) with entities into out */
static bool decode(xparser *p, size_t from, size_t to, orx_buf *out) {
    for (size_t i = from; i < to;) {
        const char *amp = memchr(p->s + i, '&', to - i);
        size_t stop = amp ? (size_t)(amp - p->s) : to;
        orx_buf_append(out, p->s + i, stop - i);
        if (!amp) break;
        const char *semi = memchr(amp, ';', to - stop < 12 ? to - stop : 12);
        if (!semi) return xerr(p, stop, "unterminated entity reference%s", NULL), false;
        size_t n = (size_t)(semi - amp - 1);
        const char *e = amp + 1;
        if (n && e[0] == '#') {
            char *end;
            unsigned long cp = (n > 1 && (e[1] == 'x' || e[1] == 'X')) ? strtoul(e + 2, &end, 16)
                                                                       : strtoul(e + 1, &end, 10);
            if (end != semi || cp == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
                return xerr(p, stop, "bad character reference%s", NULL), false;
            put_utf8(out, cp);
        } else if (n == 2 && !memcmp(e, "lt", 2)) orx_buf_puts(out, "<");
        else if (n == 2 && !memcmp(e, "gt", 2)) orx_buf_puts(out, ">");
        else if (n == 3 && !memcmp(e, "amp", 3)) orx_buf_puts(out, "&");
        else if (n == 4 && !memcmp(e, "quot", 4)) orx_buf_puts(out, "\"");
        else if (n == 4 && !memcmp(e, "apos", 4)) orx_buf_puts(out, "'");
        else {
            char nm[16];
            snprintf(nm, sizeof nm, "%.*s", (int)n, e);
            return xerr(p, stop, "unknown entity &%s;", nm), false;
        }
        i = (size_t)(semi - p->s) + 1;
    }
    return true;
}

static bool name_char(char c) {
    return c && !isspace((unsigned char)c) && !strchr("<>/=\"'!?", c);
}

/* local name at pos (prefix dropped); advances */
static char *read_name(xparser *p) {
    size_t b = p->pos;
    while (p->pos < p->len && name_char(p->s[p->pos])) p->pos++;
    if (p->pos == b) return NULL;
    const char *colon = memchr(p->s + b, ':', p->pos - b);
    size_t from = colon ? (size_t)(colon - p->s) + 1 : b;
    return orx_strndup(p->s + from, p->pos - from);
}

static void skip_space(xparser *p) {
    while (p->pos < p->len && isspace((unsigned char)p->s[p->pos])) p->pos++;
}

static xnode *add_child(xnode *parent, xnode *c) {
    c->parent = parent;
    if (parent->last) parent->last->next = c;
    else parent->first = c;
    parent->last = c;
    return c;
}

static bool add_text(xnode *parent, orx_buf *t) {
    if (!t->len) return true;
    xnode *n = calloc(1, sizeof *n);
    if (!n) return false;
    n->text = orx_buf_steal(t);
    add_child(parent, n);
    return true;
}

static bool parse_attrs(xparser *p, xnode *n) {
    for (;;) {
        skip_space(p);
        if (p->pos >= p->len) return xerr(p, p->pos, "end of input inside a tag%s", NULL), false;
        char c = p->s[p->pos];
        if (c == '>' || c == '/') return true;
        size_t at = p->pos;
        char *name = read_name(p);
        if (!name) return xerr(p, at, "bad attribute name%s", NULL), false;
        skip_space(p);
        if (p->pos >= p->len || p->s[p->pos] != '=') {
            free(name);
            return xerr(p, p->pos, "expected '=' after attribute name%s", NULL), false;
        }
        p->pos++;
        skip_space(p);
        char q = p->pos < p->len ? p->s[p->pos] : 0;
        if (q != '"' && q != '\'') {
            free(name);
            return xerr(p, p->pos, "attribute value must be quoted%s", NULL), false;
        }
        const char *end = memchr(p->s + p->pos + 1, q, p->len - p->pos - 1);
        if (!end) {
            free(name);
            return xerr(p, p->pos, "unterminated attribute value%s", NULL), false;
        }
        orx_buf v;
        orx_buf_init(&v);
        bool ok = decode(p, p->pos + 1, (size_t)(end - p->s), &v);
        p->pos = (size_t)(end - p->s) + 1;
        xattr *na = ok ? realloc(n->attrs, (size_t)(n->nattrs + 1) * sizeof *na) : NULL;
        if (!na) {
            free(name);
            orx_buf_clear(&v);
            return ok ? (xerr(p, at, "out of memory%s", NULL), false) : false;
        }
        n->attrs = na;
        n->attrs[n->nattrs].name = name;
        n->attrs[n->nattrs].value = v.data ? orx_buf_steal(&v) : orx_strdup("");
        n->nattrs++;
    }
}

/* Parse the whole buffer; returns a synthetic container node whose child is the root element. */
static xnode *xml_parse(xparser *p) {
    xnode *doc = calloc(1, sizeof *doc);
    if (!doc) return NULL;
    doc->name = orx_strdup("#document");
    xnode *cur = doc;
    int depth = 0;
    bool had_root = false;
    orx_buf text;
    orx_buf_init(&text);
    if (starts(p, "\xEF\xBB\xBF")) p->pos += 3;
    while (p->st == ORX_OK && p->pos < p->len) {
        if (p->s[p->pos] != '<') {
            const char *lt = memchr(p->s + p->pos, '<', p->len - p->pos);
            size_t end = lt ? (size_t)(lt - p->s) : p->len;
            if (cur == doc) {
                for (size_t i = p->pos; i < end; i++)
                    if (!isspace((unsigned char)p->s[i])) {
                        xerr(p, i, "text outside the root element%s", NULL);
                        break;
                    }
            } else {
                decode(p, p->pos, end, &text);
            }
            p->pos = end;
            continue;
        }
        size_t at = p->pos;
        if (starts(p, "<!--")) {
            if (!skip_past(p, "-->")) xerr(p, at, "unterminated comment%s", NULL);
        } else if (starts(p, "<![CDATA[")) {
            p->pos += 9;
            const char *e = memmem(p->s + p->pos, p->len - p->pos, "]]>", 3);
            if (!e) { xerr(p, at, "unterminated CDATA section%s", NULL); break; }
            if (cur == doc) { xerr(p, at, "CDATA outside the root element%s", NULL); break; }
            orx_buf_append(&text, p->s + p->pos, (size_t)(e - p->s) - p->pos);
            p->pos = (size_t)(e - p->s) + 3;
        } else if (starts(p, "<?")) {
            if (!skip_past(p, "?>")) xerr(p, at, "unterminated processing instruction%s", NULL);
        } else if (starts(p, "<!DOCTYPE")) {
            int nest = 0;
            while (p->pos < p->len && !(p->s[p->pos] == '>' && nest == 0)) {
                if (p->s[p->pos] == '[') nest++;
                else if (p->s[p->pos] == ']') nest--;
                p->pos++;
            }
            if (p->pos >= p->len) xerr(p, at, "unterminated DOCTYPE%s", NULL);
            p->pos++;
        } else if (starts(p, "</")) {
            p->pos += 2;
            char *name = read_name(p);
            skip_space(p);
            if (!name || p->pos >= p->len || p->s[p->pos] != '>') {
                free(name);
                xerr(p, at, "malformed end tag%s", NULL);
                break;
            }
            p->pos++;
            if (cur == doc || strcmp(cur->name, name) != 0) {
                char msg[200];
                snprintf(msg, sizeof msg, "mismatched end tag </%s>, expected </%s>", name,
                         cur == doc ? "(none)" : cur->name);
                free(name);
                xerr(p, at, "%s", msg);
                break;
            }
            free(name);
            if (!add_text(cur, &text)) { xerr(p, at, "out of memory%s", NULL); break; }
            cur = cur->parent;
            depth--;
        } else {
            p->pos++;
            char *name = read_name(p);
            if (!name) { xerr(p, at, "malformed start tag%s", NULL); break; }
            if (cur == doc && had_root) {
                free(name);
                xerr(p, at, "a second root element%s", NULL);
                break;
            }
            if (!add_text(cur, &text)) { free(name); xerr(p, at, "out of memory%s", NULL); break; }
            xnode *n = calloc(1, sizeof *n);
            if (!n) { free(name); xerr(p, at, "out of memory%s", NULL); break; }
            n->name = name;
            add_child(cur, n);
            if (!parse_attrs(p, n)) break;
            if (p->s[p->pos] == '/') {
                if (p->pos + 1 >= p->len || p->s[p->pos + 1] != '>') {
                    xerr(p, p->pos, "expected '>' after '/'%s", NULL);
                    break;
                }
                p->pos += 2;
            } else {
                p->pos++;
                if (++depth > MAX_XML_DEPTH) { xerr(p, at, "elements nested too deep%s", NULL); break; }
                cur = n;
            }
            if (n->parent == doc) had_root = true;
        }
    }
    orx_buf_clear(&text);
    if (p->st == ORX_OK && cur != doc) {
        char msg[160];
        snprintf(msg, sizeof msg, "end of input inside <%s>", cur->name);
        xerr(p, p->len, "%s", msg);
    }
    if (p->st == ORX_OK && !had_root) xerr(p, 0, "no root element%s", NULL);
    if (p->st != ORX_OK) {
        xfree(doc);
        return NULL;
    }
    return doc;
}

/* ============================================================================================
 * Text flattening with paragraph structure
 * ========================================================================================== */
static void para_break(orx_buf *b) {
    while (b->len && b->data[b->len - 1] == ' ') b->data[--b->len] = 0;
    if (!b->len) return;
    if (b->len >= 2 && b->data[b->len - 1] == '\n' && b->data[b->len - 2] == '\n') return;
    orx_buf_puts(b, b->data[b->len - 1] == '\n' ? "\n" : "\n\n");
}

static void put_text(orx_buf *b, const char *s) {
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (isspace(c)) {
            if (b->len && b->data[b->len - 1] != ' ' && b->data[b->len - 1] != '\n')
                orx_buf_append(b, " ", 1);
        } else {
            orx_buf_append(b, s, 1);
        }
    }
}

static bool is_block(const char *n) {
    return !strcmp(n, "paragraph") || !strcmp(n, "item") || !strcmp(n, "tr") ||
           !strcmp(n, "caption") || !strcmp(n, "list") || !strcmp(n, "table") ||
           !strcmp(n, "footnote") || !strcmp(n, "title") || !strcmp(n, "thead") ||
           !strcmp(n, "tbody") || !strcmp(n, "tfoot");
}

static void flatten(const xnode *n, orx_buf *b) {
    for (const xnode *c = n->first; c; c = c->next) {
        if (!c->name) { put_text(b, c->text); continue; }
        if (!strcmp(c->name, "renderMultiMedia") || !strcmp(c->name, "observationMedia")) continue;
        if (!strcmp(c->name, "br")) {
            while (b->len && b->data[b->len - 1] == ' ') b->data[--b->len] = 0;
            if (b->len && b->data[b->len - 1] != '\n') orx_buf_puts(b, "\n");
            continue;
        }
        bool block = is_block(c->name);
        bool cell = !strcmp(c->name, "td") || !strcmp(c->name, "th");
        if (block) para_break(b);
        if (cell && b->len && b->data[b->len - 1] != '\n') put_text(b, " | ");
        flatten(c, b);
        if (block) para_break(b);
    }
}

/* ============================================================================================
 * SPL → document
 * ========================================================================================== */
typedef struct spl_out {
    orx_kb_section *v;     /* sections */
    size_t          n;     /* used */
    size_t          cap;   /* allocated */
    bool            nomem; /* allocation failed */
} spl_out;

static void add_section(spl_out *o, const char *code, const char *title, orx_buf *text) {
    orx_kb_section *nv = orx_grow(o->v, &o->cap, o->n, sizeof *nv, 32);
    if (!nv) { o->nomem = true; return; }
    o->v = nv;
    orx_kb_section *s = &o->v[o->n++];
    memset(s, 0, sizeof *s);
    snprintf(s->code, sizeof s->code, "%s", code);
    const char *canon = orx_kb_section_name(code);
    s->name = orx_strdup(canon ? canon : (*title ? title : "Unclassified"));
    s->title = orx_strdup(title);
    s->len = text->len;
    s->text = orx_buf_steal(text);
}

static void walk_section(const xnode *sec, const char *parent_code, spl_out *o, int depth) {
    if (depth > 64) return;
    const char *own = xattr_get(xchild(sec, "code"), "code");
    const char *code = own && *own ? own : "";
    if ((!*code || !strcmp(code, "42229-5")) && parent_code && *parent_code) code = parent_code;
    orx_buf title, text;
    orx_buf_init(&title);
    orx_buf_init(&text);
    xnode *t = xchild(sec, "title");
    if (t) flatten(t, &title);
    if (title.data) orx_str_trim(title.data), title.len = strlen(title.data);
    xnode *tx = xchild(sec, "text");
    if (tx) flatten(tx, &text);
    while (text.len && isspace((unsigned char)text.data[text.len - 1])) text.data[--text.len] = 0;
    if (text.len) add_section(o, code, title.data ? title.data : "", &text);
    orx_buf_clear(&title);
    orx_buf_clear(&text);
    for (const xnode *c = sec->first; c; c = c->next)
        if (c->name && !strcmp(c->name, "component")) {
            xnode *sub = xchild(c, "section");
            if (sub) walk_section(sub, code, o, depth + 1);
        }
}

/* brand names from manufacturedProduct/name, generic names from genericMedicine/name */
static void collect_names(const xnode *n, orx_buf *brand, orx_buf *generic, int depth) {
    if (depth > 200) return;
    for (const xnode *c = n->first; c; c = c->next) {
        if (!c->name) continue;
        bool prod = !strcmp(c->name, "manufacturedProduct") || !strcmp(c->name, "manufacturedMedicine");
        bool gen = !strcmp(c->name, "genericMedicine");
        if (prod || gen) {
            xnode *nm = xchild(c, "name");
            if (nm) {
                orx_buf t;
                orx_buf_init(&t);
                flatten(nm, &t);
                if (t.data) {
                    char *s = orx_str_trim(t.data);
                    if (gen) orx_str_lower(s);
                    orx_buf *dst = gen ? generic : brand;
                    /* de-duplicate (case-insensitive) */
                    bool seen = false;
                    if (dst->data) {
                        char *lower = orx_strdup(dst->data), *ls = orx_strdup(s);
                        if (lower && ls) {
                            orx_str_lower(lower);
                            orx_str_lower(ls);
                            seen = *ls == 0 || strstr(lower, ls) != NULL;
                        }
                        free(lower);
                        free(ls);
                    }
                    if (!seen && *s) {
                        if (dst->len) orx_buf_puts(dst, "; ");
                        orx_buf_puts(dst, s);
                    }
                }
                orx_buf_clear(&t);
            }
        }
        collect_names(c, brand, generic, depth + 1);
    }
}

orx_status orx_kb_ingest_spl_buf(const char *xml, size_t len, const char *name, orx_kb_doc_fn fn,
                                 void *ctx, orx_error *err) {
    xparser p = {.s = xml, .len = len, .pos = 0, .name = name, .err = err, .st = ORX_OK};
    xnode *doc = xml_parse(&p);
    if (!doc) return p.st != ORX_OK ? p.st : orx_fail(err, ORX_ERR_NOMEM, "%s: out of memory", name);
    xnode *root = doc->first;
    while (root && !root->name) root = root->next;
    orx_status st = ORX_OK;
    if (!root || strcmp(root->name, "document") != 0) {
        st = orx_fail(err, ORX_ERR_INVALID, "%s: not an SPL document (root element <%s>)", name,
                      root ? root->name : "?");
        xfree(doc);
        return st;
    }
    const char *set_id = xattr_get(xchild(root, "setId"), "root");
    const char *version = xattr_get(xchild(root, "versionNumber"), "value");
    const char *eff = xattr_get(xchild(root, "effectiveTime"), "value");
    char date[16] = "";
    if (eff) snprintf(date, sizeof date, "%.8s", eff);
    orx_buf title, brand, generic;
    orx_buf_init(&title);
    orx_buf_init(&brand);
    orx_buf_init(&generic);
    xnode *t = xchild(root, "title");
    if (t) flatten(t, &title);
    for (size_t i = 0; title.data && i < title.len; i++)
        if (title.data[i] == '\n') title.data[i] = ' ';
    if (title.data) orx_str_trim(title.data);
    collect_names(root, &brand, &generic, 0);
    if ((!title.data || title.len > 120) && (brand.len || generic.len)) {
        /* PLR titles are the Highlights boilerplate: name the label by its products instead */
        orx_buf_reset(&title);
        if (brand.len && generic.len) orx_buf_printf(&title, "%s (%s)", brand.data, generic.data);
        else orx_buf_puts(&title, brand.len ? brand.data : generic.data);
    }
    spl_out o = {0};
    xnode *comp = xchild(root, "component");
    xnode *body = xchild(comp, "structuredBody");
    for (xnode *c = body ? body->first : NULL; c; c = c->next)
        if (c->name && !strcmp(c->name, "component")) {
            xnode *sec = xchild(c, "section");
            if (sec) walk_section(sec, NULL, &o, 0);
        }
    if (o.nomem) st = orx_fail(err, ORX_ERR_NOMEM, "%s: out of memory", name);
    else if (!set_id || !*set_id)
        st = orx_fail(err, ORX_ERR_INVALID, "%s: SPL document without <setId root=…>", name);
    if (st == ORX_OK) {
        orx_kb_doc d = {.set_id = set_id, .version = version ? version : "", .effective_date = date,
                        .title = title.data ? title.data : "",
                        .generic_names = generic.data ? generic.data : "",
                        .brand_names = brand.data ? brand.data : "", .rxcuis = "", .source_file = name,
                        .sections = o.v, .n_sections = o.n, .src_bytes = len};
        st = fn(ctx, &d, err);
    }
    for (size_t i = 0; i < o.n; i++) {
        free((char *)o.v[i].name);
        free((char *)o.v[i].title);
        free((char *)o.v[i].text);
    }
    free(o.v);
    orx_buf_clear(&title);
    orx_buf_clear(&brand);
    orx_buf_clear(&generic);
    xfree(doc);
    return st;
}

orx_status orx_kb_ingest_spl(const char *path, orx_kb_doc_fn fn, void *ctx, orx_error *err) {
    char *xml = NULL;
    size_t len = 0;
    orx_status st = orx_read_file(path, MAX_XML, &xml, &len, err);
    if (st == ORX_OK) st = orx_kb_ingest_spl_buf(xml, len, path, fn, ctx, err);
    free(xml);
    return st;
}
