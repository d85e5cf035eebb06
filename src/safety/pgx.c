/*
 * pgx.c — pharmacogenomics check: CPIC recommendations (data/pgx/cpic_recommendations.tsv,
 * PharmGKB's export of the CPIC guidelines as shipped in PharmCAT) keyed by gene phenotype or
 * activity score, against the patient's pharmacogene results. A diplotype is translated with the
 * CPIC diplotype→phenotype tables (data/pgx/diplotype_phenotype.tsv); an activity score is
 * taken from that table, or from a stated phenotype when the table gives that phenotype exactly
 * one score. CPIC levels come from data/pgx/cpic_pairs.tsv where the cpic-data snapshot states
 * them; level C/D pairs are informational, A/B (and pairs whose level the snapshot does not
 * state, said so in the message) are flagged by the recommendation's content:
 *   "avoid"/"not recommended"/"contraindicated"/alternative drug → major;
 *   dosing change → moderate; use at standard dose / no recommendation → no finding.
 * Warfarin has no per-genotype CPIC rows in the shipped export (CPIC uses a dosing algorithm): it
 * gets the warfarin label's expected maintenance dose for the patient's CYP2C9 diplotype x VKORC1
 * -1639G>A genotype (data/pgx/warfarin_label_doses.tsv, quoted) compared with the dose, plus the
 * CPIC guidance the shipped data states (data/pgx/warfarin_cpic.tsv): moderate for a proposed
 * warfarin when the genotype's range is below the range for CYP2C9 *1 homozygotes with VKORC1
 * GG or the dose is outside the range, info otherwise and for a current warfarin (its dose is
 * titrated by INR).
 */
#include "safety/label_rules.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef struct pgx_state {
    orx_srl_table recs;   /* data/pgx/cpic_recommendations.tsv */
    orx_srl_table dip;    /* data/pgx/diplotype_phenotype.tsv */
    orx_srl_table pairs;  /* data/pgx/cpic_pairs.tsv */
    orx_srl_table warf;   /* data/pgx/warfarin_label_doses.tsv */
    orx_srl_table wcpic;  /* data/pgx/warfarin_cpic.tsv */
} pgx_state;

orx_status orx_check_pgx_init(const orx_checker *ck, void **state, orx_error *err) {
    static const char *const need_r[] = {"drugs", "genes", "lookup_key", "population", "strength",
        "implications", "recommendation", "dosing_information", "alternate_drug", "guideline",
        "guideline_url", "row", NULL};
    static const char *const need_d[] = {"gene", "diplotype", "phenotype", "activity_score", NULL};
    static const char *const need_p[] = {"gene", "drug", "cpic_level", "source", NULL};
    pgx_state *s = calloc(1, sizeof *s);
    if (!s) return orx_fail(err, ORX_ERR_NOMEM, "out of memory");
    static const char *const need_w[] = {"vkorc1", "cyp2c9", "low", "high", "unit", "per", "setid",
        "corpus", "section", "title", "header_line", "row_line", NULL};
    static const char *const need_c[] = {"kind", "text", "url", "source", NULL};
    orx_srl_load loads[] = {{"pgx/cpic_recommendations.tsv", need_r, &s->recs},
                            {"pgx/diplotype_phenotype.tsv", need_d, &s->dip}, {"pgx/cpic_pairs.tsv", need_p, &s->pairs},
                            {"pgx/warfarin_label_doses.tsv", need_w, &s->warf},
                            {"pgx/warfarin_cpic.tsv", need_c, &s->wcpic}};
    orx_status st = orx_srl_tables_load(orx_checker_data_dir(ck), loads, sizeof loads / sizeof *loads, err);
    for (size_t r = 0; st == ORX_OK && r < s->warf.nrows; r++) {
        double v;
        bool pr;
        st = orx_srl_num(&s->warf, r, orx_srl_col(&s->warf, "low"), &v, &pr, err);
        if (st == ORX_OK) st = orx_srl_num(&s->warf, r, orx_srl_col(&s->warf, "high"), &v, &pr, err);
    }
    if (st == ORX_OK) st = orx_srl_table_normalise(&s->recs, "drugs", orx_checker_lexicon(ck), err);
    if (st == ORX_OK) st = orx_srl_table_normalise(&s->pairs, "drug", orx_checker_lexicon(ck), err);
    return orx_check_init_done(st, s, orx_check_pgx_fini, state);
}

