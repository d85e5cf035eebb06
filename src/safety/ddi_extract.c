/*
 * ddi_extract.c — the label interaction extractor's driver: labels → sections → lines →
 * sentences and table rows → rules (see ddi_extract.h for what a rule is).
 *
 * Per sentence: its mentions (ddi_mentions.c) and the action of the clause each mention sits in
 * (ddi_action.c; clauses end at ";" and at "however" / "but" / "whereas" / "although"). A
 * partner mention whose clause states no action takes, in this order, the sentence's action,
 * the next sentence's when that one names no partner ("... increased exposure to X. Reduce the
 * dose."), the previous sentence's when it named none ("Drugs affecting hemostasis increase
 * the risk of bleeding. These include aspirin ..."), or for a table row the lead sentence of the
 * table. A sentence with an action and no partner takes the partners of its heading ("7.2
 * Digoxin", "Cimetidine: ..."). The neighbour is kept as the rule's context, verbatim.
 */
#include "safety/ddi_internal.h"

#include <ctype.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DDI_MAX_SENT 256   /* sentences per line */
#define DDI_LEAD_LINES 3   /* a table's lead sentence is within this many lines before it */
#define DDI_MAX_REGIMEN 16 /* regimen partners kept per label */

struct orx_ddi_extractor {
    const orx_lexicon *lex;     /* not owned */
    ddi_terms         *terms;   /* class wording */
    ddi_effects       *effects; /* effect-role wording */
    ddi_drug_cache    *cache;   /* memo of the medicine test */
    /* the label's regimen partners (drugs it is given "in combination with" by its indication or
     * as "a single agent or in combination with X"): set per label by orx_ddi_extract_doc, and
     * by orx_ddi_extract_section for its own text */
    char               regimen[DDI_MAX_REGIMEN][ORX_LEX_NAME];
    int                n_regimen;
};

/* ============================================================================================
 * Rule list
 * ========================================================================================== */
void orx_ddi_rules_init(orx_ddi_rules *r) { memset(r, 0, sizeof *r); }

static void rule_free(orx_ddi_rule *x) {
    free(x->examples);
    free(x->quote);
    free(x->context);
}

void orx_ddi_rules_clear(orx_ddi_rules *r) {
    if (!r) return;
    for (size_t i = 0; i < r->n; i++) rule_free(&r->items[i]);
    free(r->items);
    memset(r, 0, sizeof *r);
}

static orx_ddi_rule *rules_push(orx_ddi_rules *r) {
    return orx_push((void **)&r->items, &r->n, &r->cap, sizeof *r->items, 256);
}

/* The pair a row is about: kind, label drug, other side, then the higher tier first. */
static int pair_cmp(const orx_ddi_rule *x, const orx_ddi_rule *y) {
    int c = strcmp(x->kind, y->kind);
    if (!c) c = strcmp(x->label_drug, y->label_drug);
    if (!c) c = strcmp(x->other, y->other);
    return c ? c : (int)y->tier - (int)x->tier;
}

/* Where a row was read: set id, then section code. */
static int source_cmp(const orx_ddi_rule *x, const orx_ddi_rule *y) {
    int c = strcmp(x->set_id, y->set_id);
    return c ? c : strcmp(x->section_code, y->section_code);
}

/* The sentence: its quote, then its examples. */
static int sentence_cmp(const orx_ddi_rule *x, const orx_ddi_rule *y) {
    int c = strcmp(x->quote, y->quote);
    return c ? c : strcmp(x->examples, y->examples);
}

static int rule_cmp(const void *a, const void *b) {
    const orx_ddi_rule *x = a, *y = b;
    int c = pair_cmp(x, y);
    if (!c) c = source_cmp(x, y);
    if (!c) c = strcmp(x->quote, y->quote);
    if (!c) c = strcmp(x->context, y->context);
    if (!c) c = strcmp(x->examples, y->examples);
    return c ? c : strcmp(x->other_text, y->other_text);
}

/* The same statement about the same pair (same label drug, other side, tier and sentence) in
 * several labels (a generic and its brand, an OTC family): kept once, from the first set id. */
static bool same_statement(const orx_ddi_rule *x, const orx_ddi_rule *y) {
    return !pair_cmp(x, y) && !sentence_cmp(x, y);
}

static int statement_cmp(const void *a, const void *b) {
    const orx_ddi_rule *x = a, *y = b;
    int c = pair_cmp(x, y);
    if (!c) c = sentence_cmp(x, y);
    if (!c) c = source_cmp(x, y);
    if (!c) c = strcmp(x->context, y->context);
    return c ? c : strcmp(x->other_text, y->other_text);
}

void orx_ddi_rules_sort(orx_ddi_rules *r, bool keep_repeats) {
    if (!r->n) return;
    qsort(r->items, r->n, sizeof *r->items, keep_repeats ? rule_cmp : statement_cmp);
    size_t w = 1;
    for (size_t i = 1; i < r->n; i++) {
        bool drop = keep_repeats ? rule_cmp(&r->items[w - 1], &r->items[i]) == 0
                                 : same_statement(&r->items[w - 1], &r->items[i]);
        if (drop) { rule_free(&r->items[i]); continue; }
        r->items[w++] = r->items[i];
    }
    r->n = w;
    if (!keep_repeats) qsort(r->items, r->n, sizeof *r->items, rule_cmp);
}

/* ============================================================================================
 * Extractor
 * ========================================================================================== */
orx_status orx_ddi_extractor_create(const orx_lexicon *lex, const char *terms_path,
                                    orx_ddi_extractor **out, orx_error *err) {
    if (!lex || !out) return orx_fail(err, ORX_ERR_USAGE, "orx_ddi_extractor_create: NULL argument");
    *out = NULL;
    orx_ddi_extractor *x = calloc(1, sizeof *x);
    if (!x) return orx_fail(err, ORX_ERR_NOMEM, "ddi extractor: out of memory");
    char path[4200];
    if (!terms_path) {
        snprintf(path, sizeof path, "%s/interactions/class_terms.tsv", orx_lexicon_default_data_dir());
        terms_path = path;
    }
    x->lex = lex;
    x->terms = orx_ddi_terms_load(terms_path, err);
    if (!x->terms) {
        free(x);
        return err && err->code ? err->code : ORX_ERR_IO;
    }
    /* the effect-role table sits next to the class-term table */
    char epath[4200];
    const char *slash = strrchr(terms_path, '/');
    if (slash) snprintf(epath, sizeof epath, "%.*s/effect_roles.tsv", (int)(slash - terms_path), terms_path);
    else snprintf(epath, sizeof epath, "effect_roles.tsv");
    x->effects = orx_ddi_effects_load(epath, err);
    if (!x->effects) {
        orx_ddi_extractor_free(x);
        return err && err->code ? err->code : ORX_ERR_IO;
    }
    x->cache = orx_ddi_drug_cache_create();
    if (!x->cache) {
        orx_ddi_extractor_free(x);
        return orx_fail(err, ORX_ERR_NOMEM, "ddi extractor: out of memory");
    }
    *out = x;
    return ORX_OK;
}

void orx_ddi_extractor_free(orx_ddi_extractor *x) {
    if (!x) return;
    orx_ddi_terms_free(x->terms);
    orx_ddi_effects_free(x->effects);
    orx_ddi_drug_cache_free(x->cache);
    free(x);
}

/* ============================================================================================
 * One unit (sentence or table row)
 * ========================================================================================== */
