/* test_report.c — the report library (include/headscan/report.h) against independent oracles:
 *  - hs_py_repr / hs_py_repr_list vs CPython's repr() (Debian's /usr/bin/python3) on tricky
 *    strings (quote choice, escapes, controls, non-printable Unicode categories);
 *  - hs_tokens_html vs create_html written in Python with colorsys and the sign fix
 *    (analysis.md §13), byte for byte;
 *  - hs_head_vocab vs z · (W_O @ W_U) / scale computed here from the torch reference's own
 *    hooks and processed weights (tests/golden/neox-tiny-f32), and vs metrics_ref.py's
 *    head_vocab [L, H, V] (tests/golden/neox-tiny-f32/scan). Tolerance 1e-4·max|ref| + 1e-6
 *    per vector, derived as in test_scan_golden.c: the reference's hook_z / hook_scale carry
 *    float32 errors ≲ 2e-6 relative and ours the same order; one entry is a D·M-term sum,
 *    whose worst-case relative error stays below 1e-4 of the vector's max;
 *  - hs_top_positions on a hand-checked case (NaN, exclusions, ties);
 *  - hs_report_write: the page structure, script-safe embedding, CDN fallback, bad inputs. */
#define _GNU_SOURCE
#include "headscan/headscan.h"
#include "test.h"
#include <cjson/cJSON.h>
#include <sys/stat.h>
#include <unistd.h>

#define PY "/usr/bin/python3"

static char tmpdir_[256];

static char *slurp(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *t = malloc((size_t)n + 1);
    if (fread(t, 1, (size_t)n, f) != (size_t)n) n = 0;
    t[n] = 0;
    fclose(f);
    return t;
}
static void spit(const char *path, const char *text) {
    FILE *f = fopen(path, "wb");
    fputs(text, f);
    fclose(f);
}
/* Runs python code with argv[1] = in, argv[2] = out; returns out's parsed JSON. */
static cJSON *python(const char *code, const char *in_json) {
    char in[512], out[512], py[512], cmd[2048];
    snprintf(in, sizeof in, "%s/in.json", tmpdir_);
    snprintf(out, sizeof out, "%s/out.json", tmpdir_);
    snprintf(py, sizeof py, "%s/oracle.py", tmpdir_);
    spit(in, in_json);
    spit(py, code);
    unlink(out);
    snprintf(cmd, sizeof cmd, PY " %s %s %s", py, in, out);
    if (system(cmd) != 0) return NULL;
    char *t = slurp(out);
    cJSON *j = t ? cJSON_Parse(t) : NULL;
    free(t);
    return j;
}

static const char *const TRICKY[] = {
    "", "a", "It's", "say \"hi\"", "both ' and \"", "back\\slash", "\t\n\r", "\x01\x1f\x7f", " \xc3\xa9", "\xc2\x85",
    "\xc2\xa0", "\xe2\x80\x8b", "\xe2\x80\xa8", "\xe2\x80\xa9", "\xe3\x80\x80", "\xee\x80\x80", "\xef\xbf\xbd",
    "\xf0\x9f\x98\x80", "\xf3\xa0\x80\x81", "\xcd\xb8", "\xe6\x97\xa5\xe6\x9c\xac", "\xd8\xa7\xd9\x84", "\xe2\x80\x8e",
    "\xef\xbb\xbf", "\xf4\x8f\xbf\xbf", "<|endoftext|>", "'\"'", "\\'", "\x1b[0m", "\xc2\xad", "\xe2\x80\x83x",
    "\xf0\x90\x80\x80", "\xe0\xb8\x81\xe0\xb8\xb1"};
#define NT (sizeof TRICKY / sizeof *TRICKY)

static void test_repr(void) {
    cJSON *arr = cJSON_CreateStringArray(TRICKY, (int)NT);
    char *in = cJSON_PrintUnformatted(arr);
    cJSON_Delete(arr);
    cJSON *ref = python("import json, sys\n"
                        "s = json.load(open(sys.argv[1], encoding='utf-8'))\n"
                        "json.dump([repr(x) for x in s] + [repr(s)], open(sys.argv[2], 'w'))\n", in);
    free(in);
    CHECK(ref && cJSON_GetArraySize(ref) == (int)NT + 1, "python oracle for repr did not run");
    if (!ref) return;
    for (size_t i = 0; i < NT; i++) {
        char *got = NULL;
        CHECK_OK(hs_py_repr(TRICKY[i], strlen(TRICKY[i]), &got));
        const char *want = cJSON_GetArrayItem(ref, (int)i)->valuestring;
        CHECK(got && !strcmp(got, want), "repr #%zu: got %s want %s", i, got ? got : "(null)", want);
        free(got);
    }
    char *list = NULL;
    CHECK_OK(hs_py_repr_list(TRICKY, NT, &list));
    CHECK(list && !strcmp(list, cJSON_GetArrayItem(ref, (int)NT)->valuestring), "repr of the list: %s", list ? list : "");
    free(list);
    cJSON_Delete(ref);
    char *bad = NULL;
    CHECK(hs_py_repr("a\xff", 2, &bad) == HS_ERR_FORMAT, "invalid UTF-8 is an error");
    CHECK(hs_py_repr("\xed\xa0\x80", 3, &bad) == HS_ERR_FORMAT, "an encoded surrogate is an error");
}

