/*
 * catalog.h — the model catalog (data/models.json): the study's taxonomy of open healthcare
 * foundation models, with licence, openness, architecture and published GGUF conversions,
 * and `pull`: downloading one GGUF file over HTTP(S) with resume, checksum and atomic rename.
 *
 * Every string a catalog hands out points into the loaded catalog and lives until
 * orx_catalog_free(). A NULL field means "not stated in the entry's sources" (print "unknown").
 */
#ifndef ORX_CATALOG_H
#define ORX_CATALOG_H

#include "openrx.h"
#include "util/util.h"

/* ============================================================================================
 * Catalog entries
 * ========================================================================================== */

/* Tri-state for facts that may be unknown. */
typedef enum orx_tri { ORX_TRI_UNKNOWN = -1, ORX_TRI_NO = 0, ORX_TRI_YES = 1 } orx_tri;

typedef struct orx_catalog_file {
    const char *name;     /* file name in the repo, e.g. "BioMistral-7B-Q4_K_M.gguf" */
    const char *quant;    /* quant label as published, e.g. "Q4_K_M" */
    const char *url;      /* explicit download URL, or NULL: <repo>/resolve/main/<name> */
    const char *sha256;   /* 64 lower-case hex digits, or NULL when not stated */
    double      size_gb;  /* size as published in GB (1e9 bytes); < 0 when not stated */
} orx_catalog_file;

typedef struct orx_catalog_gguf {
    const char           *repo;    /* repository URL holding GGUF conversions */
    size_t                n_files; /* files listed (0: repo known, file names not stated) */
    const orx_catalog_file *files;   /* [n_files] */
} orx_catalog_gguf;

typedef struct orx_catalog_model {
    const char  *name;          /* catalog id used on the command line, e.g. "biomistral-7b" */
    const char  *display_name;  /* human name */
    const char  *organisation;  /* developer, or NULL */
    const char  *base_model;    /* model it was trained from, or NULL */
    double       parameters_b;  /* billions of parameters; < 0 when unknown */
    const char  *modality;      /* "text", "image+text", ...; or NULL */
    size_t       n_tasks;       /* taxonomy categories (task_categories ids) */
    const char **tasks;         /* [n_tasks] */
    const char  *task_basis;    /* what in the source supports the categories, or NULL */
    const char  *licence;       /* licence of the weights as stated, or NULL */
    const char  *code_licence;  /* licence of the code when stated separately, or NULL */
    const char  *licence_url;   /* link to the terms, or NULL (then source is the terms link) */
    size_t       n_restrictions;/* use restrictions codes */
    const char **restrictions;  /* [n_restrictions]: research-only, not-for-clinical-use, gated… */
    const char  *use_note;      /* the source's own caution, or NULL */
    orx_tri      requires_licence_acceptance; /* terms must be accepted before download */
    const char  *open_weights;  /* "open", "gated", "credentialed", "on-request", or NULL */
    const char  *open_data;     /* "yes", "partial", "no", or NULL */
    const char  *open_code;     /* "yes", "partial", "no", or NULL */
    const char  *architecture;  /* GGUF general.architecture name, or NULL */
    int64_t      context_length;/* tokens; < 0 when unknown */
    size_t       n_gguf;        /* published GGUF conversions */
    const orx_catalog_gguf *gguf; /* [n_gguf] */
    const char  *source;        /* model card / README URL (always present) */
    size_t       n_sources;     /* further pages used */
    const char **sources;       /* [n_sources] */
    const char  *paper;         /* "arXiv:…" or NULL */
} orx_catalog_model;

typedef struct orx_catalog orx_catalog;

/* Load and validate a catalog file. Malformed JSON fails with ORX_ERR_PARSE and
 * "path:line:col: what"; a bad field with ORX_ERR_INVALID naming the entry and field. */
orx_status orx_catalog_load(const char *path, orx_catalog **out, orx_error *err);
/* Load from a JSON text (len bytes); `what` names it in error messages. */
orx_status orx_catalog_load_text(const char *text, size_t len, const char *what,
                                 orx_catalog **out, orx_error *err);
/* The catalog path used when none is given: $ORX_MODELS_JSON, else ./data/models.json when it
 * exists, else <source dir>/data/models.json. Returns a static string. */
const char *orx_catalog_default_path(void);
void orx_catalog_free(orx_catalog *cat);

