#!/usr/bin/env bash
# house_rename.sh — the naming rules of README "Layout" applied to the source tree (issue 18):
#   1. every symbol the library exports starts with orx_: the clinical parsers' clin_*, the
#      indication index's ind_* and the tokenizer helpers' tok_* become orx_clin_*, orx_ind_*, orx_tok_*;
#   2. a handle is destroyed with orx_X_free(X *); what releases the contents of a struct the
#      caller owns (and leaves it empty) is orx_X_clear(&s).
# Idempotent: renames whole words only (an already renamed orx_clin_x is not matched by clin_x),
# so it can be run again after merging branches that still use the old names.
# Usage: tools/house_rename.sh [--with-safety] [ROOT]
#   --with-safety  also the safety checker's struct releases (orx_findings_free, ...) and its
#                  ddi_* extractor helpers (left to whoever owns src/safety/ otherwise)
# Check afterwards: nm -g --defined-only build/libopenrx.a | awk '$2 ~ /[TDBR]/ && $3 !~ /^orx_/'
set -euo pipefail
with_safety=0
if [ "${1:-}" = "--with-safety" ]; then with_safety=1; shift; fi
root=${1:-$(cd "$(dirname "$0")/.." && pwd)}
cd "$root"

# old new (whole words)
renames=(
  # clinical parsers (src/clinical/internal.h)
  clin_add_lab orx_clin_add_lab          clin_copy orx_clin_copy
  clin_lab_for_loinc orx_clin_lab_for_loinc  clin_parse_fhir_bundle orx_clin_parse_fhir_bundle
  clin_parse_simple orx_clin_parse_simple  clin_pgx_gene_in orx_clin_pgx_gene_in
  clin_pgx_merge orx_clin_pgx_merge      clin_push orx_clin_push
  clin_system_name orx_clin_system_name  clin_today orx_clin_today
  clin_valid_date orx_clin_valid_date
  # indication index and words (src/kb/ind_internal.h, kb_internal.h)
  ind_match_ids orx_ind_match_ids        ind_occurrence orx_ind_occurrence
  ind_site_conflict orx_ind_site_conflict  ind_cue_of orx_ind_cue_of
  ind_is_degree orx_ind_is_degree        ind_is_drop orx_ind_is_drop
  ind_is_function orx_ind_is_function    ind_is_generic orx_ind_is_generic
  ind_is_numeric orx_ind_is_numeric      ind_is_person orx_ind_is_person
  ind_is_site orx_ind_is_site            ind_is_stop orx_ind_is_stop
  ind_map_free orx_ind_map_clear         ind_map_get orx_ind_map_get
  ind_map_put orx_ind_map_put            ind_norm orx_ind_norm
  ind_tokens orx_ind_tokens              ind_index_build orx_ind_index_build
  ind_index_free orx_ind_index_free      ind_index_has_word orx_ind_index_has_word
  ind_index_labels_of orx_ind_index_labels_of  ind_index_options orx_ind_index_options
  ind_index_suggest_phrases orx_ind_index_suggest_phrases
  ind_index_suggest_words orx_ind_index_suggest_words
  # the engine's tokenizer helpers (src/engine/tokenizer/tokenizer_impl.h)
  tok_bpe_decode_text orx_tok_bpe_decode_text  tok_bpe_encode orx_tok_bpe_encode
  tok_bpe_merge_rank orx_tok_bpe_merge_rank  tok_bpe_setup orx_tok_bpe_setup
  tok_find orx_tok_find                  tok_hash orx_tok_hash
  tok_heap_pop orx_tok_heap_pop          tok_heap_push orx_tok_heap_push
  tok_spm_encode orx_tok_spm_encode      tok_utf8_decode orx_tok_utf8_decode
  tok_utf8_encode orx_tok_utf8_encode    tok_vec_push orx_tok_vec_push
  tok_wpm_encode orx_tok_wpm_encode
  # struct releases: _free -> _clear
  orx_buf_free orx_buf_clear             orx_eval_cases_free orx_eval_cases_clear
  orx_ind_options_free orx_ind_options_clear  orx_kb_release_free orx_kb_release_clear
  orx_kb_results_free orx_kb_results_clear  orx_kb_termset_free orx_kb_termset_clear
  orx_llm_response_free orx_llm_response_clear  orx_rx_options_free orx_rx_options_clear
  orx_rx_result_free orx_rx_result_clear  orx_chat_job_free orx_chat_job_clear
)
if [ "$with_safety" = 1 ]; then
  renames+=(
    orx_findings_free orx_findings_clear  orx_srl_table_free orx_srl_table_clear
    orx_ddi_rules_free orx_ddi_rules_clear
    ddi_act_name orx_ddi_act_name  ddi_classify orx_ddi_classify  ddi_dose_qualified orx_ddi_dose_qualified
    ddi_has_cue orx_ddi_has_cue  ddi_large_amounts orx_ddi_large_amounts  ddi_tier orx_ddi_tier
    ddi_effect_phrase_at orx_ddi_effect_phrase_at  ddi_effect_self orx_ddi_effect_self
    ddi_effects_free orx_ddi_effects_free  ddi_effects_load orx_ddi_effects_load
    ddi_effects_name orx_ddi_effects_name  ddi_drug_cache_create orx_ddi_drug_cache_create
    ddi_drug_cache_free orx_ddi_drug_cache_free  ddi_find_mentions orx_ddi_find_mentions
    ddi_terms_free orx_ddi_terms_free  ddi_terms_load orx_ddi_terms_load  ddi_has_word orx_ddi_has_word
    ddi_lower orx_ddi_lower  ddi_split_sentences orx_ddi_split_sentences  ddi_tokenize orx_ddi_tokenize
  )
fi

script=$(mktemp)
trap 'rm -f "$script"' EXIT
for ((i = 0; i < ${#renames[@]}; i += 2)); do
  printf 's/\\<%s\\>/%s/g\n' "${renames[i]}" "${renames[i + 1]}" >> "$script"
done
words=$(for ((i = 0; i < ${#renames[@]}; i += 2)); do printf '%s\n' "${renames[i]}"; done | paste -sd'|')
files=$(grep -rlwE "$words" src include tests fuzz bench --include='*.c' --include='*.h' --include='*.def' 2>/dev/null || true)
n=0
for f in $files; do
  sed -i -f "$script" "$f"
  n=$((n + 1))
done
echo "house_rename: $n file(s) rewritten"
