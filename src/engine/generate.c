/* generate.c — evaluate a prompt, then sample and feed tokens one at a time, streaming pieces. */
#include "engine/engine.h"
#include "util/util.h"
#include <string.h>

orx_generate_params orx_generate_default_params(void) {
    return (orx_generate_params){.n_predict = 128, .stop_at_eog = true,
                                 .sampling = orx_sampler_default_params()};
}

orx_status orx_generate(orx_context *c, const orx_tokenizer *tok, const int32_t *prompt,
                        int32_t n_prompt, const orx_generate_params *p, orx_token_fn on_token,
                        void *ud, orx_generate_stats *stats, orx_error *err) {
    orx_generate_params d = orx_generate_default_params();
    if (!p) p = &d;
    orx_generate_stats st0 = {0};
    if (!stats) stats = &st0;
    memset(stats, 0, sizeof *stats);
    if (n_prompt <= 0) return orx_fail(err, ORX_ERR_USAGE, "generate: empty prompt");
    if (p->n_cached < 0 || p->n_cached >= n_prompt || p->n_cached > orx_context_n_past(c))
        return orx_fail(err, ORX_ERR_USAGE, "generate: %d cached prompt tokens, but the prompt has %d and the "
                        "context holds %d", p->n_cached, n_prompt, orx_context_n_past(c));
    if (p->n_cached > 0) orx_context_truncate(c, p->n_cached);
    orx_sampler *s = orx_sampler_create(&p->sampling);
    if (!s) return orx_fail(err, ORX_ERR_NOMEM, "out of memory");
    for (int32_t i = 0; i < n_prompt; i++) orx_sampler_accept(s, prompt[i]);
    double t0 = orx_now();
    orx_status st = orx_context_eval(c, prompt + p->n_cached, n_prompt - p->n_cached, false, err);
    stats->n_prompt = n_prompt - p->n_cached;
    stats->n_reused = p->n_cached;
    stats->t_prompt_s = orx_now() - t0;
    double t_gen0 = 0;
    char piece[512];
    for (int32_t i = 0; !st && i < p->n_predict; i++) {
        const float *logits = orx_context_logits(c, -1);
        int32_t nv = orx_context_n_vocab(c);
        int32_t t = orx_sampler_sample(s, logits, nv);
        if (t < 0) {
            st = orx_fail(err, ORX_ERR_NOMEM, "sampler failed");
            break;
        }
        if (i == 0) {
            stats->t_first_s = orx_now() - t0;
            t_gen0 = orx_now();
        }
        if (p->stop_at_eog && tok && orx_tokenizer_is_eog(tok, t)) break;
        orx_sampler_accept(s, t);
        stats->n_gen++;
        int32_t len = tok ? orx_token_to_piece(tok, t, piece, (int32_t)sizeof piece) : 0;
        if (len < 0 || len > (int32_t)sizeof piece) len = 0;
        if (on_token && !on_token(ud, t, piece, (size_t)len)) break;
        if (i + 1 < p->n_predict) {
            if (orx_context_n_past(c) >= orx_context_n_ctx(c)) break; /* context full: stop */
            st = orx_context_eval(c, &t, 1, false, err);
        }
    }
    if (t_gen0 > 0) stats->t_gen_s = orx_now() - t_gen0;
    orx_sampler_free(s);
    return st;
}
