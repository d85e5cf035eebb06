/*
 * retriever_pool.c — one retriever for many threads: a pool of single-threaded members (each a
 * knowledge-base handle with its own SQLite connection and per-query ranking state), borrowed
 * for the length of one call. Members are made on demand up to a maximum and reused; a call
 * finding none free waits. The server shares one pooled retriever between its event-loop
 * threads and the model worker.
 */
#include "kb/kb.h"
#include "lexicon/lexicon.h"
#include "util/util.h"
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

typedef struct pool {
    orx_retriever_pool_params p;    /* factory and limit */
    pthread_mutex_t           mu;   /* guards the arrays */
    pthread_cond_t            cv;   /* a member came back */
    orx_retriever            *all;  /* [made] members */
    bool                     *busy; /* [made] lent out */
    int                       made; /* members made */
    const char               *name; /* the members' name ("bm25") */
} pool;

/* ============================================================================================
 * Borrow / return
 * ========================================================================================== */
static orx_retriever *borrow(pool *pl, orx_error *err) {
    pthread_mutex_lock(&pl->mu);
    for (;;) {
        for (int i = 0; i < pl->made; i++)
            if (!pl->busy[i]) {
                pl->busy[i] = true;
                pthread_mutex_unlock(&pl->mu);
                return &pl->all[i];
            }
        if (pl->made < pl->p.max) break;
        pthread_cond_wait(&pl->cv, &pl->mu);
    }
    /* a new member (made under the lock: a few milliseconds, once per member) */
    orx_retriever *r = &pl->all[pl->made];
    if (pl->p.make(pl->p.ctx, r, err) != ORX_OK) {
        pthread_mutex_unlock(&pl->mu);
        return NULL;
    }
    pl->busy[pl->made++] = true;
    pthread_mutex_unlock(&pl->mu);
    return r;
}

static void give_back(pool *pl, orx_retriever *r) {
    pthread_mutex_lock(&pl->mu);
    pl->busy[r - pl->all] = false;
    pthread_cond_signal(&pl->cv);
    pthread_mutex_unlock(&pl->mu);
}

/* ============================================================================================
 * The retriever interface
 * ========================================================================================== */
static orx_status pool_search(void *self, const orx_kb_query *q, orx_kb_results *out, orx_error *err) {
    pool *pl = self;
    orx_retriever *r = borrow(pl, err);
    if (!r) return err ? err->code : ORX_ERR_INTERNAL;
    orx_status st = r->search(r->self, q, out, err);
    give_back(pl, r);
    return st;
}

static orx_status pool_retrieve(void *self, const orx_retrieval_request *req, orx_kb_results *out, orx_error *err) {
    pool *pl = self;
    orx_retriever *r = borrow(pl, err);
    if (!r) return err ? err->code : ORX_ERR_INTERNAL;
    orx_status st = r->retrieve(r->self, req, out, err);
    give_back(pl, r);
    return st;
}

static orx_status pool_options(void *self, const char *indication, bool problem, orx_ind_options *out,
                               orx_error *err) {
    pool *pl = self;
    orx_retriever *r = borrow(pl, err);
    if (!r) return err ? err->code : ORX_ERR_INTERNAL;
    orx_status st = r->options ? r->options(r->self, indication, problem, out, err)
                               : orx_fail(err, ORX_ERR_USAGE, "retriever %s has no indication options", r->name);
    give_back(pl, r);
    return st;
}

static void pool_free(void *self) {
    pool *pl = self;
    if (!pl) return;
    for (int i = 0; i < pl->made; i++)
        if (pl->all[i].free) pl->all[i].free(pl->all[i].self);
    if (pl->p.ctx_free) pl->p.ctx_free(pl->p.ctx);
    pthread_cond_destroy(&pl->cv);
    pthread_mutex_destroy(&pl->mu);
    free(pl->all);
    free(pl->busy);
    free(pl);
}

orx_status orx_retriever_pool_create(const orx_retriever_pool_params *p, orx_retriever *out, orx_error *err) {
    memset(out, 0, sizeof *out);
    if (!p || !p->make) return orx_fail(err, ORX_ERR_USAGE, "retriever pool: no factory");
    pool *pl = calloc(1, sizeof *pl);
    if (!pl) {
        if (p->ctx_free) p->ctx_free(p->ctx);
        return orx_fail(err, ORX_ERR_NOMEM, "out of memory");
    }
    pl->p = *p;
    if (pl->p.max <= 0) pl->p.max = 8;
    pl->all = calloc((size_t)pl->p.max, sizeof *pl->all);
    pl->busy = calloc((size_t)pl->p.max, sizeof *pl->busy);
    pthread_mutex_init(&pl->mu, NULL);
    pthread_cond_init(&pl->cv, NULL);
    if (!pl->all || !pl->busy) {
        pool_free(pl);
        return orx_fail(err, ORX_ERR_NOMEM, "out of memory");
    }
    orx_retriever *first = borrow(pl, err); /* a bad file fails now, not on the first request */
    if (!first) {
        orx_status st = err ? err->code : ORX_ERR_INTERNAL;
        pool_free(pl);
        return st;
    }
    pl->name = first->name;
    give_back(pl, first);
    out->name = pl->name ? pl->name : "pool";
    out->self = pl;
    out->search = pool_search;
    out->retrieve = pool_retrieve;
    out->options = pool_options;
    out->free = pool_free;
    return ORX_OK;
}

/* ============================================================================================
 * BM25 members sharing one lexicon
 * ========================================================================================== */
typedef struct bm25_ctx {
    char        *path; /* knowledge-base file */
    orx_lexicon *lex;  /* shared, or NULL when the lexicon is not available */
} bm25_ctx;

static orx_status make_bm25(void *ctx, orx_retriever *out, orx_error *err) {
    bm25_ctx *c = ctx;
    return orx_kb_retriever_bm25_lex(c->path, c->lex, out, err);
}

static void free_bm25(void *ctx) {
    bm25_ctx *c = ctx;
    orx_lexicon_free(c->lex);
    free(c->path);
    free(c);
}

orx_status orx_kb_retriever_bm25_pool(const char *kb_path, int max, orx_retriever *out, orx_error *err) {
    bm25_ctx *c = calloc(1, sizeof *c);
    if (!c || !(c->path = orx_strdup(kb_path))) { free(c); return orx_fail(err, ORX_ERR_NOMEM, "out of memory"); }
    orx_error lerr = ORX_ERROR_INIT;
    if (orx_lexicon_open(NULL, &c->lex, &lerr) != ORX_OK) c->lex = NULL; /* expansion is optional */
    orx_retriever_pool_params p = {.make = make_bm25, .ctx = c, .ctx_free = free_bm25, .max = max};
    return orx_retriever_pool_create(&p, out, err);
}