void orx_check_pgx_fini(void *state) {
    pgx_state *s = state;
    if (s) orx_srl_tables_free((orx_srl_table *[]){&s->recs, &s->dip, &s->pairs, &s->warf, &s->wcpic}, 5);
    free(s);
}

/* ============================================================================================
 * Patient genotype → lookup value
 * ========================================================================================== */
static bool list_has(const char *list, const char *name) {
    size_t n = strlen(name);
    for (const char *p = list; *p;) {
        while (*p == ' ' || *p == ',' || *p == ';') p++;
        const char *e = p;
        while (*e && *e != ',' && *e != ';') e++;
        const char *te = e;
        while (te > p && te[-1] == ' ') te--;
        if ((size_t)(te - p) == n && strncasecmp(p, name, n) == 0) return true;
        p = e;
    }
    return false;
}

static bool is_score(const char *v) {
    return isdigit((unsigned char)v[0]) || strncmp(v, "\xe2\x89\xa5", 3) == 0 /* ≥ */ ||
           strcasecmp(v, "n/a") == 0;
}

/* Phenotype text without a leading gene name ("CYP2C19 Poor Metabolizer" → "Poor Metabolizer"). */
static const char *strip_gene(const char *ph, const char *gene) {
    size_t n = strlen(gene);
    if (strncasecmp(ph, gene, n) == 0 && ph[n] == ' ') return ph + n + 1;
    return ph;
}

/* Patient value for gene in the style of want (phenotype text or activity score). why: how. */
static bool patient_value(const pgx_state *s, const orx_patient *pt, const char *gene,
                          const char *want, char *val, size_t cap, char *why, size_t wcap) {
    const orx_srl_table *d = &s->dip;
    int c_g = orx_srl_col(d, "gene"), c_d = orx_srl_col(d, "diplotype"), c_p = orx_srl_col(d, "phenotype");
    int c_a = orx_srl_col(d, "activity_score");
    for (size_t i = 0; i < pt->n_pgx; i++) {
        const orx_pgx *g = &pt->pgx[i];
        if (strncasecmp(gene, "HLA-", 4) == 0 && strncasecmp(g->gene, gene, strlen(gene)) == 0 &&
            g->gene[strlen(gene)] == '*') {
            const char *res = *g->phenotype ? g->phenotype : g->diplotype;
            if (!*res) return false;
            orx_fset(val, cap, "%s %s", g->gene + strlen(gene), res);
            orx_fset(why, wcap, "%s %s", g->gene, res);
            return true;
        }
        if (strcasecmp(g->gene, gene) != 0) continue;
        bool score = is_score(want);
        if (!score && *g->phenotype) {
            orx_fset(val, cap, "%s", strip_gene(g->phenotype, gene));
            orx_fset(why, wcap, "%s %s%s%s%s", gene, val, *g->diplotype ? " (diplotype " : "",
                g->diplotype, *g->diplotype ? ")" : "");
            return true;
        }
        if (*g->diplotype)
            for (size_t r = 0; r < d->nrows; r++)
                if (strcasecmp(orx_srl_cell(d, r, c_g), gene) == 0 &&
                    strcmp(orx_srl_cell(d, r, c_d), g->diplotype) == 0) {
                    orx_fset(val, cap, "%s", orx_srl_cell(d, r, score ? c_a : c_p));
                    orx_fset(why, wcap, "%s %s → %s %s (CPIC diplotype-phenotype table)", gene,
                        g->diplotype, score ? "activity score" : "phenotype", val);
                    return true;
                }
        if (score && *g->phenotype) { /* a phenotype with exactly one activity score */
            const char *ph = strip_gene(g->phenotype, gene), *found = NULL;
            for (size_t r = 0; r < d->nrows; r++) {
                if (strcasecmp(orx_srl_cell(d, r, c_g), gene) != 0) continue;
                if (strcasecmp(orx_srl_cell(d, r, c_p), ph) != 0) continue;
                const char *a = orx_srl_cell(d, r, c_a);
                if (found && strcmp(found, a) != 0) return false;
                found = a;
            }
            if (!found) return false;
            orx_fset(val, cap, "%s", found);
            orx_fset(why, wcap, "%s %s → activity score %s (the only score the CPIC table gives that "
                "phenotype)", gene, ph, found);
            return true;
        }
        return false;
    }
    return false;
}