static void test_tokens_html(void) {
    static const char *const strs[] = {"Hello", " world", "\n", "<b>&'\"", "\t x", "\xc3\xa9t\xc3\xa9", "", "end"};
    static const float vals[][8] = {{0.5f, -1.25f, 2.0f, 0.0f, -2.0f, 1e-3f, 0.75f, -0.3f},
                                    {3.0f, 1.0f, 0.1f, 2.5f, 0.0f, 1.5f, 0.2f, 0.9f},     /* all ≥ 0 (a loss) */
                                    {-0.2f, -4.0f, -1.0f, -0.01f, -3.5f, -2.0f, -0.5f, -1.5f},
                                    {0, 0, 0, 0, 0, 0, 0, 0}};                           /* vmax = 0 */
    const float sats[] = {0.5f, 1.0f, 0.3f, 0.5f};
    const long hl[] = {-1, 3, 0, -1};
    for (int c = 0; c < 4; c++) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddItemToObject(o, "s", cJSON_CreateStringArray(strs, 8));
        cJSON_AddItemToObject(o, "v", cJSON_CreateFloatArray(vals[c], 8));
        cJSON_AddNumberToObject(o, "sat", sats[c]);
        cJSON_AddNumberToObject(o, "hl", (double)hl[c]);
        char *in = cJSON_PrintUnformatted(o);
        cJSON_Delete(o);
        /* the study's create_html with |s| (its sign bug fixed); values are float32 like ours */
        cJSON *ref = python(
            "import json, sys, html, colorsys, struct\n"
            "d = json.load(open(sys.argv[1], encoding='utf-8'))\n"
            "f32 = lambda x: struct.unpack('f', struct.pack('f', x))[0]\n"
            "v = [f32(x) for x in d['v']]; sat = f32(d['sat'])\n"
            "vmax = max(max(v), -min(v))\n"
            "out = '<div class=\"hs-tokens\">'\n"
            "for i, (s, x) in enumerate(zip(d['s'], v)):\n"
            "    t = html.escape(s).replace('\\n', '<br/>').replace('\\t', '&emsp;').replace(' ', '&nbsp;')\n"
            "    sv = x / vmax * sat if vmax > 0 else 0.0\n"
            "    hue = 0 if sv < 0 else 0.66\n"
            "    r, g, b = colorsys.hsv_to_rgb(hue, min(abs(sv), 1.0), 1)\n"
            "    col = '#%02x%02x%02x' % (int(r * 255), int(g * 255), int(b * 255))\n"
            "    cls = 'tok tok-hl' if i == d['hl'] else 'tok'\n"
            "    out += ('<span class=\"%s\" style=\"background-color: %s; border: 1px solid lightgray; font-size: 16px; '\n"
            "            'border-radius: 3px;\" title=\"%.4g\">%s</span>') % (cls, col, x, t)\n"
            "json.dump([out + '</div>'], open(sys.argv[2], 'w'))\n",
            in);
        free(in);
        CHECK(ref != NULL, "python oracle for create_html did not run");
        if (!ref) continue;
        char *got = NULL;
        CHECK_OK(hs_tokens_html(strs, vals[c], 8, sats[c], hl[c], &got));
        const char *want = cJSON_GetArrayItem(ref, 0)->valuestring;
        CHECK(got && !strcmp(got, want), "create_html case %d:\n got  %s\n want %s", c, got ? got : "", want);
        free(got);
        cJSON_Delete(ref);
    }
    char hex[8];
    hs_token_colour(-1.0f, 1.0f, 0.5f, hex);
    CHECK(!strcmp(hex, "#ff7f7f"), "negative values are red with saturation |s| (got %s)", hex);
    hs_token_colour(NAN, 1.0f, 0.5f, hex);
    CHECK(!strcmp(hex, "#ffffff"), "NaN is white (got %s)", hex);
}

