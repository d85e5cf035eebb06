/* cds_card.c — one CDS Hooks 2.0 card per finding (see api.h): summary < 140 characters,
 * indicator from the tier, Markdown detail without empty or placeholder parts, a source object
 * (label, an absolute URL without spaces where the source has one, a topic Coding for the kinds
 * HL7 codes), suggestions against the draft order the finding is about (remove it: a delete
 * action by resourceId), selectionBehavior, and override reasons (HL7 v3 ActCode detected-issue
 * management codes). */
#include "server/api.h"
#include <ctype.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#define V3_ACTCODE "http://terminology.hl7.org/CodeSystem/v3-ActCode"
#define DAILYMED_SETID "https://dailymed.nlm.nih.gov/dailymed/lookup.cfm?setid="

/* ============================================================================================
 * Pieces
 * ========================================================================================== */
static const char *indicator(orx_severity s) {
    return s >= ORX_SEV_MAJOR ? "critical" : s == ORX_SEV_MODERATE ? "warning" : "info";
}

/* uuid (version-4 layout) from a hash of the hook instance, the index and the finding */
static void card_uuid(const orx_finding *f, const char *hook_instance, int idx, const char *salt, char out[37]) {
    char seed[1400];
    snprintf(seed, sizeof seed, "%s|%d|%s|%s|%s|%s", hook_instance ? hook_instance : "", idx, f->kind, f->drugs,
             f->message, salt);
    char hex[65];
    orx_sha256_hex(seed, strlen(seed), hex);
    snprintf(out, 37, "%.8s-%.4s-4%.3s-a%.3s-%.12s", hex, hex + 8, hex + 13, hex + 17, hex + 20);
}

static json_t *coding(const char *system, const char *code, const char *display) {
    json_t *c = json_object();
    json_object_set_new(c, "system", json_string(system));
    json_object_set_new(c, "code", json_string(code));
    json_object_set_new(c, "display", json_string(display));
    return c;
}

/* A placeholder where a source had no text: "unknown", "n/a", "none", "-" (case-insensitive). */
static bool placeholder(const char *s) {
    while (isspace((unsigned char)*s)) s++;
    const char *words[] = {"unknown", "unknown.", "n/a", "na", "none", "-", "null", ""};
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
        if (orx_str_ieq(s, words[i])) return true;
    return false;
}

/* Copy text without its placeholder sentences ("... efflux. unknown. unknown." -> "... efflux."). */
static void without_placeholders(const char *in, char *out, size_t cap) {
    size_t o = 0;
    out[0] = 0;
    for (const char *p = in; *p;) {
        const char *end = strstr(p, ". ");
        size_t n = end ? (size_t)(end - p) + 1 : strlen(p);
        char sentence[1024];
        snprintf(sentence, sizeof sentence, "%.*s", (int)(n < sizeof sentence ? n : sizeof sentence - 1), p);
        if (!placeholder(sentence) && o + n + 2 < cap) {
            if (o) out[o++] = ' ';
            memcpy(out + o, p, n);
            o += n;
            out[o] = 0;
        }
        p += n;
        while (*p == ' ') p++;
    }
}

/* The source's web address: the label's DailyMed page when the citation names an SPL set id,
 * else a citation that starts with an http(s) URL (up to a space or ';'); "" when none. */
static void source_url(const orx_finding *f, char *out, size_t cap) {
    out[0] = 0;
    const char *p = strstr(f->citation, "SPL set id ");
    p = p ? p + strlen("SPL set id ") : f->citation;
    size_t n = 0;
    while (n < 36 && (isxdigit((unsigned char)p[n]) || p[n] == '-')) n++;
    if (n == 36 && p[8] == '-' && p[13] == '-' && p[18] == '-' && p[23] == '-') {
        snprintf(out, cap, "%s%.36s", DAILYMED_SETID, p);
        return;
    }
    if (orx_str_starts_with(f->citation, "http://") || orx_str_starts_with(f->citation, "https://")) {
        size_t m = strcspn(f->citation, " \t;,");
        if (m < cap) { memcpy(out, f->citation, m); out[m] = 0; }
    }
}

/* source: label, url (absolute, no spaces) and topic (HL7 v3 ActCode detected-issue codes for
 * the kinds that have one) */
static json_t *source(const orx_finding *f) {
    json_t *src = json_object();
    json_object_set_new(src, "label", json_string(f->source[0] ? f->source : "openrx medication-safety checker"));
    char url[300];
    source_url(f, url, sizeof url);
    if (url[0]) json_object_set_new(src, "url", json_string(url));
    if (!strcmp(f->kind, "interaction")) json_object_set_new(src, "topic", coding(V3_ACTCODE, "DRG", "Drug Interaction Alert"));
    else if (!strcmp(f->kind, "duplicate")) json_object_set_new(src, "topic", coding(V3_ACTCODE, "DUPTHPY", "Duplicate Therapy Alert"));
    else if (!strcmp(f->kind, "allergy")) json_object_set_new(src, "topic", coding(V3_ACTCODE, "ALGY", "Allergy Alert"));
    return src;
}