static bool value_matches(const char *want, const char *have) {
    if (strncmp(want, "\xe2\x89\xa5", 3) == 0) { /* "≥3.0" */
        char *e1, *e2;
        double w = strtod(want + 3, &e1), h = strtod(have, &e2);
        return e1 != want + 3 && e2 != have && *e2 == '\0' && h >= w;
    }
    if (isdigit((unsigned char)want[0]) && isdigit((unsigned char)have[0]))
        return strtod(want, NULL) == strtod(have, NULL);
    return strcasecmp(want, have) == 0;
}

/* Per-call cache of patient values (the diplotype table is large; keys repeat genes). */
typedef struct pgx_cache_entry {
    char gene[24];      /* gene symbol as in the key */
    bool score;         /* activity-score style (else phenotype) */
    bool ok;            /* a value exists */
    char val[128];      /* the value */
    char why[256];      /* how it was obtained */
} pgx_cache_entry;
typedef struct pgx_cache { pgx_cache_entry e[16]; int n; } pgx_cache;

static bool cached_value(const pgx_state *s, const orx_patient *pt, pgx_cache *c,
                         const char *gene, const char *want, char *val, size_t cap, char *why,
                         size_t wcap) {
    bool score = is_score(want);
    for (int i = 0; i < c->n; i++)
        if (c->e[i].score == score && strcasecmp(c->e[i].gene, gene) == 0) {
            if (!c->e[i].ok) return false;
            orx_fset(val, cap, "%s", c->e[i].val);
            orx_fset(why, wcap, "%s", c->e[i].why);
            return true;
        }
    bool ok = patient_value(s, pt, gene, want, val, cap, why, wcap);
    if (c->n < 16) {
        pgx_cache_entry *e = &c->e[c->n++];
        orx_fset(e->gene, sizeof e->gene, "%s", gene);
        e->score = score;
        e->ok = ok;
        orx_fset(e->val, sizeof e->val, "%s", ok ? val : "");
        orx_fset(e->why, sizeof e->why, "%s", ok ? why : "");
    }
    return ok;
}

/* Does the lookup key "G1=V1; G2=V2" match the patient? trig gets the patient facts used. */
static bool key_matches(const pgx_state *s, const orx_patient *pt, pgx_cache *cache,
                        const char *key, char *trig, size_t tcap) {
    char buf[512];
    orx_fset(buf, sizeof buf, "%s", key);
    trig[0] = '\0';
    char *save = NULL;
    for (char *part = strtok_r(buf, ";", &save); part; part = strtok_r(NULL, ";", &save)) {
        while (*part == ' ') part++;
        char *eq = strchr(part, '=');
        if (!eq) return false;
        *eq = '\0';
        char val[128], why[256];
        if (!cached_value(s, pt, cache, part, eq + 1, val, sizeof val, why, sizeof why)) return false;
        if (!value_matches(eq + 1, val)) return false;
        size_t n = strlen(trig);
        orx_fset(trig + n, tcap - n, "%s%s", n ? "; " : "", why);
    }
    return trig[0] != '\0';
}

/* ============================================================================================
 * Findings
 * ========================================================================================== */
static const char *pair_level(const pgx_state *s, const char *genes, const char *drug,
                              size_t *row) {
    const orx_srl_table *p = &s->pairs;
    for (size_t r = 0; r < p->nrows; r++)
        if (strcasecmp(orx_srl_ingr(p, r, orx_srl_col(p, "drug")), drug) == 0 &&
            list_has(genes, orx_srl_cell(p, r, orx_srl_col(p, "gene")))) {
            *row = r;
            return orx_srl_cell(p, r, orx_srl_col(p, "cpic_level"));
        }
    return NULL;
}

static orx_severity rec_severity(const orx_srl_table *t, size_t r) {
    const char *rec = orx_srl_cell(t, r, orx_srl_col(t, "recommendation"));
    if (strcmp(orx_srl_cell(t, r, orx_srl_col(t, "alternate_drug")), "True") == 0 ||
        orx_srl_icontains(rec, "avoid") || orx_srl_icontains(rec, "not recommended") ||
        orx_srl_icontains(rec, "contraindicated"))
        return ORX_SEV_MAJOR;
    if (strcmp(orx_srl_cell(t, r, orx_srl_col(t, "dosing_information")), "True") == 0)
        return ORX_SEV_MODERATE;
    return ORX_SEV_INFO; /* standard dosing / no recommendation: no finding */
}

