/*
 * ind_words.c — words for the indication options: the normaliser shared by label sentences and
 * queries, the tokenizer, the word classes, and a string map.
 *
 * The word classes are linguistic lists (how a question or an indication sentence is phrased),
 * not medical facts: stop words, words that describe the patient or the question rather than the
 * condition ("82-year-old woman", "what … should I start"), and words that say how a drug is used
 * rather than for what ("treatment", "prevention", "reduce the risk of").
 */
#include "kb/ind_internal.h"
#include "util/util.h"
#include <ctype.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ============================================================================================
 * Normaliser
 * ========================================================================================== */
static bool ends(const char *s, size_t n, const char *suf) {
    size_t k = strlen(suf);
    return n >= k && !memcmp(s + n - k, suf, k);
}

size_t orx_ind_norm(const char *w, size_t n, char out[IND_WORD]) {
    if (n >= IND_WORD) n = IND_WORD - 1;
    for (size_t i = 0; i < n; i++) out[i] = (char)tolower((unsigned char)w[i]);
    out[n] = 0;
    if (n == 1 && !isdigit((unsigned char)out[0])) return out[0] = 0, 0;
    if (!strcmp(out, "ii")) return strcpy(out, "2"), 1;
    if (!strcmp(out, "iii")) return strcpy(out, "3"), 1;
    if (isdigit((unsigned char)out[0])) return n;
    /* plural: -ies -> -y; -s (not -ss, -us, -is) dropped; then a final -e dropped, so that
     * "disease"/"diseases" and "virus"/"viruses" meet */
    if (n >= 5 && ends(out, n, "ies")) {
        n -= 2;
        out[n - 1] = 'y';
        out[n] = 0;
        return n;
    }
    if (n >= 4 && out[n - 1] == 's' && !ends(out, n, "ss") && !ends(out, n, "us") && !ends(out, n, "is"))
        out[--n] = 0;
    if (n >= 4 && out[n - 1] == 'e') out[--n] = 0;
    return n;
}

/* ============================================================================================
 * Tokenizer
 * ========================================================================================== */
static bool word_byte(unsigned char c) { return isalnum(c) || c >= 0x80; }

/* A hyphenated prefix joins the word it is written with, so that "non-valvular" and
 * "nonvalvular", "post-herpetic" and "postherpetic" are one word (a spelling variant, both
 * forms occur in labels). */
static bool joining_prefix(const char *w, size_t n) {
    static const char *const P[] = {"non", "anti", "post", "pre", "sub", "semi", "peri", "intra",
                                    "inter", "extra", "hyper", "hypo", "multi", "poly", NULL};
    for (int i = 0; P[i]; i++)
        if (strlen(P[i]) == n && !strncasecmp(w, P[i], n)) return true;
    return false;
}

/* end of the word starting at b; the word's letters (hyphens of a joined prefix left out) go
 * to buf (at most cap - 1 bytes), their count to *bn */
static size_t word_end(const char *text, size_t len, size_t b, char *buf, size_t cap, size_t *bn) {
    size_t i = b, k = 0;
    for (;;) {
        size_t s = i;
        while (i < len && word_byte((unsigned char)text[i])) {
            if (k + 1 < cap) buf[k++] = text[i];
            i++;
        }
        if (i + 1 < len && text[i] == '-' && word_byte((unsigned char)text[i + 1]) && joining_prefix(text + s, i - s) &&
            s == b) {
            i++; /* "non-valvular": one word */
            continue;
        }
        break;
    }
    buf[k] = 0;
    *bn = k;
    return i;
}

