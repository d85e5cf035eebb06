/* cmd_gguf.c — `openrx gguf info FILE [--json]`: what a GGUF file holds. */
#include "cli/cli.h"
#include "engine/engine.h"
#include "gguf/gguf.h"
#include <getopt.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ============================================================================================
 * Facts
 * ========================================================================================== */
static const char *file_type_name(uint32_t ft) {
    switch (ft) {
    case 0: return "ALL_F32";
    case 1: return "MOSTLY_F16";
    case 2: return "MOSTLY_Q4_0";
    case 3: return "MOSTLY_Q4_1";
    case 7: return "MOSTLY_Q8_0";
    case 8: return "MOSTLY_Q5_0";
    case 9: return "MOSTLY_Q5_1";
    case 10: return "MOSTLY_Q2_K";
    case 11: return "MOSTLY_Q3_K_S";
    case 12: return "MOSTLY_Q3_K_M";
    case 13: return "MOSTLY_Q3_K_L";
    case 14: return "MOSTLY_Q4_K_S";
    case 15: return "MOSTLY_Q4_K_M";
    case 16: return "MOSTLY_Q5_K_S";
    case 17: return "MOSTLY_Q5_K_M";
    case 18: return "MOSTLY_Q6_K";
    case 32: return "MOSTLY_BF16";
    default: return "other";
    }
}

/* Scalar value of key k as JSON (arrays: {"type","count"}; strings up to 4 KiB). */
static json_t *value_json(const orx_gguf *g, int64_t k) {
    const char *key = orx_gguf_key_at(g, k);
    orx_gguf_vtype t = orx_gguf_key_type(g, k);
    const char *s;
    uint64_t len;
    int64_t i;
    float f;
    bool b;
    if (t == ORX_GGUF_STRING && orx_gguf_get_str(g, key, &s, &len))
        return json_stringn_nocheck(s, len > 4096 ? 4096 : (size_t)len);
    if (t == ORX_GGUF_ARRAY) {
        orx_gguf_vtype et;
        uint64_t n;
        orx_gguf_get_arr(g, key, &et, &n);
        return json_pack("{s:s,s:I}", "array_of", orx_gguf_vtype_name(et), "count", (json_int_t)n);
    }
    if (t == ORX_GGUF_BOOL && orx_gguf_get_bool(g, key, &b)) return json_boolean(b);
    if ((t == ORX_GGUF_FLOAT32 || t == ORX_GGUF_FLOAT64) && orx_gguf_get_f32(g, key, &f)) {
        char num[32]; /* shortest decimal that reads back as the same float */
        snprintf(num, sizeof num, "%.9g", f);
        return json_real(strtod(num, NULL));
    }
    if (orx_gguf_get_i64(g, key, &i)) return json_integer(i);
    return json_string("(u64 beyond int64)");
}

static void print_value(const orx_gguf *g, int64_t k) {
    json_t *v = value_json(g, k);
    char *txt = json_is_real(v) ? NULL : json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
    if (json_is_real(v)) {
        char num[32];
        snprintf(num, sizeof num, "%g", json_real_value(v));
        txt = orx_strdup(num);
    }
    const char *key = orx_gguf_key_at(g, k);
    size_t n = txt ? strlen(txt) : 0;
    printf("  %-44s %-7s %.*s%s\n", key, orx_gguf_vtype_name(orx_gguf_key_type(g, k)),
           (int)(n > 100 ? 100 : n), txt ? txt : "", n > 100 ? "..." : "");
    free(txt);
    json_decref(v);
}

static const char *template_family(const orx_gguf *g) {
    const char *s;
    uint64_t len;
    if (!orx_gguf_get_str(g, "tokenizer.chat_template", &s, &len)) return "none";
    orx_chat_template t = orx_chat_template_detect(s, (size_t)len);
    return t == ORX_CHAT_UNKNOWN ? "unrecognised" : orx_chat_template_name(t);
}

static void str_or(const orx_gguf *g, const char *key, char *out, size_t cap, const char *dflt) {
    const char *s;
    uint64_t len;
    if (orx_gguf_get_str(g, key, &s, &len)) snprintf(out, cap, "%.*s", (int)(len < cap ? len : cap - 1), s);
    else snprintf(out, cap, "%s", dflt);
}

/* ============================================================================================
 * Output
 * ========================================================================================== */