static orx_status emit(const pgx_state *s, const orx_proposed_drug *d, const char *ingr,
                       const char *key, const char *trig, orx_findings *out, orx_error *err) {
    const orx_srl_table *t = &s->recs;
    int c_key = orx_srl_col(t, "lookup_key"), c_drugs = orx_srl_col(t, "drugs");
    orx_severity sev = ORX_SEV_INFO;
    size_t first = (size_t)-1;
    char mgmt[512] = "";
    for (size_t r = 0; r < t->nrows; r++) {
        if (strcmp(orx_srl_cell(t, r, c_key), key) != 0 || !list_has(orx_srl_ingr(t, r, c_drugs), ingr))
            continue;
        orx_severity rs = rec_severity(t, r);
        if (rs == ORX_SEV_INFO) continue;
        if (first == (size_t)-1 || rs > sev) { sev = rs; first = r; }
        size_t n = strlen(mgmt);
        if (n + 8 < sizeof mgmt)
            orx_fset(mgmt + n, sizeof mgmt - n, "%s[%s; %s] %s", n ? " | " : "",
                orx_srl_cell(t, r, orx_srl_col(t, "population")), orx_srl_cell(t, r, orx_srl_col(t, "strength")),
                orx_srl_cell(t, r, orx_srl_col(t, "recommendation")));
    }
    if (first == (size_t)-1) return ORX_OK;
    size_t prow = 0;
    const char *level = pair_level(s, orx_srl_cell(t, first, orx_srl_col(t, "genes")), ingr, &prow);
    bool low = level && (level[0] == 'C' || level[0] == 'D');
    if (low) sev = ORX_SEV_INFO;
    orx_finding *f = orx_srl_push(out, "pgx", sev, d);
    if (!f) return orx_fail(err, ORX_ERR_NOMEM, "out of memory");
    f->interruptive = sev >= ORX_SEV_MAJOR;
    orx_fset(f->trigger, sizeof f->trigger, "%s", trig);
    char lv[160];
    if (level)
        orx_fset(lv, sizeof lv, "CPIC level %s (%s)", level,
            orx_srl_cell(&s->pairs, prow, orx_srl_col(&s->pairs, "source")));
    else
        orx_fset(lv, sizeof lv, "CPIC level not stated in the shipped cpic-data snapshot");
    orx_fset(f->message, sizeof f->message, "%s with %s: %s. %s.", f->drugs, key,
        orx_srl_cell(t, first, orx_srl_col(t, "implications")), lv);
    orx_fset(f->management, sizeof f->management, "%s", mgmt);
    orx_fset(f->source, sizeof f->source, "CPIC guideline (PharmGKB annotation via PharmCAT)");
    orx_fset(f->citation, sizeof f->citation, "%s, %s [cpic_recommendations.tsv:%zu]",
        orx_srl_cell(t, first, orx_srl_col(t, "guideline")), orx_srl_cell(t, first, orx_srl_col(t, "guideline_url")),
        first + 2);
    return ORX_OK;
}

static bool patient_has_gene(const orx_patient *pt, const char *gene) {
    for (size_t i = 0; i < pt->n_pgx; i++) {
        const char *g = pt->pgx[i].gene;
        if (strcasecmp(g, gene) == 0) return true;
        if (strncasecmp(g, gene, strlen(gene)) == 0 && g[strlen(gene)] == '*') return true;
    }
    return false;
}