static hs_array load(const char *rel) {
    char p[1024];
    hs_array a = {0};
    snprintf(p, sizeof p, "%s/tests/golden/neox-tiny-f32/%s", HS_SOURCE_DIR, rel);
    if (hs_npy_read(p, &a) != HS_OK) { fprintf(stderr, "cannot read %s: %s\n", p, hs_last_error()); exit(1); }
    return a;
}

static void test_head_vocab(void) {
    hs_model *m = NULL;
    hs_model_params mp = hs_model_default_params();
    CHECK_OK(hs_model_load(HS_SOURCE_DIR "/tests/fixtures/neox-tiny-f32", &mp, &m));
    if (!m) return;
    const hs_model_config *c = hs_model_get_config(m);
    const int H = c->n_heads, D = c->d_head, M = c->d_model, V = c->d_vocab;
    hs_array tok = load("tokens.npy"), sc = load("hooks/ln_final.hook_scale.npy"), wu = load("weights/W_U.npy");
    const int T = (int)tok.shape[1];
    float *out = malloc(sizeof(float) * (size_t)V);
    double *ref = malloc(sizeof(double) * (size_t)V), *mag = malloc(sizeof(double) * (size_t)V);
    int32_t *seq = malloc(sizeof(int32_t) * (size_t)T);
    const int cases[][4] = {{0, 0, 0, 0}, {1, 3, 0, 19}, {1, 2, 1, 12}, {0, 1, 2, 7}, {1, 0, 2, 19}, {0, 3, 1, 5}};
    for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
        const int l = cases[k][0], h = cases[k][1], b = cases[k][2], p = cases[k][3];
        char zp[128], wp[128];
        snprintf(zp, sizeof zp, "hooks/blocks.%d.attn.hook_z.npy", l);
        snprintf(wp, sizeof wp, "weights/blocks.%d.attn.W_O.npy", l);
        hs_array z = load(zp), wo = load(wp);
        /* ref[v] = Σ_d z[b,p,h,d] · Σ_m W_O[h,d,m] W_U[m,v] / scale[b,p]: the notebook's order (W_OU first) */
        const float *zz = (const float *)z.data + (((size_t)b * T + p) * H + h) * D;
        const double s = ((const float *)sc.data)[(size_t)b * T + p];
        double vmax = 0;
        for (int v = 0; v < V; v++) {
            double acc = 0, a = 0;
            for (int d = 0; d < D; d++) {
                double ou = 0;
                for (int mm = 0; mm < M; mm++) ou += (double)((const float *)wo.data)[((size_t)h * D + d) * M + mm] * ((const float *)wu.data)[(size_t)mm * V + v];
                acc += zz[d] * ou;
                a += fabs(zz[d] * ou);
            }
            ref[v] = acc / s;
            mag[v] = a / s;
            vmax = fabs(ref[v]) > vmax ? fabs(ref[v]) : vmax;
        }
        for (int t = 0; t < T; t++) seq[t] = (int32_t)((const int64_t *)tok.data)[(size_t)b * T + t];
        CHECK_OK(hs_head_vocab(m, seq, p + 1, l, h, p, out));
        double worst = 0;
        for (int v = 0; v < V; v++) worst = fmax(worst, fabs(out[v] - ref[v]));
        CHECK(worst <= 1e-4 * vmax + 1e-6, "head_vocab L%dH%d row %d pos %d: max err %.3g (max|ref| %.3g)", l, h, b, p, worst, vmax);
        /* the full row gives the same (causal): later tokens are ignored */
        float *out2 = malloc(sizeof(float) * (size_t)V);
        CHECK_OK(hs_head_vocab(m, seq, T, l, h, p, out2));
        CHECK(!memcmp(out, out2, sizeof(float) * (size_t)V), "head_vocab depends on tokens after pos");
        free(out2);
        hs_array_free(&z);
        hs_array_free(&wo);
    }
    /* metrics_ref.py's head_vocab [L, H, V] (scan/head_vocab.npy, tokens[b, :p+1]) for every head */
    if (access(HS_SOURCE_DIR "/tests/golden/neox-tiny-f32/scan/head_vocab.npy", R_OK) == 0) {
        hs_array hv = load("scan/head_vocab.npy"), st = load("scan/tokens.npy");
        char *stats = slurp(HS_SOURCE_DIR "/tests/golden/neox-tiny-f32/scan/stats.json");
        cJSON *js = stats ? cJSON_Parse(stats) : NULL, *bp = cJSON_GetObjectItem(js, "head_vocab_b_p");
        const int b = cJSON_GetArrayItem(bp, 0)->valueint, p = cJSON_GetArrayItem(bp, 1)->valueint, T2 = (int)st.shape[1];
        int32_t *s2 = malloc(sizeof(int32_t) * (size_t)T2);
        for (int t = 0; t < T2; t++) s2[t] = (int32_t)((const int64_t *)st.data)[(size_t)b * T2 + t];
        for (int l = 0; l < c->n_layers; l++)
            for (int h = 0; h < H; h++) {
                const float *r = (const float *)hv.data + ((size_t)l * H + h) * V;
                CHECK_OK(hs_head_vocab(m, s2, p + 1, l, h, p, out));
                double worst = 0, rmax = 0;
                for (int v = 0; v < V; v++) {
                    worst = fmax(worst, fabs(out[v] - r[v]));
                    rmax = fmax(rmax, fabs(r[v]));
                }
                CHECK(worst <= 1e-4 * rmax + 1e-6, "head_vocab L%dH%d vs metrics_ref: max err %.3g (max|ref| %.3g)", l, h, worst, rmax);
            }
        free(s2);
        cJSON_Delete(js);
        free(stats);
        hs_array_free(&hv);
        hs_array_free(&st);
    } else {
        printf("note: no scan/head_vocab.npy golden: metrics_ref head-vocab check skipped\n");
    }
    CHECK(hs_head_vocab(m, seq, T, 2, 0, 0, out) == HS_ERR_INVALID_ARG, "layer out of range");
    CHECK(hs_head_vocab(m, seq, T, 0, 4, 0, out) == HS_ERR_INVALID_ARG, "head out of range");
    CHECK(hs_head_vocab(m, seq, T, 0, 0, T, out) == HS_ERR_INVALID_ARG, "pos out of range");
    seq[0] = V;
    CHECK(hs_head_vocab(m, seq, T, 0, 0, 3, out) == HS_ERR_INVALID_ARG, "token id out of the vocabulary");
    free(out);
    free(ref);
    free(mag);
    free(seq);
    hs_array_free(&tok);
    hs_array_free(&sc);
    hs_array_free(&wu);
    hs_model_free(m);
}