typedef struct unit {
    const char  *text;            /* the sentence / row, in the section text */
    size_t       len;             /* bytes */
    ddi_tok      tok[DDI_MAX_TOK];/* tokens */
    int          nt;              /* count */
    ddi_mention  m[DDI_MAX_MENTION]; /* mentions */
    int          nm;              /* count */
    char         low[4096];       /* lower-cased text (cut) */
    ddi_action   act;             /* strongest action of the whole unit */
    bool         cue;             /* interaction context words */
    bool         partners;        /* names a partner (not the label drug, not a comparison) */
    bool         row;             /* a table row */
} unit;

typedef struct sec_ctx {
    orx_ddi_extractor *x;
    ddi_ctx            c;                /* lexicon + label ingredients */
    const char        *label_drug;       /* ";"-joined label ingredients */
    const char        *set_id, *title, *code, *name;
    bool               need_cue;         /* sections other than Drug Interactions */
    bool               base_need_cue;    /* need_cue of the section itself */
    bool               has_di_sub;       /* a section whose text may hold a "Drug Interactions"
                                            sub-heading (Precautions, Warnings, W&P) */
    bool               dosing;           /* Dosage and Administration: actions only */
    orx_ddi_rules     *out;
    unit              *heading;          /* last heading line (partners) */
    bool               have_heading;
    unit              *lead;             /* last sentence with an action (table lead) */
    bool               have_lead;
    int                lead_age;         /* lines since the lead */
    unit              *header;           /* first row of the current table */
    bool               in_table;
    unit              *setting;          /* the lead of a list that scopes its items to a
                                            procedure ("... epidural or spinal hematomas in
                                            these patients include:") */
    bool               have_setting;     /* the current line is an item of that list */
} sec_ctx;

static bool partner(const ddi_mention *m) {
    return !m->is_label && !m->comparison && m->example_of < 0 && !m->self_role && !m->self_class &&
           m->describes < 0;
}

static void unit_read(const ddi_ctx *c, unit *u, const char *text, size_t len, bool row) {
    u->text = text;
    u->len = len;
    u->row = row;
    u->nt = orx_ddi_tokenize(text, len, u->tok, DDI_MAX_TOK);
    u->nm = orx_ddi_find_mentions(c, text, u->tok, u->nt, u->m, DDI_MAX_MENTION);
    orx_ddi_lower(text, len, u->low, sizeof u->low);
    u->act = orx_ddi_classify(u->low);
    u->cue = orx_ddi_has_cue(u->low);
    u->partners = false;
    for (int i = 0; i < u->nm; i++) u->partners |= partner(&u->m[i]);
}

/* Action of the clause holding byte offset off (clauses end at ";" and contrast words). */
static ddi_action clause_action(const unit *u, size_t off) {
    static const char *const SPLIT[] = {";", " however", " but ", " whereas ", " although ", NULL};
    size_t n = strlen(u->low), a = 0, b = n;
    for (int k = 0; SPLIT[k]; k++) {
        for (const char *p = strstr(u->low, SPLIT[k]); p; p = strstr(p + 1, SPLIT[k])) {
            size_t at = (size_t)(p - u->low);
            if (at <= off && at + 1 > a) a = at + 1;
            if (at > off && at < b) b = at;
        }
    }
    if (a >= b) return u->act;
    char clause[4096];
    snprintf(clause, sizeof clause, "%.*s", (int)(b - a), u->low + a);
    return orx_ddi_classify(clause);
}

/* ============================================================================================
 * Emitting rows
 * ========================================================================================== */
static char *dup_span(const char *s, size_t n) {
    char *d = malloc(n + 1);
    if (d) { memcpy(d, s, n); d[n] = 0; }
    return d;
}

/* Cut a NUL-terminated string back to a whole UTF-8 character (after a snprintf that truncated). */
static void utf8_trim(char *s) {
    size_t n = strlen(s), k = n;
    while (k > 0 && ((unsigned char)s[k - 1] & 0xC0) == 0x80) k--;
    if (k > 0 && (unsigned char)s[k - 1] >= 0xC0) {
        unsigned char lead = (unsigned char)s[k - 1];
        size_t need = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : 2;
        if (n - (k - 1) < need) s[k - 1] = 0;
    }
}

static orx_status emit(sec_ctx *sc, const char *kind, const char *label, const char *other,
                       const char *other_text, const char *examples, orx_severity tier,
                       const char *action, const unit *u, const unit *ctx, orx_error *err) {
    orx_ddi_rule *r = rules_push(sc->out);
    if (!r) return orx_fail(err, ORX_ERR_NOMEM, "ddi extractor: out of memory");
    snprintf(r->kind, sizeof r->kind, "%s", kind);
    snprintf(r->label_drug, sizeof r->label_drug, "%s", label);
    snprintf(r->other, sizeof r->other, "%s", other);
    snprintf(r->other_text, sizeof r->other_text, "%s", other_text);
    r->tier = tier;
    snprintf(r->action, sizeof r->action, "%s", action);
    snprintf(r->set_id, sizeof r->set_id, "%s", sc->set_id);
    snprintf(r->section_code, sizeof r->section_code, "%s", sc->code ? sc->code : "");
    snprintf(r->section, sizeof r->section, "%s", sc->name ? sc->name : "");
    snprintf(r->title, sizeof r->title, "%s", sc->title ? sc->title : "");
    utf8_trim(r->title);
    utf8_trim(r->other_text);
    r->examples = strdup(examples ? examples : "");
    r->quote = dup_span(u->text, u->len);
    r->context = ctx ? dup_span(ctx->text, ctx->len) : strdup("");
    if (!r->examples || !r->quote || !r->context) return orx_fail(err, ORX_ERR_NOMEM, "ddi extractor: out of memory");
    return ORX_OK;
}

/* In the example list of mention idx: its own examples; for an effect phrase every drug of its
 * list, nested lists included. */
static bool example_in(const unit *u, int idx, int j) {
    const ddi_mention *m = &u->m[idx], *x = &u->m[j];
    if (m->ex0 >= 0) return x->kind == DDI_M_DRUG && !x->is_label && x->t0 >= m->ex0 && x->t1 <= m->ex1;
    return x->example_of == idx;
}

static void examples_of(const unit *u, int idx, char *buf, size_t cap) {
    size_t o = 0;
    buf[0] = 0;
    for (int j = 0; j < u->nm; j++) {
        if (!example_in(u, idx, j)) continue;
        bool dup = false;
        for (int k = 0; k < j; k++) dup |= example_in(u, idx, k) && !strcmp(u->m[k].key, u->m[j].key);
        if (dup) continue;
        int w = snprintf(buf + o, cap - o, "%s%s", o ? ";" : "", u->m[j].key);
        if (w < 0 || (size_t)w >= cap - o) break;
        o += (size_t)w;
    }
}

/* Role-membership rows: the label's own drug ("X is a strong inhibitor of CYP3A4") and the
 * examples given for a single role ("strong CYP3A4 inhibitors (e.g., ketoconazole)"). */