int orx_ind_tokens(const char *text, size_t len, ind_tok *out, int cap) {
    int n = 0;
    for (size_t i = 0; i < len;) {
        unsigned char c = (unsigned char)text[i];
        if (word_byte(c)) {
            size_t b = i, bn = 0;
            char buf[64];
            i = word_end(text, len, b, buf, sizeof buf, &bn);
            /* "®", "™" and other symbols glued to a word: keep only the letters/digits core */
            size_t e = bn;
            while (e > 0 && (unsigned char)buf[e - 1] >= 0x80 && !isalnum((unsigned char)buf[e - 1])) e--;
            if (n < cap) {
                ind_tok *t = &out[n];
                t->off = b, t->len = i - b, t->kind = 'w';
                orx_ind_norm(buf, e, t->norm);
                size_t rl = bn < IND_WORD - 1 ? bn : IND_WORD - 1;
                memcpy(t->raw, buf, rl);
                t->raw[rl] = 0;
            }
            n++;
            continue;
        }
        bool sep = strchr(",;:.?!()[]/", (int)c) != NULL && c;
        /* a hyphen with spaces around it separates ("obesity - finding"); inside a word it splits it */
        if (c == '-' && i > 0 && i + 1 < len && text[i - 1] == ' ' && text[i + 1] == ' ') sep = true;
        /* a full stop inside a number ("2.5") is not a separator */
        if (c == '.' && i > 0 && i + 1 < len && isdigit((unsigned char)text[i - 1]) && isdigit((unsigned char)text[i + 1]))
            sep = false;
        if (sep) {
            if (n < cap) {
                ind_tok *t = &out[n];
                memset(t, 0, sizeof *t);
                t->off = i, t->len = 1, t->kind = 'p';
            }
            n++;
        }
        i++;
    }
    return n;
}

int orx_ind_words(const char *text, size_t len, char (*out)[24], int cap) {
    ind_tok tk[128];
    int n = 0;
    size_t at = 0;
    while (at < len && n < cap) { /* in pieces of at most 120 bytes (so 128 tokens), cut at a space */
        size_t piece = len - at;
        if (piece > 120) {
            piece = 120;
            while (piece > 1 && text[at + piece] != ' ') piece--;
        }
        int nt = orx_ind_tokens(text + at, piece, tk, 128);
        if (nt > 128) nt = 128;
        for (int i = 0; i < nt && n < cap; i++)
            if (tk[i].kind == 'w' && tk[i].norm[0]) memcpy(out[n++], tk[i].norm, 24);
        at += piece;
    }
    return n;
}

/* ============================================================================================
 * Word classes (lists in plain words; compared after normalisation)
 * ========================================================================================== */
static const char *const STOP[] = {
    "an", "the", "of", "and", "or", "with", "in", "on", "for", "to", "is", "are", "be", "by",
    "as", "at", "from", "that", "this", "these", "those", "it", "its", "into", "about", "than",
    "then", "there", "was", "were", "will", "if", "any", "all", "has", "have", "had", "but",
    "who", "whom", "whose", "which", "what", "when", "how", "why", "where", "while", "do",
    "does", "did", "should", "would", "could", "can", "may", "might", "must", "shall", "my",
    "me", "we", "our", "you", "your", "she", "he", "her", "his", "him", "their", "they",
    "them", "such", "other", "also", "been", "being", "not", "no", "nor", "per", "via",
    "each", "both", "either", "some", "i", NULL};
static const char *const DROP[] = {
    "year", "years", "old", "aged", "age", "woman", "women", "man", "men", "male", "female",
    "girl", "boy", "child", "children", "infant", "adult", "adults", "adolescent", "elderly",
    "geriatric", "person", "people", "patient", "patients", "mr", "mrs", "ms", "history",
    "current", "currently", "new", "newly", "diagnosed", "diagnosis", "present", "presents",
    "presenting", "best", "first", "line", "option", "options", "choice", "choose", "recommend",
    "recommended", "recommendation", "drug", "drugs", "medication", "medications", "medicine",
    "medicines", "agent", "agents", "prescribe", "prescription", "prescribing", "dose", "dosing",
    "dosage", "start", "starting", "initiate", "initiating", "give", "giving", "need", "needs",
    "requires", "required", "requiring", "suitable", "appropriate", "good", "preferred",
    "prefer", "kg", "mg", "ml", "min", "weighs", "weighing", "weight", "take", "takes",
    "taking", "know", "known", "yo", "lb", "pounds", "suggest", "want", "like", "use", "used",
    "using", "indicated", "indication", "regimen", "plan",
    /* narrative words of a clinician's question ("lives alone", "follow-up visit today") */
    "lives", "live", "living", "alone", "drinks", "drinking", "little", "please", "help", "now",
    "watch", "last", "week", "weeks", "month", "months", "today", "clinic", "seeing", "seen",
    "visit", "follow", "main", "problem", "already", "several", "fine", "normal", "would",
    "should", "could", "can", "you", "me", "my", NULL};