static int info(const char *path, bool as_json) {
    orx_error err = ORX_ERROR_INIT;
    orx_gguf *g;
    orx_status st = orx_gguf_open(path, &g, &err);
    if (st) return orx_cli_fail(st, &err);
    char arch[64], tkind[64], tpre[64], name[256];
    str_or(g, "general.architecture", arch, sizeof arch, "?");
    str_or(g, "tokenizer.ggml.model", tkind, sizeof tkind, "none");
    str_or(g, "tokenizer.ggml.pre", tpre, sizeof tpre, "default");
    str_or(g, "general.name", name, sizeof name, "");
    uint32_t ft = 0;
    bool has_ft = orx_gguf_get_u32(g, "general.file_type", &ft);
    uint64_t n_params = 0, n_bytes = 0;
    for (int64_t i = 0; i < orx_gguf_n_tensors(g); i++) {
        n_params += (uint64_t)orx_gguf_tensor_nelements(orx_gguf_tensor_at(g, i));
        n_bytes += orx_gguf_tensor_at(g, i)->nbytes;
    }
    bool runnable = false;
    for (const char *const *a = orx_engine_architectures(); *a; a++) runnable |= !strcmp(*a, arch);
    size_t alen = strlen(arch);
    if (as_json) {
        json_t *o = json_object(), *hp = json_object(), *ts = json_array(), *md = json_object();
        json_object_set_new(o, "file", json_string(path));
        json_object_set_new(o, "version", json_integer(orx_gguf_version(g)));
        json_object_set_new(o, "architecture", json_string(arch));
        json_object_set_new(o, "name", json_string(name));
        json_object_set_new(o, "supported", json_boolean(runnable));
        json_object_set_new(o, "file_type", has_ft ? json_string(file_type_name(ft)) : json_null());
        json_object_set_new(o, "tokenizer", json_pack("{s:s,s:s}", "model", tkind, "pre", tpre));
        json_object_set_new(o, "chat_template", json_string(template_family(g)));
        json_object_set_new(o, "n_params", json_integer((json_int_t)n_params));
        json_object_set_new(o, "tensor_bytes", json_integer((json_int_t)n_bytes));
        for (int64_t k = 0; k < orx_gguf_n_kv(g); k++) {
            const char *key = orx_gguf_key_at(g, k);
            json_t *v = value_json(g, k);
            if (!strncmp(key, arch, alen) && key[alen] == '.') json_object_set(hp, key + alen + 1, v);
            json_object_set_new(md, key, v);
        }
        json_object_set_new(o, "hyperparameters", hp);
        json_object_set_new(o, "metadata", md);
        for (int64_t i = 0; i < orx_gguf_n_tensors(g); i++) {
            const orx_gguf_tensor *t = orx_gguf_tensor_at(g, i);
            json_t *shape = json_array();
            for (uint32_t d = 0; d < t->n_dims; d++) json_array_append_new(shape, json_integer(t->ne[d]));
            const char *tn = orx_gguf_type_name(t->type);
            json_array_append_new(ts, json_pack("{s:s,s:s,s:o,s:I}", "name", t->name, "type", tn ? tn : "?",
                                                "shape", shape, "bytes", (json_int_t)t->nbytes));
        }
        json_object_set_new(o, "tensors", ts);
        char *txt = json_dumps(o, JSON_INDENT(2) | JSON_REAL_PRECISION(9));
        printf("%s\n", txt ? txt : "{}");
        free(txt);
        json_decref(o);
    } else {
        printf("file:          %s (GGUF v%u, %" PRIu64 " bytes)\n", path, orx_gguf_version(g), orx_gguf_file_size(g));
        printf("name:          %s\n", name);
        printf("architecture:  %s%s\n", arch, runnable ? "" : " (not supported by the engine)");
        printf("file type:     %s\n", has_ft ? file_type_name(ft) : "(not set)");
        printf("parameters:    %" PRIu64 " (%.2f M), tensor data %.2f MiB\n", n_params, n_params / 1e6,
               n_bytes / 1048576.0);
        printf("tokenizer:     %s (pre: %s)\n", tkind, tpre);
        printf("chat template: %s\n", template_family(g));
        printf("hyperparameters:\n");
        for (int64_t k = 0; k < orx_gguf_n_kv(g); k++) {
            const char *key = orx_gguf_key_at(g, k);
            if (!strncmp(key, arch, alen) && key[alen] == '.') print_value(g, k);
        }
        printf("metadata:\n");
        for (int64_t k = 0; k < orx_gguf_n_kv(g); k++) {
            const char *key = orx_gguf_key_at(g, k);
            if (strncmp(key, arch, alen) || key[alen] != '.') print_value(g, k);
        }
        printf("tensors (%" PRId64 "):\n", orx_gguf_n_tensors(g));
        printf("  %-40s %-6s %-24s %s\n", "name", "type", "shape", "bytes");
        for (int64_t i = 0; i < orx_gguf_n_tensors(g); i++) {
            const orx_gguf_tensor *t = orx_gguf_tensor_at(g, i);
            char shape[96] = "";
            for (uint32_t d = 0; d < t->n_dims; d++)
                snprintf(shape + strlen(shape), sizeof shape - strlen(shape), "%s%" PRId64, d ? " x " : "", t->ne[d]);
            const char *tn = orx_gguf_type_name(t->type);
            printf("  %-40s %-6s %-24s %" PRIu64 "\n", t->name, tn ? tn : "?", shape, t->nbytes);
        }
    }
    orx_gguf_close(g);
    return 0;
}

static void usage(FILE *f) {
    fprintf(f, "Usage: openrx gguf info FILE [--json]\n\n"
               "Show what a GGUF model file holds: architecture, hyperparameters, tokenizer kind,\n"
               "chat template family, tensor table (name, type, shape, bytes), file type, parameters.\n"
               "The file is fully validated; a damaged file gives an error naming the byte offset.\n\n"
               "Options:\n  --json      machine-readable output\n  -h, --help  this help\n");
}

int cmd_gguf(int argc, char **argv) {
    static const struct option opts[] = {{"json", no_argument, NULL, 'j'}, {"help", no_argument, NULL, 'h'}, {0}};
    bool as_json = false;
    int c;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        if (c == 'j') as_json = true;
        else if (c == 'h') return usage(stdout), 0;
        else return orx_cli_usage("gguf", "unknown option '%s'", argv[optind - 1]);
    }
    if (optind >= argc) return orx_cli_usage("gguf", "missing sub-command (info)");
    if (strcmp(argv[optind], "info") != 0)
        return orx_cli_usage("gguf", "unknown sub-command '%s' (expected: info)", argv[optind]);
    if (optind + 2 != argc) return orx_cli_usage("gguf", "expected exactly one FILE after 'info'");
    return info(argv[optind + 1], as_json);
}