size_t                 orx_catalog_count(const orx_catalog *cat);
const orx_catalog_model *orx_catalog_at(const orx_catalog *cat, size_t i);
/* Find by name or display name (ASCII case-insensitive); NULL when absent. */
const orx_catalog_model *orx_catalog_find(const orx_catalog *cat, const char *name);
/* The entry as compact JSON (malloc'd, caller frees), exactly as stored in the catalog. */
char *orx_catalog_entry_json(const orx_catalog *cat, size_t i);

/* Taxonomy categories declared by the catalog. */
size_t      orx_catalog_n_tasks(const orx_catalog *cat);
const char *orx_catalog_task_id(const orx_catalog *cat, size_t i);
const char *orx_catalog_task_label(const orx_catalog *cat, size_t i);

/* ============================================================================================
 * Filters and runnability
 * ========================================================================================== */
bool orx_catalog_model_has_task(const orx_catalog_model *m, const char *task);
/* Case-insensitive substring match of `needle` in the weights' licence text; unknown licences
 * match only the needle "unknown". */
bool orx_catalog_model_licence_matches(const orx_catalog_model *m, const char *needle);

/* THE ONE PLACE that decides whether openrx's engine can run an architecture (GGUF
 * general.architecture name): asks the engine's registry, orx_engine_architectures(). */
bool orx_catalog_arch_runnable(const char *arch);
/* Runnable = the entry's architecture is known and runnable. */
bool orx_catalog_model_runnable(const orx_catalog_model *m);
/* Comma-separated list of the architectures the check accepts (static string). */
const char *orx_catalog_runnable_archs(void);

/* ============================================================================================
 * Pull: choosing a file, then downloading it
 * ========================================================================================== */

/* What to fetch for `models pull NAME`: the GGUF file with quant label `quant` (case-insensitive).
 * Refuses (ORX_ERR_USAGE, message with the terms link) when the entry's licence requires or may
 * require acceptance (requires_licence_acceptance true or unknown) and accept_licence is false.
 * No conversion with that quant: ORX_ERR_NOT_FOUND listing the quants that are published. */
typedef struct orx_pull_plan {
    char url[2048];      /* resolved download URL */
    char filename[512];  /* file name to save as */
    char sha256[65];     /* expected digest, "" when not stated */
} orx_pull_plan;
orx_status orx_catalog_plan_pull(const orx_catalog_model *m, const char *quant, bool accept_licence,
                                 orx_pull_plan *plan, orx_error *err);
/* Link to the entry's terms: licence_url when stated, else the source page. */
const char *orx_catalog_model_terms_link(const orx_catalog_model *m);

typedef struct orx_download_params {
    const char *url;            /* http:// or https:// URL */
    const char *dest_path;      /* final file path; "<dest_path>.part" holds a partial download */
    const char *sha256;         /* expected lower/upper-case hex digest, or NULL/"" to skip */
    bool        progress;       /* draw orx_progress on stderr (TTY only) */
    long        connect_timeout_s; /* 0: 30 s */
    long        stall_timeout_s;   /* abort when under 1 byte/s for this long; 0: 60 s */
    const char *bearer_token;   /* sent as "Authorization: Bearer …" (gated repos), or NULL */
} orx_download_params;
orx_download_params orx_download_default_params(void);

typedef struct orx_download_result {
    uint64_t bytes;          /* size of the final file */
    uint64_t resumed_from;   /* bytes already present in the .part file and kept (0: fresh) */
    bool     already_present;/* the final file existed (and matched the checksum when given) */
    bool     verified;       /* the sha256 was checked and matched */
    char     sha256[65];     /* digest of the final file */
} orx_download_result;

/* Download url to dest_path: bytes go to dest_path.part (resumed with a Range request when it
 * exists), then the sha256 is checked when given, then the .part is fsync'd and renamed over
 * dest_path. Errors: HTTP 404 → ORX_ERR_NOT_FOUND; other HTTP errors and transport failures →
 * ORX_ERR_NETWORK (the .part is KEPT so a rerun resumes); checksum mismatch → ORX_ERR_INVALID
 * (the .part is REMOVED: it is complete but wrong, resuming cannot fix it). */
orx_status orx_download(const orx_download_params *p, orx_download_result *res, orx_error *err);

#endif /* ORX_CATALOG_H */
