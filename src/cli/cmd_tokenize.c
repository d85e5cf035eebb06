/*
 * cmd_tokenize.c — `openrx tokenize` and `openrx detokenize`: a GGUF's tokenizer from the command
 * line (vocab-only GGUFs work too).
 */
#include "cli/cli.h"
#include "engine/tokenizer/tokenizer.h"
#include "gguf/gguf.h"
#include <ctype.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_INPUT (64u << 20) /* bytes read from stdin / tokens accepted */

/* ============================================================================================
 * Shared
 * ========================================================================================== */
static orx_status open_tokenizer(const char *path, orx_tokenizer **out, orx_error *err) {
    orx_gguf *g = NULL;
    orx_status st = orx_gguf_open(path, &g, err);
    if (st != ORX_OK) return st;
    st = orx_tokenizer_load(g, out, err);
    if (st != ORX_OK) orx_error_prefix(err, "%s", path);
    orx_gguf_close(g);
    return st;
}

static orx_status read_stdin(char **out, size_t *len, orx_error *err) {
    orx_buf b;
    orx_buf_init(&b);
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, stdin)) > 0) {
        if (b.len + n > MAX_INPUT) {
            orx_buf_clear(&b);
            return orx_fail(err, ORX_ERR_RANGE, "stdin: input larger than %u bytes", MAX_INPUT);
        }
        if (!orx_buf_append(&b, chunk, n)) { orx_buf_clear(&b); return orx_fail(err, ORX_ERR_NOMEM, "out of memory"); }
    }
    if (ferror(stdin)) { orx_buf_clear(&b); return orx_fail(err, ORX_ERR_IO, "stdin: read error"); }
    *len = b.len;
    *out = b.data ? orx_buf_steal(&b) : orx_strdup("");
    return *out ? ORX_OK : orx_fail(err, ORX_ERR_NOMEM, "out of memory");
}

/* piece bytes (malloc'd) of id */
static char *piece_of(const orx_tokenizer *t, int32_t id, bool special, int32_t *n) {
    *n = orx_token_to_piece_ex(t, id, special, NULL, 0);
    char *p = malloc((size_t)*n + 1);
    if (!p) return NULL;
    orx_token_to_piece_ex(t, id, special, p, *n);
    p[*n] = '\0';
    return p;
}

static void print_escaped(FILE *f, const char *s, int32_t n) {
    for (int32_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '\n') fputs("\\n", f);
        else if (c == '\t') fputs("\\t", f);
        else if (c == '\r') fputs("\\r", f);
        else if (c == '\\') fputs("\\\\", f);
        else if (c < 0x20 || c == 0x7F) fprintf(f, "\\x%02x", c);
        else fputc(c, f);
    }
}

/* ============================================================================================
 * tokenize
 * ========================================================================================== */
static void tokenize_help(void) {
    printf("Usage: openrx tokenize -m FILE [--ids] [--no-bos] [--parse-special] [--json] TEXT|-\n\n"
           "Tokenize TEXT (or stdin with '-') with the tokenizer of a GGUF model or vocab file.\n\n"
           "  -m, --model FILE     GGUF file (its tokenizer.ggml.* metadata is used)\n"
           "      --ids            print only the ids, space-separated on one line\n"
           "      --no-bos         do not add BOS/EOS (add_special = false)\n"
           "      --parse-special  recognise control tokens such as <|im_start|> in TEXT\n"
           "      --json           machine-readable output\n"
           "  -h, --help           this help\n\n"
           "Default output: one line per token, 'ID<TAB>PIECE' (\\n, \\t and control bytes escaped).\n");
}

static int print_tokens_json(const orx_tokenizer *t, const int32_t *ids, int32_t n) {
    json_t *arr = json_array();
    for (int32_t i = 0; i < n; i++) {
        int32_t pn;
        char *p = piece_of(t, ids[i], true, &pn);
        if (!p) { json_decref(arr); return 1; }
        json_t *o = json_object();
        json_object_set_new(o, "id", json_integer(ids[i]));
        json_t *s = json_stringn(p, (size_t)pn);
        if (s) json_object_set_new(o, "piece", s);
        else { /* not valid UTF-8 (a partial character): give the bytes as hex */
            orx_buf hex;
            orx_buf_init(&hex);
            for (int32_t k = 0; k < pn; k++) orx_buf_printf(&hex, "%02x", (unsigned char)p[k]);
            json_object_set_new(o, "piece_hex", json_string(hex.data ? hex.data : ""));
            orx_buf_clear(&hex);
        }
        json_array_append_new(arr, o);
        free(p);
    }
    json_t *root = json_pack("{s:s, s:s, s:i, s:o}", "tokenizer", orx_tokenizer_kind(t), "pre",
                             orx_tokenizer_pre(t), "n_tokens", (json_int_t)n, "tokens", arr);
    char *s = root ? json_dumps(root, JSON_INDENT(1)) : NULL;
    if (s) { puts(s); free(s); }
    json_decref(root);
    return s ? 0 : 1;
}