static const char *const FUNCTION[] = {
    "treatment", "treat", "treating", "treated", "therapy", "therapies", "management",
    "manage", "managing", "prevention", "prevent", "preventing", "prophylaxis",
    "prophylactic", "reduce", "reducing", "reduction", "risk", "relief", "relieve",
    "relieving", "control", "controlling", "adjunct", "adjunctive", "maintenance", "symptoms",
    "symptomatic", "signs", "improve", "improving", "lower", "lowering", "cure", NULL};

/* Who a statement is about ("in adult patients with …", "in hypertensive patients"). */
static const char *const PERSON[] = {
    "patient", "patients", "adult", "adults", "child", "children", "woman", "women", "man", "men",
    "subject", "subjects", "individual", "individuals", "people", "person", "persons", "infant",
    "infants", "neonate", "neonates", "adolescent", "adolescents", "boy", "boys", "girl", "girls",
    NULL};
/* How a drug acts on what follows: treating it (what follows is the condition treated) … */
static const char *const CUE_TREAT[] = {
    "treatment", "treat", "treating", "treated", "management", "manage", "managing", "therapy",
    "therapies", NULL};
/* … or preventing, relieving, controlling or improving it (a condition named after it, "in
 * patients with X", is the reason for the drug: "to reduce the risk of stroke … in patients
 * with atrial fibrillation", "relief of bronchospasm in patients with asthma"). */
static const char *const CUE_CARE[] = {
    "prevention", "prevent", "preventing", "prophylaxis", "prophylactic", "reduce", "reducing",
    "reduction", "risk", "relief", "relieve", "relieving", "control", "controlling", "improve",
    "improving", "lower", "lowering", "maintenance", "maintain", "maintaining", "delay",
    "delaying", "slow", "slowing", "decrease", "decreasing", NULL};
/* Degree and course words: they qualify a condition without naming one. */
static const char *const DEGREE[] = {
    "mild", "moderate", "moderately", "severe", "severely", "active", "acute", "chronic", "stable",
    "advanced", "early", "late", "refractory", "recurrent", "persistent", "initial", "short",
    "long", "term", "adjunctive", "concomitant", "uncomplicated", "complicated", "confirmed",
    "documented", "established", "suspected", "newly", "known", "clinically", "significant",
    "inadequate", "inadequately", "controlled", "uncontrolled", "response", "responsive", NULL};
/* Body sites (where a condition is): a label that names another site than the query ("nasal
 * polyps" for a rectal polyp, "osteoarthritis of the knee" for the hip) names another
 * condition. Anatomy words, not medical facts about drugs. */
static const char *const SITE[] = {
    "nasal", "nose", "rectal", "rectum", "anal", "anus", "perianal", "colon", "colonic",
    "colorectal", "bowel", "intestinal", "intestine", "gastric", "stomach", "duodenal", "duodenum",
    "esophageal", "oesophageal", "esophagus", "oral", "mouth", "dental", "gingival", "pharyngeal",
    "throat", "tonsil", "laryngeal", "larynx", "ocular", "eye", "eyes", "ophthalmic",
    "conjunctival", "corneal", "retinal", "otic", "ear", "ears", "cutaneous", "skin", "dermal",
    "scalp", "nail", "nails", "vaginal", "vulvar", "vulvovaginal", "cervical", "cervix",
    "uterine", "uterus", "endometrial", "ovarian", "ovary", "breast", "prostate", "prostatic",
    "testicular", "penile", "urethral", "bladder", "urinary", "renal", "kidney", "kidneys",
    "hepatic", "liver", "biliary", "gallbladder", "pancreatic", "pancreas", "pulmonary", "lung",
    "lungs", "bronchial", "pleural", "cardiac", "heart", "coronary", "aortic", "cerebral", "brain",
    "spinal", "spine", "vertebral", "cranial", "thyroid", "adrenal", "pituitary", "hip", "hips",
    "knee", "knees", "hand", "hands", "foot", "feet", "forearm", "wrist", "ankle", "shoulder",
    "elbow", "arm", "leg", "legs", "neck", "lumbar", "pelvic", "abdominal", "thoracic", "chest",
    "bone", "bones", "maxillary", "facial", "lip", "lips", "tongue", NULL};
/* Heads too general to name a condition on their own ("Metabolic syndrome X" is not any
 * "syndrome", "Tubal pregnancy" not any "pregnancy", "Neoplasm of prostate" not any neoplasm). */