static orx_status emit_members(sec_ctx *sc, const unit *u, orx_error *err) {
    for (int i = 0; i < u->nm; i++) {
        const ddi_mention *m = &u->m[i];
        if (m->kind != DDI_M_ROLE || strncmp(m->key, "role:", 5)) continue;
        int alternatives = 0;
        for (int j = 0; j < u->nm; j++) alternatives += u->m[j].kind == DDI_M_ROLE && u->m[j].t0 == m->t0;
        char comp[DDI_KEY];
        snprintf(comp, sizeof comp, "%s", m->key + 5);
        for (char *c = comp, *next; c; c = next) {
            next = strchr(c, '+');
            if (next) *next++ = 0;
            char key[DDI_KEY];
            snprintf(key, sizeof key, "role:%s", c);
            if (m->self_role && sc->c.n_label == 1) {
                orx_status st = emit(sc, "member", sc->c.label[0], key, m->text, "", ORX_SEV_INFO, "member", u, NULL, err);
                if (st) return st;
            }
            if (m->describes >= 0) {
                orx_status st = emit(sc, "member", u->m[m->describes].key, key, m->text, "", ORX_SEV_INFO,
                                     "member", u, NULL, err);
                if (st) return st;
            }
            if (m->self_role || m->describes >= 0 || alternatives > 1) continue;
            for (int j = 0; j < u->nm; j++) {
                if (u->m[j].example_of != i) continue;
                orx_status st = emit(sc, "member", u->m[j].key, key, m->text, "", ORX_SEV_INFO, "member", u, NULL, err);
                if (st) return st;
            }
        }
    }
    return ORX_OK;
}

/* A class of an effect's example list that gives examples of its own ("antipsychotic
 * medications (e.g., ziprasidone, chlorpromazine)"): only those drugs are members. */
static bool class_has_examples(const unit *u, int j) {
    const ddi_mention *x = &u->m[j];
    for (int k = 0; k < u->nm; k++)
        if (k != j && u->m[k].kind == DDI_M_DRUG && u->m[k].example_of == j) return true;
    int p = x->t1;
    if (p < u->nt && strcmp(u->tok[p].low, "(")) p++; /* "antipsychotic medications (" */
    if (p >= u->nt || strcmp(u->tok[p].low, "(")) return false;
    for (int k = 0; k < u->nm; k++)
        if (u->m[k].kind == DDI_M_DRUG && u->m[k].t0 > p && u->m[k].t0 <= p + 6) return true;
    return false;
}

/* A class written with a word that restricts it ("certain antihistamine drugs", "some
 * phenothiazines", "Class IA antiarrhythmics"): not every member is meant. */
static bool class_qualified(const unit *u, int j) {
    static const char *const Q[] = {"certain", "some", "specific", "selected", "particular", "many", "several",
                                    "i", "ia", "ib", "ic", "1a", "1b", "1c", "iii", "3", "older", NULL};
    int k = u->m[j].t0 - 1;
    if (k < 0) return false;
    size_t l = strlen(u->tok[k].low);
    if (l > 6 && !strcmp(u->tok[k].low + l - 6, "-based")) return true; /* "calcium-based antacids" */
    for (int q = 0; Q[q]; q++)
        if (!strcmp(u->tok[k].low, Q[q])) return true;
    return false;
}

/* Effect-role membership rows: the drugs of an effect phrase's example list and its classes
 * that give no examples of their own ("drugs that affect hemostasis, such as NSAIDs, platelet
 * inhibitors, other anticoagulants"); and the label's statements about its own drug ("X
 * prolongs the QT interval") in the sections that state effects (not Clinical Pharmacology,
 * not Dosage and Administration). */
static orx_status emit_effect_members(sec_ctx *sc, const unit *u, orx_error *err) {
    orx_status st = ORX_OK;
    for (int i = 0; i < u->nm && !st; i++) {
        const ddi_mention *m = &u->m[i];
        if (m->ex0 < 0) continue;
        char key[DDI_KEY]; /* "effect:qt&role:cyp3a4:substrate": its examples are members of the effect */
        snprintf(key, sizeof key, "%.*s", (int)strcspn(m->key, "&"), m->key);
        for (int j = 0; j < u->nm && !st; j++) {
            const ddi_mention *x = &u->m[j];
            if (j == i || x->is_label || x->t0 < m->ex0 || x->t1 > m->ex1) continue;
            if (x->kind == DDI_M_DRUG) {
                st = emit(sc, "member", x->key, key, m->text, "", ORX_SEV_INFO, "member", u, NULL, err);
                continue;
            }
            if (x->kind != DDI_M_CLASS || class_has_examples(u, j) || class_qualified(u, j)) continue;
            char cls[DDI_KEY];
            snprintf(cls, sizeof cls, "%.*s", (int)strcspn(x->key, "&"), x->key);
            st = emit(sc, "member", cls, key, m->text, "", ORX_SEV_INFO, "member", u, NULL, err);
        }
    }
    static const char *const SELF_SECTIONS[] = {"34066-1", "43685-7", "34071-1", "42232-9", "34070-3",
                                                "34073-7", "", NULL};
    if (!orx_str_in(sc->code ? sc->code : "", SELF_SECTIONS) || st) return st;
    ddi_self self[8];
    int ns = orx_ddi_effect_self(sc->c.effects, u->tok, u->nt, u->m, u->nm, self, 8);
    for (int k = 0; k < ns && !st; k++) {
        const ddi_tok *a = &u->tok[self[k].t0], *b = &u->tok[self[k].t1 - 1];
        char words[160];
        snprintf(words, sizeof words, "%.*s", (int)(b->e - a->s), u->text + a->s);
        st = emit(sc, "member", u->m[self[k].subject].key, self[k].key, words, "", ORX_SEV_INFO, "self", u, NULL, err);
    }
    return st;
}

/* Is the first word of the sentence one of W? */
static bool first_word_in(const unit *u, const char *const *W) {
    int i = 0;
    while (i < u->nt && !u->tok[i].word) i++;
    return i < u->nt && orx_str_in(u->tok[i].low, W);
}

/* A follow-up sentence that continues the previous one: it starts with an anaphor ("These
 * antiviral drugs must not ...", "It may be necessary to adjust ...") or an instruction
 * ("Reduce the dose.", "Monitor INR."). */
static bool follow_up(const unit *n) {
    static const char *const W[] = {"these", "this", "such", "they", "it", "therefore", "thus",
                                    "consequently", "accordingly", "reduce", "monitor", "avoid",
                                    "consider", "adjust", "decrease", "discontinue", "do", "use", NULL};
    return first_word_in(n, W);
}

/* A sentence that lists what the previous one spoke of ("These include aspirin ...", "Such
 * drugs include ..."). */
static bool continues(const unit *u) {
    static const char *const W[] = {"these", "such", "they", "this", "examples", "e", "including",
                                    "include", "includes", NULL};
    return first_word_in(u, W);
}

/* No partner, or only classes and roles ("Strong CYP3A4 inhibitors ... These include ..."). */
static bool only_class_partners(const unit *u) {
    for (int i = 0; i < u->nm; i++)
        if (partner(&u->m[i]) && u->m[i].kind == DDI_M_DRUG) return false;
    return true;
}

/* The action a partner mention takes, and the neighbour unit it came from (NULL = itself). */
static ddi_action mention_action(const sec_ctx *sc, const unit *u, const ddi_mention *m,
                                 const unit *prev, const unit *next, const unit **ctx) {
    *ctx = NULL;
    ddi_action a = clause_action(u, u->tok[m->t0].s);
    if (a.act == DDI_ACT_NONE) a = u->act;
    if (a.act == DDI_ACT_NEGATED) return a;
    if (next && !next->partners && next->act.act >= DDI_ACT_CAUTION && next->act.act > a.act && follow_up(next)) {
        *ctx = next;
        ddi_action b = next->act;
        b.serious |= a.serious;
        return b;
    }
    if (a.act != DDI_ACT_NONE) return a;
    if (next && !next->partners && next->act.act >= DDI_ACT_CAUTION) { *ctx = next; return next->act; }
    if (prev && only_class_partners(prev) && prev->act.act >= DDI_ACT_EFFECT && continues(u)) {
        *ctx = prev;
        return prev->act;
    }
    if (u->row && sc->have_lead) { *ctx = sc->lead; return sc->lead->act; }
    return a;
}