/* No lookup key matched: when the patient has some but not all genes of the guideline, say so. */
static orx_status partial_note(const pgx_state *s, const orx_patient *pt,
                               const orx_proposed_drug *d, const char *ingr, size_t row,
                               orx_findings *out, orx_error *err) {
    const orx_srl_table *t = &s->recs;
    char genes[128], have[128] = "", lack[128] = "";
    orx_fset(genes, sizeof genes, "%s", orx_srl_cell(t, row, orx_srl_col(t, "genes")));
    char *save = NULL;
    for (char *g = strtok_r(genes, ";, ", &save); g; g = strtok_r(NULL, ";, ", &save)) {
        char *dst = patient_has_gene(pt, g) ? have : lack;
        size_t n = strlen(dst);
        orx_fset(dst + n, 128 - n, "%s%s", n ? ", " : "", g);
    }
    if (!*have || !*lack) return ORX_OK;
    orx_finding *f = orx_srl_push(out, "pgx", ORX_SEV_INFO, d);
    if (!f) return orx_fail(err, ORX_ERR_NOMEM, "out of memory");
    orx_fset(f->trigger, sizeof f->trigger, "genotype on record for %s; none for %s", have, lack);
    orx_fset(f->message, sizeof f->message, "Unable to assess fully: the CPIC recommendations for %s "
        "are keyed on %s and the record has no result for %s.", ingr,
        orx_srl_cell(t, row, orx_srl_col(t, "genes")), lack);
    orx_fset(f->source, sizeof f->source, "CPIC guideline (PharmGKB annotation via PharmCAT)");
    orx_fset(f->citation, sizeof f->citation, "%s, %s [cpic_recommendations.tsv:%zu]",
        orx_srl_cell(t, row, orx_srl_col(t, "guideline")), orx_srl_cell(t, row, orx_srl_col(t, "guideline_url")),
        row + 2);
    return ORX_OK;
}

/* ============================================================================================
 * Warfarin: the label's genotype table and the CPIC guidance
 * ========================================================================================== */
static const orx_pgx *gene_of(const orx_patient *pt, const char *gene) {
    for (size_t i = 0; i < pt->n_pgx; i++)
        if (strcasecmp(pt->pgx[i].gene, gene) == 0) return &pt->pgx[i];
    return NULL;
}

/* "*3 / *1" written either way -> lowest allele first; false when not a star-allele pair. */
static bool cyp2c9_diplotype(const char *t, char *out, size_t cap) {
    int a, b;
    char tail;
    if (sscanf(t, " *%d/*%d %c", &a, &b, &tail) != 2 || a < 1 || b < 1 || a > 99 || b > 99) return false;
    orx_fset(out, cap, "*%d/*%d", a < b ? a : b, a < b ? b : a);
    return true;
}

/* VKORC1 -1639G>A genotype as the label writes it (GG, AG, AA) from "-1639G>A G/A", "G/A",
 * "AG", or "rs9923231 C/T" (the PharmCAT note: rs9923231 is -1639G>A with the alleles displayed
 * complemented, C = G, T = A). */
static bool vkorc1_genotype(const char *t, char out[3]) {
    bool rs = orx_srl_icontains(t, "rs9923231");
    const char *p = t;
    if (orx_srl_icontains(t, "1639")) { /* skip the variant name "-1639G>A" */
        const char *gt = strchr(t, '>');
        p = gt ? gt + 2 : t;
    } else if (rs) {
        p = t + 9;
        while (*p && strncasecmp(p - 9, "rs9923231", 9) != 0) p++;
    }
    char al[2];
    int n = 0;
    for (; *p && n < 2; p++) {
        char c = (char)toupper((unsigned char)*p);
        if (rs && (c == 'C' || c == 'T')) c = c == 'C' ? 'G' : 'A';
        if (c == 'G' || c == 'A') al[n++] = c;
        else if (isalpha((unsigned char)*p)) return false;
    }
    if (n != 2) return false;
    out[0] = al[0] == 'A' || al[1] == 'A' ? 'A' : 'G';
    out[1] = al[0] == 'G' || al[1] == 'G' ? 'G' : 'A';
    out[2] = '\0';
    return true;
}

static void cpic_words(const pgx_state *s, char *out, size_t cap) {
    const orx_srl_table *t = &s->wcpic;
    int c_k = orx_srl_col(t, "kind"), c_t = orx_srl_col(t, "text"), c_u = orx_srl_col(t, "url");
    out[0] = '\0';
    size_t n = 0;
    for (size_t r = 0; r < t->nrows && n < cap; r++) {
        const char *k = orx_srl_cell(t, r, c_k);
        if (strcmp(k, "note") != 0 && strcmp(k, "guideline") != 0) continue;
        if (strcmp(k, "note") == 0 && !orx_srl_icontains(orx_srl_cell(t, r, c_t), "flow chart")) continue;
        n += (size_t)snprintf(out + n, cap - n, "%s%s%s%s%s", n ? " " : "", orx_srl_cell(t, r, c_t),
                              *orx_srl_cell(t, r, c_u) ? " (" : "", orx_srl_cell(t, r, c_u),
                              *orx_srl_cell(t, r, c_u) ? ")." : ".");
    }
}

