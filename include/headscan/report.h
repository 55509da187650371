/* headscan/report.h — the study's plots and debugging helpers (analysis.md §12–13):
 * an offline HTML report of a scan folder, create_html-style token colouring,
 * TransformerLens's test_prompt, the vocabulary a head writes, top positions.
 *
 *   hs_report_params rp = hs_report_default_params();
 *   rp.plotly_js = "node_modules/plotly.js-dist-min/plotly.min.js";  // embedded; NULL = CDN link
 *   rp.tokenizer = tok;                                             // token strings (else ids)
 *   hs_report_info info;
 *   hs_report_write("scan_out/", &rp, "report.html", &info);
 *
 * Nothing here touches the network: without a plotly file the page links the CDN copy
 * of HS_PLOTLY_VERSION and needs a connection when it is opened.
 */
#ifndef HEADSCAN_REPORT_H
#define HEADSCAN_REPORT_H

#include "common.h"
#include "model.h"
#include "tokenizer.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The plotly.js-dist-min version pinned in tools/report/package.json. */
#define HS_PLOTLY_VERSION "4.1.2"
#define HS_PLOTLY_CDN_URL "https://cdn.plot.ly/plotly-" HS_PLOTLY_VERSION ".min.js"

/* ------------------------------------------------------------------ token colouring */
/* create_html's colour of one value (analysis.md §13) without its sign bug:
 * s = v / vmax · saturation; hue 0.66 (blue) for s ≥ 0, 0 (red) for s < 0; the colour is
 * colorsys.hsv_to_rgb(hue, |s|, 1) with each channel int(c·255), as "#rrggbb".
 * vmax ≤ 0 or non-finite v gives white. */
HS_API void hs_token_colour(float v, float vmax, float saturation, char hex[8]);

/* create_html(strings, values, saturation): one <span> per string, each escaped as the
 * study does (& < > " ' → entities, then \n → <br/>, \t → &emsp;, space → &nbsp;),
 * background hs_token_colour(values[i], vmax = max(max v, −min v)), plus a title attribute
 * holding the value ("%.4g") for hover. `highlight` (−1 for none) gets a thick outline.
 * strings are UTF-8 (NUL-terminated). *out is malloc'd. */
HS_API hs_status hs_tokens_html(const char *const *strings, const float *values, size_t n, float saturation,
                                long highlight, char **out);

/* Python's repr() of a str given as UTF-8: the quote choice (' unless the text has ' and
 * no "), backslash escapes for \\ \n \r \t and the quote, \xNN / \uNNNN / \UNNNNNNNN for
 * characters str.isprintable() rejects (controls, format, separators other than space,
 * unassigned, private use, surrogates). Invalid UTF-8 is an error. *out is malloc'd. */
HS_API hs_status hs_py_repr(const char *s, size_t len, char **out);
/* repr() of a Python list of str: "['a', \"b'\"]". */
HS_API hs_status hs_py_repr_list(const char *const *items, size_t n, char **out);

/* ------------------------------------------------------------------ test_prompt */
typedef struct hs_test_prompt_params {
    int top_k;                      /* default 10 */
    bool prepend_space_to_answer;   /* default true */
    bool prepend_bos;               /* default true (TransformerLens's default) */
    hs_compute compute;             /* default HS_COMPUTE_F32 (see hs_compute) */
    hs_compute_deviation *deviation; /* optional out: with a non-float32 compute, its deviation
                                       from float32 on prompt + answer (hs_compute_compare) */
} hs_test_prompt_params;
HS_API hs_test_prompt_params hs_test_prompt_default_params(void);

/* TransformerLens utils.test_prompt (analysis.md §13): the exact lines it prints (rich's
 * lines as plain text), "\n"-terminated, into *text (malloc'd). tokens = to_tokens(prompt +
 * answer); one forward pass; per answer token the rank, logit, probability, and the top_k. */
HS_API hs_status hs_test_prompt(const hs_model *m, const hs_tokenizer *tok, const char *prompt, const char *answer,
                                const hs_test_prompt_params *params, char **text);

/* ------------------------------------------------------------------ head vocabulary */
/* The vocabulary head (layer, head) writes at position pos of one sequence:
 * out[v] = Σ_d z[pos, head, d] · W_OU[layer, head, d, v] / ln_final.hook_scale[pos]
 * with W_OU = W_O[layer, head] @ W_U (processed weights), z = blocks.layer.attn.hook_z
 * of the forward pass over tokens[0..pos] (causal: later tokens change nothing).
 * out: [d_vocab] floats. */
HS_API hs_status hs_head_vocab(const hs_model *m, const int32_t *tokens, int n_tokens, int layer, int head, int pos,
                               float *out);

/* ------------------------------------------------------------------ top positions */
/* The k largest values of a [rows, cols] array (NaN skipped, ties by lower flat index),
 * positions where `exclude` [rows, cols] is non-zero left out (exclude may be NULL).
 * idx_out: flat indices r·cols + c, descending by value; returns the count in *n_out. */
HS_API hs_status hs_top_positions(const float *values, int64_t rows, int64_t cols, const uint8_t *exclude, int k,
                                  int64_t *idx_out, int *n_out);

/* ------------------------------------------------------------------ the report */
typedef struct hs_report_params {
    const char *plotly_js;          /* plotly.min.js to embed; NULL = <script src> to HS_PLOTLY_CDN_URL */
    const hs_tokenizer *tokenizer;  /* token strings (display form); NULL = "#id" */
    const char *title;              /* default "headscan report" */
    int examples;                   /* top dataset examples shown; default 10 */
    int context;                    /* tokens of context before each example; default 30 */
    int subsample;                  /* points per subsample scatter; default 1000 */
    uint64_t seed;                  /* subsample generator seed; default 0 */
    float subsample_threshold;      /* heads with mover_dla (table) above it; default 0.05
                                       (the top head by mover_dla is always shown) */
    int max_subsample_heads;        /* default 8 */
    int image_prompts;              /* prompts in the is_movable / num_copies images; default 20 */
    int loss_prompts;               /* prompts shown coloured by per-token loss; default 2 */
} hs_report_params;
HS_API hs_report_params hs_report_default_params(void);

typedef struct hs_report_info {
    size_t bytes;                   /* size of the HTML written */
    int subsample_heads;            /* heads given a per-token scatter */
    bool plotly_embedded;           /* false: the page links the CDN */
    char example_head[32];          /* e.g. "L3H3" */
} hs_report_info;

/* Reads a `headscan scan` folder (head_table.json, quantiles.json, manifest.json, the
 * .npy arrays) and writes one self-contained HTML page to out_path (atomically).
 * info may be NULL. */
HS_API hs_status hs_report_write(const char *scan_dir, const hs_report_params *params, const char *out_path,
                                 hs_report_info *info);

#ifdef __cplusplus
}
#endif
#endif