/* Reasons a clinician may give for going ahead (HL7 v3 ActCode, ActDetectedIssueManagementCode). */
static json_t *override_reasons(void) {
    json_t *a = json_array();
    json_array_append_new(a, coding(V3_ACTCODE, "1", "Therapy Appropriate"));
    json_array_append_new(a, coding(V3_ACTCODE, "2", "Assessed Patient"));
    json_array_append_new(a, coding(V3_ACTCODE, "10", "Provided Patient Education"));
    json_array_append_new(a, coding(V3_ACTCODE, "12", "Temporarily Suspended Concurrent Therapy"));
    json_array_append_new(a, coding(V3_ACTCODE, "13", "Stopped Concurrent Therapy"));
    return a;
}

static const char *draft_text(json_t *draft) {
    json_t *cc = json_object_get(draft, "medicationCodeableConcept");
    const char *t = json_string_value(json_object_get(cc, "text"));
    if (!t) t = json_string_value(json_object_get(json_array_get(json_object_get(cc, "coding"), 0), "display"));
    return t ? t : "the drug";
}

/* Suggestion: remove the draft order (delete by resourceId "MedicationRequest/<id>"; for a draft
 * without an id, its identifying elements travel in "resource" so that the client can match it). */
static json_t *remove_suggestion(const orx_finding *f, const char *hook_instance, int idx, json_t *draft) {
    json_t *s = json_object(), *actions = json_array(), *a = json_object();
    char label[200], uuid[37];
    snprintf(label, sizeof label, "Remove the draft order for %.150s", draft_text(draft));
    card_uuid(f, hook_instance, idx, "suggestion remove", uuid);
    json_object_set_new(s, "label", json_string(label));
    json_object_set_new(s, "uuid", json_string(uuid));
    json_object_set_new(a, "type", json_string("delete"));
    json_object_set_new(a, "description", json_string(label));
    const char *id = json_string_value(json_object_get(draft, "id"));
    if (id && *id) {
        char ref[160];
        snprintf(ref, sizeof ref, "MedicationRequest/%.120s", id);
        json_object_set_new(a, "resourceId", json_string(ref));
    } else {
        /* no id: the draft's identifying elements, so that the client can match it */
        json_t *r = json_object();
        const char *keep[] = {"resourceType", "identifier", "status", "intent", "medicationCodeableConcept", "subject", "authoredOn"};
        for (size_t i = 0; i < sizeof keep / sizeof keep[0]; i++)
            if (json_object_get(draft, keep[i])) json_object_set(r, keep[i], json_object_get(draft, keep[i]));
        json_object_set_new(a, "resource", r);
    }
    json_array_append_new(actions, a);
    json_object_set_new(s, "actions", actions);
    return s;
}

static char *detail_text(const orx_finding *f) {
    orx_buf d;
    orx_buf_init(&d);
    char msg[sizeof f->message];
    without_placeholders(f->message, msg, sizeof msg);
    orx_buf_printf(&d, "**%s** (%s%s)\n", f->kind, orx_severity_name(f->severity), f->interruptive ? ", interruptive" : "");
    if (msg[0]) orx_buf_printf(&d, "\n%s\n", msg);
    if (f->trigger[0] && !placeholder(f->trigger)) orx_buf_printf(&d, "\n*Patient fact:* %s\n", f->trigger);
    if (f->management[0] && !placeholder(f->management)) orx_buf_printf(&d, "\n*Management (from the source):* %s\n", f->management);
    if (f->quote[0]) orx_buf_printf(&d, "\n> %s\n", f->quote);
    if (f->citation[0]) orx_buf_printf(&d, "\n*Citation:* %s\n", f->citation);
    orx_buf_printf(&d, "\n_%s_", ORX_DRAFT_NOTICE);
    return orx_buf_steal(&d);
}

/* ============================================================================================
 * The card
 * ========================================================================================== */
json_t *orx_cds_card(const orx_finding *f, const char *hook_instance, int idx, json_t *draft) {
    json_t *c = json_object();
    char uuid[37], summary[140], sev[32];
    card_uuid(f, hook_instance, idx, "", uuid);
    snprintf(sev, sizeof sev, "%s", orx_severity_name(f->severity));
    if (sev[0] >= 'a' && sev[0] <= 'z') sev[0] = (char)(sev[0] - 32);
    int n = snprintf(summary, sizeof summary, "%s %s: %s", sev, f->kind, f->drugs);
    if (n >= (int)sizeof summary) memcpy(summary + sizeof summary - 4, "...", 4); /* < 140 chars */
    json_object_set_new(c, "uuid", json_string(uuid));
    json_object_set_new(c, "summary", json_string(summary));
    json_object_set_new(c, "indicator", json_string(indicator(f->severity)));
    char *detail = detail_text(f);
    json_object_set_new(c, "detail", json_string(detail ? detail : ""));
    free(detail);
    json_object_set_new(c, "source", source(f));
    if (draft && f->severity >= ORX_SEV_MODERATE) {
        json_t *sugg = json_array();
        json_array_append_new(sugg, remove_suggestion(f, hook_instance, idx, draft));
        json_object_set_new(c, "suggestions", sugg);
        json_object_set_new(c, "selectionBehavior", json_string("at-most-one"));
    }
    if (f->severity >= ORX_SEV_MODERATE) json_object_set_new(c, "overrideReasons", override_reasons());
    return c;
}
