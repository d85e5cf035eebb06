/*
 * endpoint.c — where a backend sends its requests: the URL's host, whether it is this machine
 * (loopback) or another one, and the URL as it may be logged (without credentials).
 *
 * Loopback: the name "localhost" (and names under ".localhost", RFC 6761 §6.3), IPv4 127.0.0.0/8
 * (RFC 1122 §3.2.1.3), IPv6 ::1 (RFC 4291 §2.5.3), also as an IPv4-mapped ::ffff:127.x.y.z.
 * Every other host — private addresses and names that happen to resolve here included — is
 * remote: the patient data leaves this process's machine, so the user must consent to it.
 */
#include "llm/llm.h"
#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <string.h>

/* ============================================================================================
 * URL pieces
 * ========================================================================================== */
/* [start, end) of the authority ("user:pw@host:port") of an http(s) URL; false if none */
static bool authority(const char *url, const char **start, const char **end) {
    const char *p = strstr(url, "://");
    if (!p) return false;
    p += 3;
    size_t n = strcspn(p, "/?#");
    *start = p;
    *end = p + n;
    return n > 0;
}

orx_status orx_url_host(const char *url, char *host, size_t cap, orx_error *err) {
    if (cap) host[0] = 0;
    const char *a, *e;
    if (!url || !authority(url, &a, &e)) return orx_fail(err, ORX_ERR_INVALID, "URL '%.200s' has no host", url ? url : "");
    for (const char *at = a; at < e; at++)
        if (*at == '@') a = at + 1; /* userinfo ends at the last '@' of the authority */
    const char *hs = a, *he;
    if (*hs == '[') {
        hs++;
        he = memchr(hs, ']', (size_t)(e - hs));
        if (!he) return orx_fail(err, ORX_ERR_INVALID, "URL '%.200s': '[' without ']' in the host", url);
    } else {
        he = memchr(hs, ':', (size_t)(e - hs));
        if (!he) he = e;
    }
    size_t n = (size_t)(he - hs);
    if (n == 0) return orx_fail(err, ORX_ERR_INVALID, "URL '%.200s' has an empty host", url);
    if (n >= cap) return orx_fail(err, ORX_ERR_RANGE, "URL '%.200s': host longer than %zu bytes", url, cap - 1);
    for (size_t i = 0; i < n; i++) host[i] = (char)tolower((unsigned char)hs[i]);
    host[n] = 0;
    return ORX_OK;
}

void orx_url_public(const char *url, char *out, size_t cap) {
    if (!cap) return;
    out[0] = 0;
    if (!url) return;
    const char *a, *e;
    if (!authority(url, &a, &e)) {
        snprintf(out, cap, "%.*s", (int)strcspn(url, "?#"), url);
        return;
    }
    const char *h = a;
    for (const char *at = a; at < e; at++)
        if (*at == '@') h = at + 1;
    size_t path = strcspn(e, "?#");
    snprintf(out, cap, "%.*s%.*s%.*s", (int)(a - url), url, (int)(e - h), h, (int)path, e);
}

/* ============================================================================================
 * Loopback or not
 * ========================================================================================== */
static bool ends_with_ci(const char *s, const char *suffix) {
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && !strcasecmp(s + n - m, suffix);
}

bool orx_host_is_loopback(const char *host) {
    if (!host || !*host) return false;
    char h[256];
    snprintf(h, sizeof h, "%s", host);
    size_t n = strlen(h);
    if (n && h[n - 1] == '.') h[--n] = 0; /* "localhost." is the same name */
    if (!strcasecmp(h, "localhost") || ends_with_ci(h, ".localhost")) return true;
    struct in_addr a4;
    if (inet_pton(AF_INET, h, &a4) == 1) return (ntohl(a4.s_addr) >> 24) == 127;
    struct in6_addr a6;
    if (inet_pton(AF_INET6, h, &a6) == 1) {
        if (IN6_IS_ADDR_LOOPBACK(&a6)) return true;
        return IN6_IS_ADDR_V4MAPPED(&a6) && a6.s6_addr[12] == 127;
    }
    return false;
}

orx_status orx_llm_privacy_for(const char *url, bool allow_remote, bool redact, orx_llm_privacy *p,
                               orx_error *err) {
    memset(p, 0, sizeof *p);
    orx_status st = orx_url_host(url, p->host, sizeof p->host, err);
    if (st != ORX_OK) return st;
    orx_url_public(url, p->endpoint, sizeof p->endpoint);
    p->remote = !orx_host_is_loopback(p->host);
    p->consent = p->remote && allow_remote;
    p->redact = p->remote || redact;
    if (p->remote && !allow_remote)
        return orx_fail(err, ORX_ERR_USAGE,
                        "refusing to send patient data to %s: the host is not this machine (not loopback). "
                        "Add --allow-remote to consent (the patient block is then de-identified by the HIPAA "
                        "Safe Harbor rules and the request is recorded in the audit log; README 'Privacy')",
                        p->host);
    return ORX_OK;
}
