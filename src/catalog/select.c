/* select.c — filters (task, licence, runnable) and choosing the file `models pull` fetches. */
#include "catalog/catalog.h"
#include "engine/engine.h"
#include <ctype.h>
#include <string.h>

/* ============================================================================================
 * Filters
 * ========================================================================================== */
bool orx_catalog_model_has_task(const orx_catalog_model *m, const char *task) {
    for (size_t i = 0; m && task && i < m->n_tasks; i++)
        if (orx_str_ieq(m->tasks[i], task)) return true;
    return false;
}

static bool icontains(const char *hay, const char *needle) {
    size_t n = strlen(needle);
    for (; *hay; hay++) {
        size_t i = 0;
        while (i < n && hay[i] && tolower((unsigned char)hay[i]) == tolower((unsigned char)needle[i])) i++;
        if (i == n) return true;
    }
    return n == 0;
}

bool orx_catalog_model_licence_matches(const orx_catalog_model *m, const char *needle) {
    if (!m || !needle) return false;
    if (!m->licence) return orx_str_ieq(needle, "unknown");
    return icontains(m->licence, needle);
}

/* ============================================================================================
 * Runnable architectures — the single place the engine's registry is consulted
 * ========================================================================================== */
/* The engine's registry (src/engine/arch.c) is the only authority on what it can run. */
static const char *const *runnable_list(void) {
    static const char *const NONE[] = {NULL};
    const char *const *l = orx_engine_architectures();
    return l ? l : NONE;
}

bool orx_catalog_arch_runnable(const char *arch) {
    if (!arch || !*arch) return false;
    for (const char *const *l = runnable_list(); *l; l++)
        if (!strcmp(*l, arch)) return true;
    return false;
}

bool orx_catalog_model_runnable(const orx_catalog_model *m) {
    return m && orx_catalog_arch_runnable(m->architecture);
}

const char *orx_catalog_runnable_archs(void) {
    static char buf[512];
    buf[0] = 0;
    size_t used = 0;
    for (const char *const *l = runnable_list(); *l; l++) {
        int w = snprintf(buf + used, sizeof buf - used, "%s%s", used ? ", " : "", *l);
        if (w < 0 || (size_t)w >= sizeof buf - used) break;
        used += (size_t)w;
    }
    return buf;
}

/* ============================================================================================
 * Pull planning
 * ========================================================================================== */
const char *orx_catalog_model_terms_link(const orx_catalog_model *m) {
    return m->licence_url ? m->licence_url : m->source;
}

static orx_status licence_gate(const orx_catalog_model *m, bool accept, orx_error *err) {
    if (accept || m->requires_licence_acceptance == ORX_TRI_NO) return ORX_OK;
    if (m->requires_licence_acceptance == ORX_TRI_YES)
        return orx_fail(err, ORX_ERR_USAGE,
                        "%s: its licence (%s) must be accepted before download; read the terms at %s "
                        "and rerun with --accept-licence",
                        m->name, m->licence ? m->licence : "unknown", orx_catalog_model_terms_link(m));
    return orx_fail(err, ORX_ERR_USAGE,
                    "%s: its licence terms are not recorded in the catalog; read the model card at %s "
                    "and rerun with --accept-licence",
                    m->name, orx_catalog_model_terms_link(m));
}

/* "Q4_K_M, Q8_0" of every listed file, for the not-found message. */
static void list_quants(const orx_catalog_model *m, char *buf, size_t cap) {
    size_t used = 0;
    buf[0] = 0;
    for (size_t g = 0; g < m->n_gguf; g++)
        for (size_t f = 0; f < m->gguf[g].n_files; f++) {
            int w = snprintf(buf + used, cap - used, "%s%s", used ? ", " : "", m->gguf[g].files[f].quant);
            if (w < 0 || (size_t)w >= cap - used) return;
            used += (size_t)w;
        }
}

static orx_status fill_plan(const orx_catalog_gguf *g, const orx_catalog_file *f, orx_pull_plan *plan,
                            orx_error *err) {
    int w = f->url ? snprintf(plan->url, sizeof plan->url, "%s", f->url)
                   : snprintf(plan->url, sizeof plan->url, "%s/resolve/main/%s", g->repo, f->name);
    if (w < 0 || (size_t)w >= sizeof plan->url) return orx_fail(err, ORX_ERR_RANGE, "download URL too long");
    snprintf(plan->filename, sizeof plan->filename, "%s", f->name);
    snprintf(plan->sha256, sizeof plan->sha256, "%s", f->sha256 ? f->sha256 : "");
    for (char *p = plan->sha256; *p; p++) *p = (char)tolower((unsigned char)*p);
    return ORX_OK;
}

orx_status orx_catalog_plan_pull(const orx_catalog_model *m, const char *quant, bool accept_licence,
                                 orx_pull_plan *plan, orx_error *err) {
    memset(plan, 0, sizeof *plan);
    if (!quant || !*quant) quant = "Q4_K_M";
    orx_status st = licence_gate(m, accept_licence, err);
    if (st) return st;
    for (size_t g = 0; g < m->n_gguf; g++)
        for (size_t f = 0; f < m->gguf[g].n_files; f++)
            if (orx_str_ieq(m->gguf[g].files[f].quant, quant))
                return fill_plan(&m->gguf[g], &m->gguf[g].files[f], plan, err);
    char quants[512];
    list_quants(m, quants, sizeof quants);
    if (quants[0])
        return orx_fail(err, ORX_ERR_NOT_FOUND, "%s: no GGUF file with quant %s in the catalog; published: %s (use --quant)",
                        m->name, quant, quants);
    if (m->n_gguf)
        return orx_fail(err, ORX_ERR_NOT_FOUND,
                        "%s: GGUF conversions exist at %s but their file names are not recorded; "
                        "pull the file's URL directly",
                        m->name, m->gguf[0].repo);
    return orx_fail(err, ORX_ERR_NOT_FOUND, "%s: no published GGUF conversion is recorded in the catalog", m->name);
}