static void test_top_positions(void) {
    /* [2, 4]: flat 0..7 */
    const float v[8] = {0.5f, NAN, 3.0f, 0.5f, -1.0f, 3.0f, 2.0f, 0.1f};
    const uint8_t ex[8] = {0, 0, 0, 0, 0, 0, 1, 0};
    int64_t idx[8];
    int n = -1;
    CHECK_OK(hs_top_positions(v, 2, 4, ex, 5, idx, &n));
    const int64_t want[5] = {2, 5, 0, 3, 7};   /* 3.0 (ties by index), 0.5, 0.5, 0.1; 2.0 excluded, NaN skipped */
    CHECK(n == 5 && !memcmp(idx, want, sizeof want), "top positions: n=%d %lld %lld %lld %lld %lld", n, (long long)idx[0],
          (long long)idx[1], (long long)idx[2], (long long)idx[3], (long long)idx[4]);
    CHECK_OK(hs_top_positions(v, 2, 4, NULL, 8, idx, &n));
    CHECK(n == 7 && idx[2] == 6 && idx[6] == 4, "all but NaN, 2.0 third");
}

static int count(const char *h, const char *needle) {
    int c = 0;
    for (const char *p = h; (p = strstr(p, needle)); p++) c++;
    return c;
}

static void test_report_write(void) {
    hs_model *m = NULL;
    hs_model_params mp = hs_model_default_params();
    CHECK_OK(hs_model_load(HS_SOURCE_DIR "/tests/fixtures/neox-tiny-f32", &mp, &m));
    hs_array tok = load("tokens.npy");
    hs_scan_params sp = hs_scan_default_params();
    sp.batch = 2;
    sp.ind_batch = 2;
    sp.ind_seq_len = 5;
    hs_scan_result *r = NULL;
    CHECK_OK(hs_scan_run(m, &tok, &sp, &r));
    char scan[512], out[512], fake[512];
    snprintf(scan, sizeof scan, "%s/scan", tmpdir_);
    snprintf(out, sizeof out, "%s/r.html", tmpdir_);
    snprintf(fake, sizeof fake, "%s/fake-plotly.js", tmpdir_);
    CHECK_OK(hs_scan_write(r, scan));
    /* a stand-in plotly with the two sequences that could end or re-mode a <script> element */
    spit(fake, "window.Plotly={newPlot:function(){return Promise.resolve();}};var s='</script><!--<script>';\n");
    hs_report_params rp = hs_report_default_params();
    rp.plotly_js = fake;
    hs_report_info info;
    CHECK_OK(hs_report_write(scan, &rp, out, &info));
    char *h = slurp(out);
    CHECK(h != NULL, "report written");
    if (h) {
        CHECK(info.bytes == strlen(h) && info.plotly_embedded, "info: %zu bytes vs %zu", info.bytes, strlen(h));
        CHECK(count(h, "</script>") == 3, "exactly three script elements close (plotly, data, page): %d", count(h, "</script>"));
        CHECK(strstr(h, "var s='<\\/script><\\!--<script>'") != NULL, "plotly's '</script' and '<!--' are escaped");
        CHECK(!strstr(h, "<script src="), "no CDN link when plotly is embedded");
        const char *data = strstr(h, "<script id=\"hs-data\" type=\"application/json\">");
        CHECK(data != NULL, "data element");
        if (data) {
            data += strlen("<script id=\"hs-data\" type=\"application/json\">");
            const char *end = strstr(data, "</script>");
            char *js = strndup(data, (size_t)(end - data));
            CHECK(!strchr(js, '<'), "no '<' inside the embedded JSON");
            cJSON *d = cJSON_Parse(js);
            CHECK(d != NULL, "the embedded data is valid JSON");
            CHECK(cJSON_GetArraySize(cJSON_GetObjectItem(d, "table")) == 8, "8 heads in the table");
            CHECK(cJSON_GetArraySize(cJSON_GetObjectItem(d, "labels")) == 8, "8 labels");
            cJSON *ex = cJSON_GetObjectItem(d, "examples");
            CHECK(cJSON_GetArraySize(cJSON_GetObjectItem(ex, "items")) > 0, "top examples present");
            /* the example head is the table's argmax of mover_dla_no_ind */
            int best = -1;
            double bv = -INFINITY;
            for (int g = 0; g < 8; g++)
                if (r->table[g * HS_SCAN_NMETRICS + 10] > bv) { bv = r->table[g * HS_SCAN_NMETRICS + 10]; best = g; }
            char lab[16];
            snprintf(lab, sizeof lab, "L%dH%d", best / 4, best % 4);
            CHECK(!strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(ex, "head")), lab), "example head %s", lab);
            cJSON_Delete(d);
            free(js);
        }
        free(h);
    }
    /* no plotly file: a CDN link of the pinned version */
    rp.plotly_js = NULL;
    CHECK_OK(hs_report_write(scan, &rp, out, &info));
    h = slurp(out);
    CHECK(h && strstr(h, "<script src=\"" HS_PLOTLY_CDN_URL "\"") && !info.plotly_embedded, "CDN fallback");
    free(h);
    /* bad inputs: nothing written */
    char out2[512];
    snprintf(out2, sizeof out2, "%s/never.html", tmpdir_);
    CHECK(hs_report_write("/nonexistent/scan", &rp, out2, NULL) == HS_ERR_IO, "missing scan folder");
    CHECK(strstr(hs_last_error(), "/nonexistent/scan") != NULL, "error names the folder: %s", hs_last_error());
    rp.plotly_js = "/nonexistent/plotly.min.js";
    CHECK(hs_report_write(scan, &rp, out2, NULL) == HS_ERR_IO, "missing plotly file");
    rp.plotly_js = NULL;
    char p[600];
    snprintf(p, sizeof p, "%s/head_table.json", scan);
    char *orig = slurp(p);
    spit(p, "{\"not\": \"a table\"}");
    CHECK(hs_report_write(scan, &rp, out2, NULL) == HS_ERR_FORMAT, "malformed head_table.json: %s", hs_last_error());
    spit(p, orig);
    free(orig);
    snprintf(p, sizeof p, "%s/loss.npy", scan);
    const int64_t sh[2] = {2, 2};
    const float z[4] = {0};
    CHECK_OK(hs_npy_write(p, HS_F32, 2, sh, z));
    CHECK(hs_report_write(scan, &rp, out2, NULL) == HS_ERR_FORMAT, "loss.npy of the wrong shape");
    CHECK(access(out2, F_OK) != 0, "nothing written on failure");
    hs_scan_result_free(r);
    hs_array_free(&tok);
    hs_model_free(m);
}

int main(void) {
    snprintf(tmpdir_, sizeof tmpdir_, "/tmp/hs_test_report.XXXXXX");
    if (!mkdtemp(tmpdir_)) return 1;
    test_repr();
    test_tokens_html();
    test_head_vocab();
    test_top_positions();
    test_report_write();
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir_);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", tmpdir_);
    return test_report("test_report");
}
