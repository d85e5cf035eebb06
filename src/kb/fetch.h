/*
 * fetch.h — the whole FDA label set: reading zipped releases (openFDA drug-label JSON parts,
 * DailyMed SPL release/update zips of per-label zips) straight into the ingesters, downloading
 * a source's release files (`openrx kb fetch`), and applying a release or an update to an
 * existing knowledge base incrementally (`openrx kb update`).
 *
 * Zip entries are streamed (openFDA JSON through a FILE* over the archive, SPL XML read per
 * label); nothing is unpacked to disk.
 */
#ifndef ORX_KB_FETCH_H
#define ORX_KB_FETCH_H

#include "kb/kb.h"
#include <stdio.h>

/* ============================================================================================
 * Zipped releases
 * ========================================================================================== */
/* openFDA label JSON from an open stream (name is used in messages and source_file). */
orx_status orx_kb_ingest_openfda_stream(FILE *f, const char *name, orx_kb_doc_fn fn, void *ctx,
                                        orx_error *err);
/* A zip file: each .json entry is streamed into the openFDA ingester, each .xml entry into the
 * SPL ingester, each nested .zip (DailyMed: one zip per label) is opened in memory and read the
 * same way (one level deep); other entries (images) are skipped. Source files are named
 * "<zip>:<entry>[:<inner entry>]". */
orx_status orx_kb_ingest_zip(const char *path, orx_kb_doc_fn fn, void *ctx, orx_error *err);

/* ============================================================================================
 * Fetching a source's release files
 * ========================================================================================== */
typedef enum orx_kb_source_kind {
    ORX_KB_SOURCE_OPENFDA = 0,  /* openFDA drug-label bulk download (download.json index) */
    ORX_KB_SOURCE_DAILYMED = 1, /* DailyMed SPL release files (release file list page) */
} orx_kb_source_kind;

typedef enum orx_kb_release_kind {
    ORX_KB_RELEASE_FULL = 0,    /* a whole release: labels it lacks are removed by an update */
    ORX_KB_RELEASE_WEEKLY = 1,  /* DailyMed weekly update: upserts only */
    ORX_KB_RELEASE_MONTHLY = 2, /* DailyMed monthly update: upserts only */
    ORX_KB_RELEASE_DAILY = 3,   /* DailyMed daily update: upserts only */
} orx_kb_release_kind;

typedef struct orx_kb_fetch_params {
    orx_kb_source_kind  source;      /* which source */
    orx_kb_release_kind release;     /* full release or an update (DailyMed) */
    const char         *index_url;   /* index to read (NULL = the source's public index) */
    const char         *dir;         /* download directory (created); manifest.json goes here */
    const char         *sets;        /* DailyMed full-release sets, comma-separated prefixes
                                        ("human_rx" default; "human_rx,human_otc") */
    int                 max_files;   /* fetch at most this many files (0 = all) */
    int                 retries;     /* attempts per file after the first (default 4) */
    double              backoff_s;   /* first retry delay, doubled per retry (default 2 s) */
    bool                progress;    /* progress bars on a TTY (stderr) */
    void (*note)(void *ctx, const char *message); /* per-file lines; may be NULL */
    void               *note_ctx;    /* passed to note */
} orx_kb_fetch_params;
orx_kb_fetch_params orx_kb_fetch_default_params(void);

typedef struct orx_kb_fetch_stats {
    int      files;          /* files in the release */
    int      downloaded;     /* files transferred by this run (whole or resumed) */
    int      present;        /* files already complete and verified */
    int      retries;        /* retries used */
    uint64_t bytes;          /* bytes of all files of the release on disk */
    char     release_date[16]; /* YYYY-MM-DD of the release (openFDA export_date, DailyMed file date) */
} orx_kb_fetch_stats;

/* Read the index, download every file of the release into dir (resumable, checksummed where the
 * index gives a checksum, size-checked, retried with backoff, atomic rename), then write
 * dir/manifest.json (atomic). A second run only verifies what is already there. */
