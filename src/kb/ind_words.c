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
#include <ctype.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* ============================================================================================
 * Normaliser
 * ========================================================================================== */
static bool ends(const char *s, size_t n, const char *suf) {
    size_t k = strlen(suf);
    return n >= k && !memcmp(s + n - k, suf, k);
}

size_t ind_norm(const char *w, size_t n, char out[IND_WORD]) {
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

int ind_tokens(const char *text, size_t len, ind_tok *out, int cap) {
    int n = 0;
    for (size_t i = 0; i < len;) {
        unsigned char c = (unsigned char)text[i];
        if (word_byte(c)) {
            size_t b = i;
            while (i < len && word_byte((unsigned char)text[i])) i++;
            /* "®", "™" and other symbols glued to a word: keep only the letters/digits core */
            size_t e = i;
            while (e > b && (unsigned char)text[e - 1] >= 0x80 && !isalnum((unsigned char)text[e - 1])) e--;
            if (n < cap) {
                ind_tok *t = &out[n];
                t->off = b, t->len = i - b, t->kind = 'w';
                ind_norm(text + b, e - b, t->norm);
                size_t rl = i - b < IND_WORD - 1 ? i - b : IND_WORD - 1;
                memcpy(t->raw, text + b, rl);
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
    "using", "indicated", "indication", "regimen", "plan", NULL};
static const char *const FUNCTION[] = {
    "treatment", "treat", "treating", "treated", "therapy", "therapies", "management",
    "manage", "managing", "prevention", "prevent", "preventing", "prophylaxis",
    "prophylactic", "reduce", "reducing", "reduction", "risk", "relief", "relieve",
    "relieving", "control", "controlling", "adjunct", "adjunctive", "maintenance", "symptoms",
    "symptomatic", "signs", "improve", "improving", "lower", "lowering", "cure", NULL};

typedef struct word_classes {
    ind_map stop, drop, function; /* normalised word -> 1 */
} word_classes;
static word_classes g_wc;
static pthread_once_t g_wc_once = PTHREAD_ONCE_INIT;

static void fill(ind_map *m, const char *const *list) {
    char w[IND_WORD];
    for (int i = 0; list[i]; i++)
        if (ind_norm(list[i], strlen(list[i]), w)) ind_map_put(m, w, 1);
        else if (!strcmp(list[i], "i")) ind_map_put(m, "i", 1);
}

static void wc_init(void) {
    fill(&g_wc.stop, STOP);
    fill(&g_wc.drop, DROP);
    fill(&g_wc.function, FUNCTION);
}

bool ind_is_stop(const char *w) {
    pthread_once(&g_wc_once, wc_init);
    return ind_map_get(&g_wc.stop, w) > 0;
}

bool ind_is_drop(const char *w) {
    pthread_once(&g_wc_once, wc_init);
    return ind_map_get(&g_wc.drop, w) > 0;
}

bool ind_is_function(const char *w) {
    pthread_once(&g_wc_once, wc_init);
    return ind_map_get(&g_wc.function, w) > 0;
}

bool ind_is_numeric(const char *w) { return w[0] && isdigit((unsigned char)w[0]); }

/* ============================================================================================
 * String map
 * ========================================================================================== */
static uint64_t hash_str(const char *s) {
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

void ind_map_free(ind_map *m) {
    for (size_t i = 0; i < m->cap; i++) free(m->keys[i]);
    free(m->keys);
    free(m->vals);
    memset(m, 0, sizeof *m);
}

int32_t ind_map_get(const ind_map *m, const char *key) {
    if (!m->cap) return -1;
    for (size_t i = hash_str(key) & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
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
        size_t j = hash_str(m->keys[i]) & (nc - 1);
        while (nk[j]) j = (j + 1) & (nc - 1);
        nk[j] = m->keys[i];
        nv[j] = m->vals[i];
    }
    free(m->keys);
    free(m->vals);
    m->keys = nk, m->vals = nv, m->cap = nc;
    return true;
}

bool ind_map_put(ind_map *m, const char *key, int32_t val) {
    if ((m->n + 1) * 2 > m->cap && !grow(m)) return false;
    size_t i = hash_str(key) & (m->cap - 1);
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