/* The options of tokenize and detokenize; each command's table offers only its own. */
typedef struct tok_opts {
    const char *model;   /* -m */
    bool ids_only;       /* tokenize --ids */
    bool no_bos;         /* tokenize --no-bos */
    bool special;        /* tokenize --parse-special, detokenize --special */
    bool json;           /* --json */
} tok_opts;

static void detokenize_help(void);

/* Parse tokenize's options (detok: detokenize's), -m required; -1 to go on, else the exit code. */
static int parse_tok_opts(int argc, char **argv, bool detok, tok_opts *o) {
    static const struct option TOKENIZE[] = {
        {"model", required_argument, NULL, 'm'}, {"ids", no_argument, NULL, 'i'},
        {"no-bos", no_argument, NULL, 'b'},      {"parse-special", no_argument, NULL, 's'},
        {"json", no_argument, NULL, 'j'},        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    static const struct option DETOKENIZE[] = {
        {"model", required_argument, NULL, 'm'}, {"special", no_argument, NULL, 's'},
        {"json", no_argument, NULL, 'j'},        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    const char *cmd = detok ? "detokenize" : "tokenize";
    const struct option *LONG = detok ? DETOKENIZE : TOKENIZE;
    int c;
    while ((c = getopt_long(argc, argv, "m:h", LONG, NULL)) != -1) {
        switch (c) {
        case 'm': o->model = optarg; break;
        case 'i': o->ids_only = true; break;
        case 'b': o->no_bos = true; break;
        case 's': o->special = true; break;
        case 'j': o->json = true; break;
        case 'h': if (detok) detokenize_help(); else tokenize_help(); return 0;
        default: return orx_cli_usage(cmd, "unknown or incomplete option '%s'", argv[optind - 1]);
        }
    }
    if (!o->model) return orx_cli_usage(cmd, "missing -m FILE");
    return -1;
}

int cmd_tokenize(int argc, char **argv) {
    tok_opts o = {0};
    int prc = parse_tok_opts(argc, argv, false, &o);
    if (prc >= 0) return prc;
    if (optind != argc - 1) return orx_cli_usage("tokenize", "expected exactly one TEXT argument (or '-' for stdin)");
    orx_error err = ORX_ERROR_INIT;
    char *text = NULL;
    size_t len = 0;
    orx_status st;
    if (strcmp(argv[optind], "-") == 0) {
        if ((st = read_stdin(&text, &len, &err)) != ORX_OK) return orx_cli_fail(st, &err);
    } else {
        text = orx_strdup(argv[optind]);
        len = strlen(argv[optind]);
    }
    orx_tokenizer *t = NULL;
    if ((st = open_tokenizer(o.model, &t, &err)) != ORX_OK) { free(text); return orx_cli_fail(st, &err); }
    int32_t n = orx_tokenize(t, text, len, !o.no_bos, o.special, NULL, 0);
    int32_t *ids = n >= 0 ? malloc(((size_t)n + 1) * sizeof *ids) : NULL;
    int rc = 0;
    if (!ids) {
        rc = orx_cli_fail(ORX_ERR_NOMEM, &(orx_error){ORX_ERR_NOMEM, "tokenize: out of memory"});
    } else {
        orx_tokenize(t, text, len, !o.no_bos, o.special, ids, n);
        if (o.json) rc = print_tokens_json(t, ids, n);
        else if (o.ids_only) {
            for (int32_t i = 0; i < n; i++) printf(i ? " %d" : "%d", ids[i]);
            putchar('\n');
        } else {
            for (int32_t i = 0; i < n; i++) {
                int32_t pn;
                char *p = piece_of(t, ids[i], true, &pn);
                printf("%d\t", ids[i]);
                if (p) print_escaped(stdout, p, pn);
                putchar('\n');
                free(p);
            }
        }
    }
    free(ids);
    free(text);
    orx_tokenizer_free(t);
    return rc;
}

/* ============================================================================================
 * detokenize
 * ========================================================================================== */
static void detokenize_help(void) {
    printf("Usage: openrx detokenize -m FILE [--special] [--json] IDS...|-\n\n"
           "Turn token ids back into text. IDS are integers separated by spaces or commas, as\n"
           "arguments or on stdin with '-'.\n\n"
           "  -m, --model FILE  GGUF file\n"
           "      --special     render control tokens (<s>, <|im_end|>, ...) as their text\n"
           "      --json        machine-readable output\n"
           "  -h, --help        this help\n");
}

/* parse ids from s into *v; false with a message on a bad id */
static bool parse_ids(const char *s, int32_t **v, size_t *n, size_t *cap, int32_t n_vocab, orx_error *err) {
    const char *p = s;
    while (*p) {
        while (*p && (isspace((unsigned char)*p) || *p == ',' || *p == '[' || *p == ']')) p++;
        if (!*p) break;
        char *end;
        long x = strtol(p, &end, 10);
        if (end == p || x < 0 || x >= n_vocab) {
            int w = 0;
            while (p[w] && !isspace((unsigned char)p[w]) && p[w] != ',' && w < 32) w++;
            orx_fail(err, ORX_ERR_INVALID, "bad token id '%.*s' (vocabulary has %d tokens)", w, p, n_vocab);
            return false;
        }
        if (*n == *cap) {
            size_t nc = *cap ? *cap * 2 : 256;
            if (nc > MAX_INPUT) { orx_fail(err, ORX_ERR_RANGE, "too many ids"); return false; }
            int32_t *nv = realloc(*v, nc * sizeof *nv);
            if (!nv) { orx_fail(err, ORX_ERR_NOMEM, "out of memory"); return false; }
            *v = nv; *cap = nc;
        }
        (*v)[(*n)++] = (int32_t)x;
        p = end;
    }
    return true;
}

int cmd_detokenize(int argc, char **argv) {
    tok_opts o = {0};
    int prc = parse_tok_opts(argc, argv, true, &o);
    if (prc >= 0) return prc;
    if (optind >= argc) return orx_cli_usage("detokenize", "expected token IDS (or '-' for stdin)");
    orx_error err = ORX_ERROR_INIT;
    orx_tokenizer *t = NULL;
    orx_status st = open_tokenizer(o.model, &t, &err);
    if (st != ORX_OK) return orx_cli_fail(st, &err);
    int32_t *ids = NULL;
    size_t n = 0, cap = 0;
    bool ok = true;
    for (int i = optind; i < argc && ok; i++) {
        if (strcmp(argv[i], "-") == 0) {
            char *in = NULL;
            size_t len;
            if ((st = read_stdin(&in, &len, &err)) != ORX_OK) { ok = false; break; }
            ok = parse_ids(in, &ids, &n, &cap, orx_tokenizer_n_vocab(t), &err);
            free(in);
        } else {
            ok = parse_ids(argv[i], &ids, &n, &cap, orx_tokenizer_n_vocab(t), &err);
        }
    }
    int rc = 0;
    if (!ok) {
        rc = orx_cli_fail(err.code ? err.code : ORX_ERR_INVALID, &err);
    } else {
        int32_t need = orx_detokenize(t, ids, (int32_t)n, o.special, NULL, 0);
        char *text = need >= 0 ? malloc((size_t)need + 1) : NULL;
        if (!text) rc = orx_cli_fail(ORX_ERR_NOMEM, &(orx_error){ORX_ERR_NOMEM, "detokenize: out of memory"});
        else {
            orx_detokenize(t, ids, (int32_t)n, o.special, text, need + 1);
            if (o.json) {
                json_t *s = json_stringn(text, (size_t)need);
                if (!s) s = json_stringn_nocheck("", 0);
                json_t *root = json_pack("{s:o, s:i}", "text", s, "n_tokens", (json_int_t)n);
                char *d = json_dumps(root, JSON_INDENT(1));
                if (d) { puts(d); free(d); }
                json_decref(root);
            } else {
                fwrite(text, 1, (size_t)need, stdout);
                putchar('\n');
            }
            free(text);
        }
    }
    free(ids);
    orx_tokenizer_free(t);
    return rc;
}