static bool class_qualified(const unit *u, int j);

/* A statement scoped to a procedure on the neuraxis — neuraxial anaesthesia, spinal or lumbar
 * puncture, epidural catheters: the anticoagulants' Boxed Warning lists "concomitant use of
 * other drugs that affect hemostasis" among the risk factors of spinal/epidural hematoma "in
 * these patients" — holds in that setting, not as a general interaction. */
static bool procedure_setting(const char *low) {
    static const char *const W[] = {"neuraxial", "epidural", "spinal puncture", "lumbar puncture",
                                    "spinal anesthesia", "spinal anaesthesia", NULL};
    return orx_str_has_any(low, W);
}

static orx_status emit_rules(sec_ctx *sc, const char *label, const unit *u, const unit *src, int i,
                             ddi_action a, const unit *ctx, orx_error *err) {
    const ddi_mention *m = &src->m[i];
    bool go;
    if (a.in_vitro && a.act < DDI_ACT_CAUTION) return ORX_OK;
    if (sc->dosing && a.act < DDI_ACT_CAUTION) return ORX_OK;
    /* in Contraindications a list item naming the use together ("Coadministration with strong
     * CYP3A4 inhibitors") is a contraindication; an effect statement only when it speaks of using
     * the drugs together */
    bool in_ci = sc->code && !strcmp(sc->code, "34070-3");
    if (in_ci && a.act == DDI_ACT_NONE && u->cue) a.act = DDI_ACT_CONTRA;
    bool ci_effect = in_ci && a.act == DDI_ACT_EFFECT && !u->cue;
    /* a statement scoped to a procedure (in its own words, its neighbour's, or the lead of the
     * list it is an item of) is not raised by its section and is at most moderate; the lead is
     * kept as the context */
    const unit *scope = procedure_setting(u->low)               ? u
                        : ctx && procedure_setting(ctx->low)    ? ctx
                        : sc->have_setting                      ? sc->setting
                                                                : NULL;
    orx_severity tier = orx_ddi_tier(a.act, a.serious, ci_effect || scope ? NULL : sc->code, &go);
    if (!go) return ORX_OK;
    if (scope && tier > ORX_SEV_MODERATE) tier = ORX_SEV_MODERATE;
    if (scope && !ctx && scope != u) ctx = scope;
    if (orx_ddi_dose_qualified(u->low) && tier > ORX_SEV_MINOR) tier = (orx_severity)(tier - 1);
    if (orx_ddi_large_amounts(u->low) && tier > ORX_SEV_MODERATE) tier = ORX_SEV_MODERATE;
    char ex[1024];
    examples_of(src, i, ex, sizeof ex);
    /* "certain CNS depressant drugs", "calcium-based antacids", "Class IA antiarrhythmics": not
     * every member is meant; the rule reaches the sentence's own examples only */
    char key[DDI_KEY + 16];
    bool qualified = m->kind != DDI_M_DRUG && strncmp(m->key, "examples:", 9) && class_qualified(src, i);
    snprintf(key, sizeof key, "%s%s", qualified ? "examples:" : "", m->key);
    return emit(sc, "rule", label, key, m->text, ex, tier, orx_ddi_act_name(a.act), u, ctx, err);
}

/* A title in capitals ("WARNING: ... RISKS FROM CONCOMITANT USE WITH BENZODIAZEPINES OR OTHER CNS
 * DEPRESSANTS"): it names topics, not statements. */
static bool capitals_title(const unit *u) {
    size_t letters = 0, upper = 0;
    for (size_t i = 0; i < u->len; i++) {
        unsigned char c = (unsigned char)u->text[i];
        if (isalpha(c)) { letters++; upper += isupper(c) != 0; }
    }
    return letters >= 20 && upper * 10 >= letters * 8;
}

/* "Strong CYP3A4 inhibitors ... . These include itraconazole, ketoconazole ...": the drugs the
 * continuation lists are members of the previous sentence's single role. */
static orx_status continuation_members(sec_ctx *sc, const unit *u, const unit *prev, orx_error *err) {
    if (!prev || !continues(u)) return ORX_OK;
    const ddi_mention *role = NULL;
    for (int i = 0; i < prev->nm; i++) {
        const ddi_mention *m = &prev->m[i];
        if (!partner(m)) continue;
        if (m->kind != DDI_M_ROLE || role || (strncmp(m->key, "role:", 5) && strncmp(m->key, "effect:", 7)))
            return ORX_OK; /* one role only */
        role = m;
    }
    if (!role || strchr(role->key, '+')) return ORX_OK;
    for (int j = 0; j < u->nm; j++) {
        if (u->m[j].kind != DDI_M_DRUG || !partner(&u->m[j])) continue;
        orx_status st = emit(sc, "member", u->m[j].key, role->key, role->text, "", ORX_SEV_INFO, "member", u, prev, err);
        if (st) return st;
    }
    return ORX_OK;
}

/* The drug's own levels or toxicity are what the sentence speaks of ("lithium toxicity",
 * "serum lithium", "digoxin concentrations"). */
static bool affected(const unit *u, const ddi_mention *m) {
    static const char *const AFTER[] = {"toxicity", "levels", "level", "concentrations", "concentration",
                                        "clearance", "intoxication", NULL};
    static const char *const BEFORE[] = {"serum", "plasma", "blood", NULL};
    for (int k = 0; AFTER[k] && m->t1 < u->nt; k++)
        if (!strcmp(u->tok[m->t1].low, AFTER[k])) return true;
    for (int k = 0; BEFORE[k] && m->t0 > 0; k++)
        if (!strcmp(u->tok[m->t0 - 1].low, BEFORE[k])) return true;
    return false;
}

/* All rules of one unit, given its neighbours in the same line (prev / next may be NULL). */
/* Pregnancy and nursing statements ("... exposure to statins in pregnancy"): about the fetus or
 * the infant, not a drug combination. */
static bool pregnancy_statement(const unit *u) {
    static const char *const W[] = {"pregnan", "fetal", "fetus", "intrauterine", "nursing", "lactat",
                                    "breast-fed", "breastfed", "breast milk", "neonat", "labor and delivery",
                                    "obstetric", NULL};
    return orx_str_has_any(u->low, W);
}

/* Statements that are not about using two drugs together: adverse-event management by grade
 * ("If Grade 3 or 4 neutropenia develops, consider ... G-CSF", "Permanently discontinue TAFINLAR
 * and trametinib for all Grade 4 hemorrhagic events"), overdose reports, and trial comparisons
 * that name no co-administration ("trials that compared nabumetone ... or naproxen"), animal
 * experiments, a dose that holds either way ("The adult initial dose of MICROZIDE is one capsule
 * given once daily whether given alone or in combination with other antihypertensives", "BYSTOLIC
 * may be used alone or in combination with other antihypertensive agents") and a drug's place
 * after others failed ("…in patients with bronchospastic disease who do not respond to, or cannot
 * tolerate, other antihypertensive treatment"). */