static orx_status warfarin_genotype(const pgx_state *s, const orx_patient *pt,
                                    const orx_proposed_drug *d, orx_findings *out, orx_error *err) {
    const orx_pgx *c9 = gene_of(pt, "CYP2C9"), *vk = gene_of(pt, "VKORC1");
    if (!c9 && !vk) return ORX_OK;
    char dip[16] = "", gt[3] = "";
    bool have_c9 = c9 && cyp2c9_diplotype(c9->diplotype, dip, sizeof dip);
    bool have_vk = vk && vkorc1_genotype(vk->diplotype, gt);
    const orx_srl_table *t = &s->warf;
    size_t row = (size_t)-1, ref = (size_t)-1;
    for (size_t r = 0; r < t->nrows; r++) {
        bool is_ref = !strcmp(orx_srl_cell(t, r, orx_srl_col(t, "cyp2c9")), "*1/*1") &&
                      !strcmp(orx_srl_cell(t, r, orx_srl_col(t, "vkorc1")), "GG");
        if (is_ref) ref = r;
        if (have_c9 && have_vk && !strcmp(orx_srl_cell(t, r, orx_srl_col(t, "cyp2c9")), dip) &&
            !strcmp(orx_srl_cell(t, r, orx_srl_col(t, "vkorc1")), gt))
            row = r;
    }
    char cpic[700];
    cpic_words(s, cpic, sizeof cpic);
    char trig[256];
    orx_fset(trig, sizeof trig, "CYP2C9 %s; VKORC1 %s", c9 && *c9->diplotype ? c9->diplotype : "not on record",
        vk && *vk->diplotype ? vk->diplotype : "not on record");
    if (row == (size_t)-1) {
        orx_finding *f = orx_srl_push(out, "pgx", ORX_SEV_INFO, d);
        if (!f) return orx_fail(err, ORX_ERR_NOMEM, "out of memory");
        orx_fset(f->trigger, sizeof f->trigger, "%s", trig);
        orx_fset(f->message, sizeof f->message, "Unable to assess fully: the %s label gives expected "
            "maintenance doses by CYP2C9 (*1, *2, *3) and VKORC1 -1639G>A genotype together, and the "
            "record has %s. CPIC: %s", f->drugs, !have_c9 && !have_vk ? "neither in a form the table uses"
            : !have_c9 ? "no CYP2C9 diplotype of *1/*2/*3 alleles" : "no VKORC1 -1639G>A genotype", cpic);
        orx_fset(f->source, sizeof f->source, "FDA drug label (warfarin) + CPIC via PharmCAT/cpic-data");
        orx_fset(f->citation, sizeof f->citation, "SPL set id %s, %s, %s",
            orx_srl_cell(t, 0, orx_srl_col(t, "setid")), orx_srl_cell(t, 0, orx_srl_col(t, "section")),
            orx_srl_cell(t, 0, orx_srl_col(t, "title")));
        return ORX_OK;
    }
    double lo = strtod(orx_srl_cell(t, row, orx_srl_col(t, "low")), NULL);
    double hi = strtod(orx_srl_cell(t, row, orx_srl_col(t, "high")), NULL);
    bool reduced = ref != (size_t)-1 && hi < strtod(orx_srl_cell(t, ref, orx_srl_col(t, "low")), NULL);
    double daily = 0;
    if (d->dose.present && strcasecmp(d->dose.unit, "mg") == 0)
        daily = d->dose.per_day > 0 ? d->dose.daily_amount : d->dose.amount;
    const char *where = daily <= 0 ? "" : daily > hi + 1e-9 ? "above" : daily < lo - 1e-9 ? "below" : "within";
    orx_severity sev = ORX_SEV_INFO;
    if (!d->is_current && (reduced || !strcmp(where, "above") || !strcmp(where, "below")))
        sev = ORX_SEV_MODERATE;
    orx_finding *f = orx_srl_push(out, "pgx", sev, d);
    if (!f) return orx_fail(err, ORX_ERR_NOMEM, "out of memory");
    orx_fset(f->trigger, sizeof f->trigger, "%s (genotype %s x VKORC1 -1639 %s)", trig, dip, gt);
    char dose_txt[160] = "";
    if (*where)
        orx_fset(dose_txt, sizeof dose_txt, " The %s dose, %g mg a day, is %s that range%s.",
            d->is_current ? "current" : "proposed", daily, where,
            d->is_current ? " (a current dose is titrated by INR)" : "");
    char ref_txt[64] = "";
    if (reduced)
        orx_fset(ref_txt, sizeof ref_txt, "; lower than %s-%s mg for *1/*1 with GG",
            orx_srl_cell(t, ref, orx_srl_col(t, "low")), orx_srl_cell(t, ref, orx_srl_col(t, "high")));
    orx_fset(f->message, sizeof f->message, "For CYP2C9 %s with VKORC1 -1639 %s the %s label's expected "
        "maintenance dose is %s-%s mg a day (label Table 1, genotype-based ranges%s).%s CPIC: the "
        "guideline's genotype-based dosing algorithm applies (see management).", dip, gt, f->drugs,
        orx_srl_cell(t, row, orx_srl_col(t, "low")), orx_srl_cell(t, row, orx_srl_col(t, "high")), ref_txt, dose_txt);
    orx_fset(f->management, sizeof f->management, "Consider the label's range when choosing the dose and "
        "titrate by INR. CPIC: %s", cpic);
    orx_fset(f->source, sizeof f->source, "FDA drug label (warfarin, genotype table) + CPIC guideline");
    orx_fset(f->citation, sizeof f->citation, "SPL set id %s, %s, %s [warfarin_label_doses.tsv:%zu]",
        orx_srl_cell(t, row, orx_srl_col(t, "setid")), orx_srl_cell(t, row, orx_srl_col(t, "section")),
        orx_srl_cell(t, row, orx_srl_col(t, "title")), row + 2);
    orx_fset(f->quote, sizeof f->quote, "%s", orx_srl_cell(t, row, orx_srl_col(t, "row_line")));
    return ORX_OK;
}