static const char *const GENERIC[] = {
    "syndrome", "disorder", "disease", "condition", "illness", "problem", "abnormality", "lesion",
    "complication", "infection", "neoplasm", "tumor", "tumour", "cancer", "carcinoma",
    "malignancy", "pregnancy", "state", "finding", NULL};

typedef struct word_classes {
    ind_map stop, drop, function, person, treat, care, degree, site, generic; /* normalised word -> 1 */
} word_classes;
static word_classes g_wc;
static pthread_once_t g_wc_once = PTHREAD_ONCE_INIT;

static void fill(ind_map *m, const char *const *list) {
    char w[IND_WORD];
    for (int i = 0; list[i]; i++)
        if (orx_ind_norm(list[i], strlen(list[i]), w)) orx_ind_map_put(m, w, 1);
        else if (!strcmp(list[i], "i")) orx_ind_map_put(m, "i", 1);
}

static void wc_init(void) {
    fill(&g_wc.stop, STOP);
    fill(&g_wc.drop, DROP);
    fill(&g_wc.function, FUNCTION);
    fill(&g_wc.person, PERSON);
    fill(&g_wc.treat, CUE_TREAT);
    fill(&g_wc.care, CUE_CARE);
    fill(&g_wc.degree, DEGREE);
    fill(&g_wc.site, SITE);
    fill(&g_wc.generic, GENERIC);
}

static bool in_class(const ind_map *m, const char *w) {
    pthread_once(&g_wc_once, wc_init);
    return orx_ind_map_get(m, w) > 0;
}

bool orx_ind_is_stop(const char *w) { return in_class(&g_wc.stop, w); }
bool orx_ind_is_drop(const char *w) { return in_class(&g_wc.drop, w); }
bool orx_ind_is_function(const char *w) { return in_class(&g_wc.function, w); }
bool orx_ind_is_person(const char *w) { return in_class(&g_wc.person, w); }
bool orx_ind_is_degree(const char *w) { return in_class(&g_wc.degree, w); }
bool orx_ind_is_site(const char *w) { return in_class(&g_wc.site, w); }
bool orx_ind_is_generic(const char *w) { return in_class(&g_wc.generic, w); }

ind_cue orx_ind_cue_of(const char *w) {
    if (in_class(&g_wc.treat, w)) return IND_CUE_TREAT;
    if (in_class(&g_wc.care, w)) return IND_CUE_CARE;
    return IND_CUE_NONE;
}

bool orx_ind_is_numeric(const char *w) { return w[0] && isdigit((unsigned char)w[0]); }

/* ============================================================================================
 * String map
 * ========================================================================================== */
void orx_ind_map_clear(ind_map *m) {
    for (size_t i = 0; i < m->cap; i++) free(m->keys[i]);
    free(m->keys);
    free(m->vals);
    memset(m, 0, sizeof *m);
}

int32_t orx_ind_map_get(const ind_map *m, const char *key) {
    if (!m->cap) return -1;
    for (size_t i = orx_fnv1a_str(key) & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
        if (!m->keys[i]) return -1;
        if (!strcmp(m->keys[i], key)) return m->vals[i];
    }
}

static bool grow(ind_map *m) {
    size_t nc = m->cap ? m->cap * 2 : 1024;
    char **nk = calloc(nc, sizeof *nk);
    int32_t *nv = calloc(nc, sizeof *nv);
    if (!nk || !nv) return free(nk), free(nv), false;
    for (size_t i = 0; i < m->cap; i++) {
        if (!m->keys[i]) continue;
        size_t j = orx_fnv1a_str(m->keys[i]) & (nc - 1);
        while (nk[j]) j = (j + 1) & (nc - 1);
        nk[j] = m->keys[i];
        nv[j] = m->vals[i];
    }
    free(m->keys);
    free(m->vals);
    m->keys = nk, m->vals = nv, m->cap = nc;
    return true;
}

bool orx_ind_map_put(ind_map *m, const char *key, int32_t val) {
    if ((m->n + 1) * 2 > m->cap && !grow(m)) return false;
    size_t i = orx_fnv1a_str(key) & (m->cap - 1);
    while (m->keys[i] && strcmp(m->keys[i], key)) i = (i + 1) & (m->cap - 1);
    if (!m->keys[i]) {
        size_t l = strlen(key);
        if (!(m->keys[i] = malloc(l + 1))) return false;
        memcpy(m->keys[i], key, l + 1);
        m->n++;
    }
    m->vals[i] = val;
    return true;
}