static bool not_a_combination(const unit *u) {
    static const char *const EITHER_WAY[] = {"whether used alone or", "whether given alone or",
                                             "whether administered alone or", "whether taken alone or",
                                             "may be used alone or", "may be given alone or",
                                             "may be administered alone or", "do not respond to", NULL};
    if (orx_str_has_any(u->low, EITHER_WAY)) return true;
    for (int i = 0; i + 1 < u->nt; i++)
        if (!strcmp(u->tok[i].low, "grade") && (u->tok[i + 1].low[0] >= '1' && u->tok[i + 1].low[0] <= '4')) return true;
    if (strstr(u->low, "overdose") || strstr(u->low, "overdosage")) return true;
    static const char *const ANIMAL[] = {"animal", "animals", "rat", "rats", "mouse", "mice", "dog", "dogs",
                                         "rabbit", "rabbits", "monkey", "monkeys", NULL};
    for (int i = 0; ANIMAL[i]; i++) /* animal experiments ("in rabbit kidney slices") */
        if (orx_ddi_has_word(u->low, ANIMAL[i])) return true;
    bool compared = orx_ddi_has_word(u->low, "compared") || orx_ddi_has_word(u->low, "comparing") ||
                    orx_ddi_has_word(u->low, "versus") || orx_ddi_has_word(u->low, "vs");
    bool trial = strstr(u->low, "trial") && !strstr(u->low, "interaction"); /* a PK study "compared to X
                                                                              alone" is an interaction */
    bool together = strstr(u->low, "concomitant") || strstr(u->low, "coadminist") || strstr(u->low, "co-administ") ||
                    strstr(u->low, "combination") || strstr(u->low, "together with") || strstr(u->low, "in addition to") ||
                    strstr(u->low, "concurrent");
    return compared && trial && !together;
}

/* ============================================================================================
 * Regimen partners
 * ========================================================================================== */
/* A drug the label's drug is given with as a regimen — its indication ("POMALYST, in
 * combination with dexamethasone, is indicated for ...", "INVIRASE in combination with
 * ritonavir ... is indicated") or a statement of the regimen itself ("when TAFINLAR is
 * administered as a single agent or when used in combination with trametinib") — is no
 * interaction partner: the label's statements about it manage the regimen's adverse events
 * ("Withhold trametinib for any fever higher than 104oF"). A pharmacokinetic statement about it
 * stays a rule ("Coadministration with ritonavir increased saquinavir AUC"). */
static bool regimen_sentence(const char *low, bool indications) {
    bool comb = strstr(low, "in combination with") != NULL;
    if (indications)
        return (comb || strstr(low, "co-administered with") || strstr(low, "coadministered with")) &&
               strstr(low, "indicated") && !strstr(low, "indicated if");
    return comb && (strstr(low, "single agent") || strstr(low, "monotherapy") || strstr(low, "is indicated for") ||
                    strstr(low, "is indicated in combination") || strstr(low, "is indicated, in combination"));
}

static size_t regimen_phrase(const char *low) {
    static const char *const P[] = {"in combination with", "co-administered with", "coadministered with", NULL};
    size_t best = (size_t)-1;
    for (int k = 0; P[k]; k++) {
        const char *h = strstr(low, P[k]);
        if (h && (size_t)(h - low) < best) best = (size_t)(h - low);
    }
    return best;
}

static bool regimen_partner(const orx_ddi_extractor *x, const char *key) {
    for (int i = 0; i < x->n_regimen; i++)
        if (!strcmp(x->regimen[i], key)) return true;
    return false;
}

/* Pharmacokinetic words: the statement is about exposure, not about the regimen's effects. */
static bool pk_statement(const char *low) {
    static const char *const W[] = {"auc", "cmax", "exposure", "concentration", "clearance", "metaboli",
                                    "pharmacokinetic", "half-life", "bioavailability", "absorption",
                                    "plasma level", "serum level", "cyp", "p-gp", "p-glycoprotein", NULL};
    return orx_str_has_any(low, W);
}

static void unit_read(const ddi_ctx *c, unit *u, const char *text, size_t len, bool row);
static size_t logical_line(const char *p);

/* The regimen partners one section text states (appended to x->regimen). */
static orx_status regimen_scan(orx_ddi_extractor *x, const ddi_ctx *c, const char *code, const char *text,
                               orx_error *err) {
    bool indications = code && !strcmp(code, "34067-9");
    unit *u = NULL;
    for (const char *p = text; *p;) {
        size_t len = logical_line(p);
        const char *line = p;
        p += len;
        if (*p == '\n') p++;
        ddi_span sp[DDI_MAX_SENT];
        size_t ns = orx_ddi_split_sentences(line, len, sp, DDI_MAX_SENT);
        if (ns > DDI_MAX_SENT) ns = DDI_MAX_SENT;
        for (size_t k = 0; k < ns; k++) {
            char low[4096];
            orx_ddi_lower(line + sp[k].off, sp[k].len, low, sizeof low);
            if (!regimen_sentence(low, indications)) continue;
            if (!u && !(u = malloc(sizeof *u))) return orx_fail(err, ORX_ERR_NOMEM, "ddi extractor: out of memory");
            unit_read(c, u, line + sp[k].off, sp[k].len, false);
            size_t at = regimen_phrase(u->low);
            for (int i = 0; i < u->nm; i++) {
                const ddi_mention *m = &u->m[i];
                if (m->kind != DDI_M_DRUG || m->is_label || u->tok[m->t0].s < at) continue;
                if (regimen_partner(x, m->key) || x->n_regimen >= DDI_MAX_REGIMEN) continue;
                snprintf(x->regimen[x->n_regimen++], ORX_LEX_NAME, "%s", m->key);
            }
        }
    }
    free(u);
    return ORX_OK;
}

/* A partner mention that is one of the label's regimen partners, in a statement that is not
 * pharmacokinetic: no rule. */
static bool regimen_statement(const sec_ctx *sc, const unit *u, const ddi_mention *m) {
    return m->kind == DDI_M_DRUG && regimen_partner(sc->x, m->key) && !pk_statement(u->low);
}