orx_status orx_check_pgx(const orx_checker *ck, const orx_patient *pt,
                         const orx_proposed_drug *drug, orx_findings *out, orx_error *err) {
    const pgx_state *s = orx_checker_state(ck, "pgx");
    if (!s || !pt || !drug || drug->n_ingr <= 0 || pt->n_pgx == 0) return ORX_OK;
    for (int i = 0; i < drug->n_ingr && i < ORX_MAX_INGR; i++)
        if (strcasecmp(drug->ingr[i].ingredient, "warfarin") == 0) {
            orx_status st = warfarin_genotype(s, pt, drug, out, err);
            if (st != ORX_OK) return st;
        }
    const orx_srl_table *t = &s->recs;
    int c_key = orx_srl_col(t, "lookup_key"), c_drugs = orx_srl_col(t, "drugs");
    pgx_cache cache;
    cache.n = 0;
    for (int i = 0; i < drug->n_ingr && i < ORX_MAX_INGR; i++) {
        const char *ingr = drug->ingr[i].ingredient;
        const char *done[1024];
        int n_done = 0;
        bool matched = false;
        size_t first_row = (size_t)-1;
        for (size_t r = 0; r < t->nrows; r++) {
            if (!list_has(orx_srl_ingr(t, r, c_drugs), ingr)) continue;
            if (first_row == (size_t)-1) first_row = r;
            const char *key = orx_srl_cell(t, r, c_key);
            bool seen = false;
            for (int k = 0; k < n_done; k++) if (strcmp(done[k], key) == 0) seen = true;
            if (seen) continue;
            if (n_done < 1024) done[n_done++] = key;
            char trig[256];
            if (!key_matches(s, pt, &cache, key, trig, sizeof trig)) continue;
            matched = true;
            orx_status st = emit(s, drug, ingr, key, trig, out, err);
            if (st != ORX_OK) return st;
        }
        if (!matched && first_row != (size_t)-1) {
            orx_status st = partial_note(s, pt, drug, ingr, first_row, out, err);
            if (st != ORX_OK) return st;
        }
    }
    return ORX_OK;
}
