/* cli_inspect_util.c — helpers shared by the report and inspection commands. */
#include "cli.h"
#include <cjson/cJSON.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>

char *cli_token_string(const hs_tokenizer *tk, int64_t id, int form) {
    if (tk && id >= hs_tokenizer_size(tk) && id >= 0) return strdup("");
    char *s = NULL, *d = NULL;
    size_t n, dn;
    if (tk && id >= 0 && hs_tokenizer_token_str(tk, (int32_t)id, &s, &n) == HS_OK) {
        if (form == CLI_TOKEN_RAW) return s;
        hs_status st = hs_token_display(s, n, &d, &dn);
        free(s);
        if (st == HS_OK) {
            if (form == CLI_TOKEN_DISPLAY_LINE)   /* "↩\n" → "↩": one line */
                for (char *q = d, *w = d;; q++) {
                    if (*q != '\n') *w++ = *q;
                    if (!*q) break;
                }
            return d;
        }
    }
    char buf[24];
    snprintf(buf, sizeof buf, "#%lld", (long long)id);
    return strdup(buf);
}

char *cli_read_text(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 4096, n = 0, k;
    char *t = malloc(cap);
    while (t && (k = fread(t + n, 1, cap - n - 1, f)) > 0) {
        if ((n += k) + 1 == cap) {
            char *nt = realloc(t, cap *= 2);
            if (!nt) { free(t); t = NULL; }
            else t = nt;
        }
    }
    fclose(f);
    if (t) t[n] = 0;
    return t;
}

/* The tokenizer the scan used (manifest input.tokenizer), else the model folder's. */
char *cli_scan_tokenizer(const char *scan_dir) {
    char path[4096], *res = NULL;
    snprintf(path, sizeof path, "%s/manifest.json", scan_dir);
    char *text = cli_read_text(path);
    if (!text) return NULL;
    cJSON *m = cJSON_Parse(text);
    free(text);
    const char *t = cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetObjectItem(m, "input"), "tokenizer"));
    const char *mp = cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetObjectItem(m, "model"), "path"));
    if (t && *t && access(t, R_OK) == 0) res = strdup(t);
    else if (mp) {
        snprintf(path, sizeof path, "%s/tokenizer.json", mp);
        if (access(path, R_OK) == 0) res = strdup(path);
    }
    cJSON_Delete(m);
    return res;
}