static orx_status do_unit(sec_ctx *sc, const unit *u, const unit *prev, const unit *next, orx_error *err) {
    if (capitals_title(u) || pregnancy_statement(u) || not_a_combination(u)) return ORX_OK;
    /* outside Drug Interactions an effect-only statement needs interaction words; an explicit
     * action naming a partner does not (except in Dosage and Administration) */
    bool context_ok = !sc->need_cue || u->cue || (u->row && sc->have_lead) ||
                      (prev && prev->cue && !prev->partners) ||
                      (!sc->dosing && u->act.act >= DDI_ACT_CAUTION);
    orx_status st = emit_members(sc, u, err);
    if (!st) st = emit_effect_members(sc, u, err);
    if (st || !context_ok) return st;
    if (!u->partners) {
        /* an action with no partner: the heading's partners ("7.3 Digoxin ... Monitor levels.") */
        if (!sc->have_heading || u->act.act < DDI_ACT_EFFECT || (sc->need_cue && !u->cue)) return ORX_OK;
        for (int i = 0; i < sc->heading->nm && !st; i++)
            if (partner(&sc->heading->m[i]) && !regimen_statement(sc, u, &sc->heading->m[i]))
                st = emit_rules(sc, sc->label_drug, u, sc->heading, i, u->act, sc->heading, err);
        return st;
    }
    /* a sentence whose only partners are classes that list the label drug itself ("patients
     * treated with antidepressants", "potassium salts" in a potassium label) speaks of the label
     * drug's own class, not of a second drug */
    bool other_partner = false;
    bool own_class[DDI_MAX_MENTION] = {0};
    for (int i = 0; i < u->nm; i++) {
        const ddi_mention *m = &u->m[i];
        if (!partner(m)) continue;
        bool own = false;
        if (m->kind == DDI_M_CLASS && !(m->t0 > 0 && (!strcmp(u->tok[m->t0 - 1].low, "other") ||
                                                      !strcmp(u->tok[m->t0 - 1].low, "another")))) {
            char names[DDI_KEY];
            snprintf(names, sizeof names, "%s", m->key + 6);
            names[strcspn(names, "&")] = 0;
            for (char *p = names, *bar; p && !own; p = bar) {
                bar = strchr(p, '|');
                if (bar) *bar++ = 0;
                for (int l = 0; l < sc->c.n_label && !own; l++) own = orx_lexicon_in_class(sc->c.lex, sc->c.label[l], p);
            }
        }
        if (m->kind == DDI_M_DRUG)
            for (int l = 0; l < sc->c.n_label && !own; l++) own = !strncmp(m->key, sc->c.label[l], strlen(m->key));
        own_class[i] = own && m->kind == DDI_M_CLASS;
        other_partner |= !own;
    }
    if (!other_partner) return st;
    /* a third drug whose levels or toxicity the sentence is about ("Use of a diuretic may further
     * increase the risk of lithium toxicity", "Lithium toxicity has been reported in patients
     * receiving lithium with diuretics and ACE inhibitors"): that drug is the label's partner;
     * the classes it names are its co-precipitants, not the label drug's partners */
    bool third = false;
    for (int i = 0; i < u->nm && !third; i++)
        third = u->m[i].kind == DDI_M_DRUG && partner(&u->m[i]) && affected(u, &u->m[i]);
    if (third)
        for (int i = 0; i < u->nm; i++)
            if (u->m[i].kind != DDI_M_DRUG) own_class[i] = true;
    /* a sentence about the label drug's class ("Concomitant use of benzodiazepines and opioids
     * may result in ...") states a class-level interaction: its rules apply to every member; in a
     * combination product's label a sentence that names one of its ingredients is about that one */
    const char *label = sc->label_drug;
    if (sc->c.n_label > 1) {
        const char *named = NULL;
        bool several = false;
        for (int i = 0; i < u->nm; i++)
            if (u->m[i].is_label) {
                several |= named && strcmp(named, u->m[i].key);
                named = u->m[i].key;
            }
        if (named && !several) label = named;
    }
    for (int i = 0; i < u->nm; i++)
        if (u->m[i].kind == DDI_M_CLASS && u->m[i].self_class) { label = u->m[i].key; break; }
    st = continuation_members(sc, u, prev, err);
    for (int i = 0; i < u->nm && !st; i++) {
        /* the label drug's own class next to another partner ("Lithium generally should not be
         * given with diuretics" in a thiazide label): the subject, not a partner */
        if (!partner(&u->m[i]) || own_class[i] || regimen_statement(sc, u, &u->m[i])) continue;
        const unit *ctx;
        ddi_action a = mention_action(sc, u, &u->m[i], prev, next, &ctx);
        st = emit_rules(sc, label, u, u, i, a, ctx, err);
    }
    return st;
}

/* ============================================================================================
 * Lines: sentences, headings, table rows
 * ========================================================================================== */
static bool is_heading(const char *line, size_t len, int words) {
    if (words == 0 || words > 12) return false;
    char last = line[len - 1];
    return last != '.' && last != ':' && last != ';' && last != ',';
}

/* Old-format labels keep "Drug Interactions" as a sub-heading of PRECAUTIONS (or WARNINGS):
 * the text under it is the Drug Interactions section and needs no interaction words, until a
 * heading of another sub-section ("Drug/Laboratory Test Interactions", "Pregnancy",
 * "Information for Patients" ...: any heading the KB maps to another section code). A heading
 * that maps to no section (a drug name: "Cimetidine") changes nothing. */
static bool di_heading(const char *line, size_t len) {
    char buf[64];
    size_t o = 0;
    size_t i = 0;
    while (i < len && (isdigit((unsigned char)line[i]) || line[i] == '.' || line[i] == ' ')) i++;
    for (; i < len && o + 1 < sizeof buf; i++) {
        unsigned char ch = (unsigned char)line[i];
        if (ch == '(' || ch == ':' || ch == '[') return false; /* a cross-reference, not a heading */
        if (isalpha(ch)) buf[o++] = (char)tolower(ch);
    }
    buf[o] = 0;
    return !strcmp(buf, "druginteractions") || !strcmp(buf, "drugdruginteractions") || !strcmp(buf, "interactions");
}

static void subsection_heading(sec_ctx *sc, const char *line, size_t len) {
    if (!sc->has_di_sub) return;
    if (di_heading(line, len)) {
        sc->need_cue = false;
        return;
    }
    char buf[160];
    if (len >= sizeof buf) return;
    memcpy(buf, line, len);
    buf[len] = 0;
    if (orx_kb_section_code_for(buf)) sc->need_cue = sc->base_need_cue;
}

/* Enzyme tables ("| Enzyme | Inhibitors | Inducers" then "| CYP2C9 | amiodarone, ... | ..."):
 * each drug in an inhibitor/inducer column is a member of that role for the row's enzyme. */
static orx_status table_members(sec_ctx *sc, const unit *u, orx_error *err) {
    if (!sc->header || u->text == sc->header->text) return ORX_OK;
    int col_noun[16] = {0}, col = -1;
    for (int i = 0; i < sc->header->nt; i++) {
        if (!strcmp(sc->header->tok[i].low, "|")) { col++; continue; }
        if (col >= 0 && col < 16) {
            const char *w = sc->header->tok[i].low;
            if (!strncmp(w, "inhibitor", 9)) col_noun[col] = 1;
            if (!strncmp(w, "inducer", 7)) col_noun[col] = 2;
        }
    }
    int first = 0;
    while (first < u->nt && !strcmp(u->tok[first].low, "|")) first++;
    char enz[16];
    int k = 0, cell_tokens = 0;
    for (int i = first; i < u->nt && u->tok[i].low[0] != '|'; i++) cell_tokens++;
    for (int i = first; i < u->nt && !k && cell_tokens <= 3; i++) {
        if (!strcmp(u->tok[i].low, "|")) break;
        const char *w = u->tok[i].low;
        if (!strncmp(w, "cyp", 3) && w[3]) { snprintf(enz, sizeof enz, "%s", w); k = 1; }
    }
    if (!k) return ORX_OK;
    if (!strcmp(enz, "cyp3a") || !strcmp(enz, "cyp3a5")) snprintf(enz, sizeof enz, "cyp3a4");
    for (int j = 0; j < u->nm; j++) {
        if (u->m[j].kind != DDI_M_DRUG || u->m[j].is_label) continue;
        int c = -1;
        for (int i = 0; i < u->m[j].t0; i++) c += !strcmp(u->tok[i].low, "|");
        if (c < 0 || c >= 16 || !col_noun[c]) continue;
        char key[64];
        snprintf(key, sizeof key, "role:%s:%s", enz, col_noun[c] == 1 ? "inhibitor" : "inducer");
        orx_status st = emit(sc, "member", u->m[j].key, key, u->m[j].text, "", ORX_SEV_INFO, "member", u,
                             sc->header, err);
        if (st) return st;
    }
    return ORX_OK;
}