orx_status orx_kb_fetch(const orx_kb_fetch_params *p, orx_kb_fetch_stats *stats, orx_error *err);

/* Index parsing, exposed for tests. One release file: */
typedef struct orx_kb_release_file {
    char     url[1024];  /* absolute URL */
    char     name[256];  /* file name (last path segment) */
    uint64_t size;       /* exact size in bytes, 0 when the index does not state it */
    double   size_mb;    /* approximate size in MB (openFDA size_mb), 0 when not stated */
    int64_t  records;    /* records in the file (openFDA), -1 when not stated */
    char     md5[33];    /* MD5 hex, "" when not stated */
    char     sha256[65]; /* SHA-256 hex, "" when not stated */
} orx_kb_release_file;

typedef struct orx_kb_release {
    orx_kb_source_kind  source;          /* which source */
    orx_kb_release_kind kind;            /* full or an update */
    char                date[16];        /* YYYY-MM-DD */
    orx_kb_release_file *files;          /* release files, index order */
    size_t               n_files;        /* count */
} orx_kb_release;
void orx_kb_release_clear(orx_kb_release *r);
/* openFDA download.json: results.drug.label.{export_date, partitions[{file, size_mb, records}]}. */
orx_status orx_kb_parse_openfda_index(const char *json, size_t len, orx_kb_release *out,
                                      orx_error *err);
/* DailyMed release file list (HTML page or plain text): every link to dm_spl_*.zip, with the
 * first 32-hex-digit MD5 that follows it before the next link; picks the files of one kind
 * (full: the sets' parts; weekly/monthly/daily: the newest such update). base_url resolves
 * relative links. */
orx_status orx_kb_parse_dailymed_index(const char *text, size_t len, const char *base_url,
                                       orx_kb_release_kind kind, const char *sets,
                                       orx_kb_release *out, orx_error *err);

/* ============================================================================================
 * Incremental update of an existing knowledge base
 * ========================================================================================== */
typedef struct orx_kb_update_params {
    int   max_words;   /* chunk budget (must match the build's; 0 = the KB's own) */
    bool  progress;    /* progress bars on a TTY */
    bool  dry_run;     /* compute the report, change nothing */
    void (*note)(void *ctx, const char *message); /* changes, skipped labels; may be NULL */
    void *note_ctx;    /* passed to note */
} orx_kb_update_params;
orx_kb_update_params orx_kb_update_default_params(void);

typedef struct orx_kb_update_report {
    uint64_t added;      /* set ids new to the KB */
    uint64_t replaced;   /* set ids whose newer version replaced the stored one */
    uint64_t unchanged;  /* set ids already at this version (or newer) */
    uint64_t removed;    /* set ids dropped: absent from a full release of their source */
    uint64_t empty;      /* labels without section text (skipped) */
    uint64_t chunks_added;   /* chunks inserted */
    uint64_t chunks_removed; /* chunks deleted */
    uint64_t bytes_in;   /* input bytes read */
    double   seconds;    /* wall time */
    char     source[32]; /* source name recorded ("openfda", "dailymed", "local") */
    char     release_date[16]; /* release date recorded for the source */
    char     kind[16];   /* "full", "weekly", "monthly", "daily", "files" */
} orx_kb_update_report;

/* Apply inputs (a fetch directory with manifest.json, zip files, or label files/directories) to
 * the knowledge base at kb_path in one SQLite transaction: upsert by set id + version (newer
 * version or effective date wins), drop the source's set ids a full release lacks, maintain
 * term statistics, rebuild the impact index, record the source's release. A killed update
 * leaves the previous knowledge base as it was. */
orx_status orx_kb_update(const char *kb_path, const char *const *inputs, size_t n_inputs,
                         const orx_kb_update_params *p, orx_kb_update_report *report,
                         orx_error *err);

#endif /* ORX_KB_FETCH_H */