static orx_status do_row(sec_ctx *sc, unit *u, const char *line, size_t len, orx_error *err) {
    unit_read(&sc->c, u, line, len, true);
    if (!sc->in_table) {
        sc->in_table = true;
        *sc->header = *u;
    }
    orx_status st = table_members(sc, u, err);
    if (!st) st = do_unit(sc, u, NULL, NULL, err);
    return st;
}

/* "Cimetidine: ..." / "Digoxin – ...": a lead of at most 6 words before ':' naming a partner
 * gives this line its heading. Returns the token index of the ':' (0 = none). */
static int colon_lead(const unit *u) {
    for (int i = 1; i < u->nt && i <= 8; i++) {
        if (strcmp(u->tok[i].low, ":") != 0) continue;
        for (int k = 0; k < u->nm; k++)
            if (partner(&u->m[k]) && u->m[k].t1 <= i) return i;
        return 0;
    }
    return 0;
}

static orx_status do_line(sec_ctx *sc, unit *units, const char *line, size_t len, orx_error *err) {
    ddi_span sp[DDI_MAX_SENT];
    size_t ns = orx_ddi_split_sentences(line, len, sp, DDI_MAX_SENT);
    if (ns > DDI_MAX_SENT) ns = DDI_MAX_SENT;
    if (ns == 0) return ORX_OK;
    /* a list item ("*", "-", "•") keeps the setting of its list's lead; any other line ends it */
    bool item = line[0] == '*' || (line[0] == '-' && len > 1 && line[1] == ' ') ||
                (len > 2 && !memcmp(line, "\xe2\x80\xa2", 3));
    if (!item) sc->have_setting = false;
    int ip = -1, ic = 0, in = 1; /* units[0..2] rotate: previous, current, next */
    unit_read(&sc->c, &units[ic], line + sp[0].off, sp[0].len, false);
    int words = 0;
    for (int i = 0; i < units[ic].nt; i++) words += units[ic].tok[i].word;
    if (ns == 1 && is_heading(line + sp[0].off, sp[0].len, words)) {
        *sc->heading = units[ic];
        sc->have_heading = true;
        subsection_heading(sc, line + sp[0].off, sp[0].len);
        return ORX_OK;
    }
    int colon = colon_lead(&units[ic]);
    bool saved = sc->have_heading;
    unit *keep = NULL;
    if (colon) {
        keep = malloc(sizeof *keep);
        if (!keep) return orx_fail(err, ORX_ERR_NOMEM, "ddi extractor: out of memory");
        *keep = *sc->heading;
        unit_read(&sc->c, sc->heading, units[ic].text, units[ic].tok[colon].s, false);
        sc->have_heading = true;
    }
    orx_status st = ORX_OK;
    for (size_t k = 0; k < ns && !st; k++) {
        bool more = k + 1 < ns;
        if (more) unit_read(&sc->c, &units[in], line + sp[k + 1].off, sp[k + 1].len, false);
        unit *cur = &units[ic];
        st = do_unit(sc, cur, ip >= 0 ? &units[ip] : NULL, more ? &units[in] : NULL, err);
        if (cur->act.act >= DDI_ACT_CAUTION || (cur->act.act == DDI_ACT_EFFECT && cur->cue)) {
            *sc->lead = *cur;
            sc->have_lead = true;
            sc->lead_age = 0;
        }
        ip = ic;
        ic = in;
        in = 3 - ip - ic;
    }
    /* a lead that scopes the list after it to a procedure ("Factors that can increase the risk
     * of developing epidural or spinal hematomas in these patients include:") */
    if (!st && ip >= 0 && units[ip].len && units[ip].text[units[ip].len - 1] == ':' &&
        procedure_setting(units[ip].low)) {
        *sc->setting = units[ip];
        sc->have_setting = true;
    }
    if (keep) {
        *sc->heading = *keep;
        sc->have_heading = saved;
        free(keep);
    }
    return st;
}

/* ============================================================================================
 * Sections
 * ========================================================================================== */
static bool section_wanted(const char *code, bool *need_cue, bool *dosing) {
    static const char *const CUE_FREE[] = {"34073-7", NULL};                 /* Drug Interactions */
    static const char *const WITH_CUE[] = {"34070-3", "34066-1", "43685-7", "34071-1", "42232-9",
                                           "34090-1", "43682-4", "42229-5", "", NULL};
    *dosing = code && !strcmp(code, "34068-7");
    if (*dosing) { *need_cue = true; return true; }
    if (code && orx_str_in(code, CUE_FREE)) { *need_cue = false; return true; }
    *need_cue = true;
    return orx_str_in(code ? code : "", WITH_CUE);
}

/* Length of the logical line at p: physical lines are joined when the text is hard-wrapped —
 * a line that does not end a sentence (. : ; ? !) continued by a line that starts in lower case
 * or a digit, or a line ending in a comma or a joining word. Table rows ('|') are never joined.
 * The joined text keeps its newlines (quotes stay verbatim). */
static size_t logical_line(const char *p) {
    size_t len = strcspn(p, "\n");
    if (p[0] == '|') return len;
    for (;;) {
        const char *nx = p + len;
        if (*nx != '\n' || nx[1] == '\n' || nx[1] == 0 || nx[1] == '|') return len;
        size_t e = len;
        while (e > 0 && (p[e - 1] == ' ' || p[e - 1] == '\r' || p[e - 1] == '\t')) e--;
        if (e == 0) return len;
        char last = p[e - 1];
        const char *q = nx + 1;
        while (*q == ' ' || *q == '\t') q++;
        if (*q == '\n' || *q == 0 || *q == '|') return len;
        bool lower_next = (*q >= 'a' && *q <= 'z') || (*q >= '0' && *q <= '9') || *q == '(';
        bool open_end = last == ',' || last == '-' || last == '(';
        static const char *const JOIN[] = {" and", " or", " the", " of", " with", " to", " in", " a", " an", NULL};
        for (int k = 0; JOIN[k] && !open_end; k++) {
            size_t jl = strlen(JOIN[k]);
            open_end = e >= jl && !strncmp(p + e - jl, JOIN[k], jl);
        }
        bool ends = last == '.' || last == ':' || last == ';' || last == '?' || last == '!';
        if (ends || !(lower_next || open_end)) return len;
        len += 1 + strcspn(nx + 1, "\n");
    }
}

static void join_label(const ddi_ctx *c, char *buf, size_t cap) {
    size_t o = 0;
    buf[0] = 0;
    for (int i = 0; i < c->n_label && o < cap; i++)
        o += (size_t)snprintf(buf + o, cap - o, "%s%s", i ? ";" : "", c->label[i]);
}

/* The lexicon context of a label: its ingredients (labels: a ";"-joined copy, cut in place). */
static void ctx_init(const orx_ddi_extractor *x, char *labels, ddi_ctx *c) {
    memset(c, 0, sizeof *c);
    c->lex = x->lex;
    c->terms = x->terms;
    c->effects = x->effects;
    c->cache = x->cache;
    for (char *p = labels, *semi; p && *p && c->n_label < ORX_MAX_INGR; p = semi) {
        semi = strchr(p, ';');
        if (semi) *semi++ = 0;
        c->label[c->n_label++] = p;
    }
}

static orx_status extract_section(orx_ddi_extractor *x, const char *label_ingredients, const char *set_id,
                                  const char *title, const char *section_code, const char *section_name,
                                  const char *text, orx_ddi_rules *out, orx_error *err) {
    sec_ctx sc = {.x = x, .set_id = set_id ? set_id : "", .title = title, .code = section_code,
                  .name = section_name, .out = out};
    if (!section_wanted(section_code, &sc.need_cue, &sc.dosing)) return ORX_OK;
    sc.base_need_cue = sc.need_cue;
    sc.has_di_sub = section_code && (!strcmp(section_code, "42232-9") || !strcmp(section_code, "34071-1") ||
                                     !strcmp(section_code, "43685-7"));
    char labels[ORX_MAX_INGR * ORX_LEX_NAME];
    snprintf(labels, sizeof labels, "%s", label_ingredients);
    ctx_init(x, labels, &sc.c);
    char joined[ORX_MAX_INGR * ORX_LEX_NAME];
    join_label(&sc.c, joined, sizeof joined);
    sc.label_drug = joined;
    unit *units = calloc(7, sizeof *units);
    if (!units) return orx_fail(err, ORX_ERR_NOMEM, "ddi extractor: out of memory");
    sc.heading = &units[3];
    sc.lead = &units[4];
    sc.header = &units[5];
    sc.setting = &units[6];
    orx_status st = ORX_OK;
    for (const char *p = text; *p && !st;) {
        size_t len = logical_line(p);
        const char *line = p;
        p += len;
        if (*p == '\n') p++;
        while (len && isspace((unsigned char)*line)) { line++; len--; }
        while (len && isspace((unsigned char)line[len - 1])) len--;
        if (!len) continue;
        if (line[0] == '|') {
            st = do_row(&sc, &units[0], line, len, err);
            continue;
        }
        sc.in_table = false;
        if (sc.have_lead && ++sc.lead_age > DDI_LEAD_LINES) sc.have_lead = false;
        st = do_line(&sc, units, line, len, err);
    }
    free(units);
    return st;
}

/* The regimen partners of a label from the given section texts (x->regimen, replaced). */
static orx_status regimen_of(orx_ddi_extractor *x, const char *label_ingredients, const char *const *codes,
                             const char *const *texts, size_t n, orx_error *err) {
    x->n_regimen = 0;
    char labels[ORX_MAX_INGR * ORX_LEX_NAME];
    snprintf(labels, sizeof labels, "%s", label_ingredients);
    ddi_ctx c;
    ctx_init(x, labels, &c);
    for (size_t i = 0; i < n; i++) {
        if (!texts[i]) continue;
        orx_status st = regimen_scan(x, &c, codes[i], texts[i], err);
        if (st) return st;
    }
    return ORX_OK;
}

orx_status orx_ddi_extract_section(orx_ddi_extractor *x, const char *label_ingredients,
                                   const char *set_id, const char *title, const char *section_code,
                                   const char *section_name, const char *text, orx_ddi_rules *out,
                                   orx_error *err) {
    if (!x || !label_ingredients || !text || !out)
        return orx_fail(err, ORX_ERR_USAGE, "orx_ddi_extract_section: NULL argument");
    orx_status st = regimen_of(x, label_ingredients, &section_code, &text, 1, err);
    if (st) return st;
    return extract_section(x, label_ingredients, set_id, title, section_code, section_name, text, out, err);
}

/* ============================================================================================
 * Labels
 * ========================================================================================== */
/* The lexicon's ingredients of one label name, trailing punctuation dropped (a title written as a
 * sentence, "LOSARTAN POTASSIUM AND HYDROCHLOROTHIAZIDE.", would hide the second ingredient of
 * "X and Y"). Returns the count (0 = not recognised). */
static int name_ingredients(const orx_ddi_extractor *x, const char *cand, orx_lex_match *m) {
    if (!cand || !cand[0]) return 0;
    char name[512];
    snprintf(name, sizeof name, "%s", cand);
    for (size_t e = strlen(name); e > 0 && strchr(" .,;:\t\r\n", name[e - 1]); e--) name[e - 1] = 0;
    if (!name[0]) return 0;
    int n = orx_lexicon_lookup(x->lex, name, m, ORX_MAX_INGR);
    return n > ORX_MAX_INGR ? ORX_MAX_INGR : n < 0 ? 0 : n;
}

static bool ingredients_cover(const orx_lex_match *a, int na, const orx_lex_match *b, int nb) {
    for (int i = 0; i < nb; i++) {
        bool in = false;
        for (int k = 0; k < na && !in; k++) in = !strcmp(a[k].ingredient, b[i].ingredient);
        if (!in) return false;
    }
    return true;
}

/* The label's ingredients: its generic names, else its title, else its brand. A title written as
 * a list ("X and Y", "X/Y") that names every generic ingredient and more ("LOSARTAN POTASSIUM AND
 * HYDROCHLOROTHIAZIDE." where the generic field kept "losartan potassium") is the combination
 * product's full list. */
static int label_ingredients(const orx_ddi_extractor *x, const orx_kb_doc *doc, char *buf, size_t cap) {
    const char *cands[3] = {doc->generic_names, doc->title, doc->brand_names};
    orx_lex_match m[ORX_MAX_INGR], t[ORX_MAX_INGR];
    int n = 0;
    for (int k = 0; k < 3 && n <= 0; k++) n = name_ingredients(x, cands[k], m);
    if (n <= 0) return 0;
    char low[512];
    orx_ddi_lower(doc->title ? doc->title : "", doc->title ? strlen(doc->title) : 0, low, sizeof low);
    bool list = strstr(low, " and ") || strchr(low, '/'); /* "X and Y", "X/Y": not "sugar coated" */
    int nt = list ? name_ingredients(x, doc->title, t) : 0;
    if (nt > n && ingredients_cover(t, nt, m, n)) {
        memcpy(m, t, (size_t)nt * sizeof *t);
        n = nt;
    }
    size_t o = 0;
    buf[0] = 0;
    for (int i = 0; i < n && o < cap; i++) o += (size_t)snprintf(buf + o, cap - o, "%s%s", i ? ";" : "", m[i].ingredient);
    return n;
}

orx_status orx_ddi_extract_doc(orx_ddi_extractor *x, const orx_kb_doc *doc, orx_ddi_rules *out,
                               orx_error *err) {
    char labels[ORX_MAX_INGR * ORX_LEX_NAME];
    if (label_ingredients(x, doc, labels, sizeof labels) == 0)
        return orx_fail(err, ORX_ERR_NOT_FOUND, "%s: label drug not recognised (%s)", doc->set_id,
                        doc->title && doc->title[0] ? doc->title : doc->generic_names);
    /* the regimen partners come from every section (the indication states them) */
    const char **codes = calloc(doc->n_sections + 1, sizeof *codes);
    const char **texts = calloc(doc->n_sections + 1, sizeof *texts);
    orx_status st = codes && texts ? ORX_OK : orx_fail(err, ORX_ERR_NOMEM, "ddi extractor: out of memory");
    for (size_t i = 0; i < doc->n_sections && !st; i++) {
        codes[i] = doc->sections[i].code;
        texts[i] = doc->sections[i].text;
    }
    if (!st) st = regimen_of(x, labels, codes, texts, doc->n_sections, err);
    free(codes);
    free(texts);
    for (size_t i = 0; i < doc->n_sections && !st; i++) {
        const orx_kb_section *s = &doc->sections[i];
        st = extract_section(x, labels, doc->set_id, doc->title, s->code, s->name, s->text, out, err);
    }
    return st;
}
