/* checkpoint.c — safetensors writer and HF GPT-NeoX config.json for trained models.
 *
 * safetensors: 8-byte little-endian header length, a JSON header
 * {"name": {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__": {...}}
 * padded with spaces to a multiple of 8, then the tensors' bytes in header order.
 */
#define _GNU_SOURCE
#include "train/train_internal.h"
#include <cjson/cJSON.h>
#include <errno.h>
#include <string.h>
#include <stdlib.h>
#include <sys/stat.h>

hs_status tr_safetensors_write(const char *path, const tr_st_tensor *t, int n, hs_dtype dtype) {
    if (dtype != HS_F32 && dtype != HS_F16)
        return hs_errorf(HS_ERR_UNSUPPORTED, "%s: safetensors writer supports F32 and F16 only", path);
    size_t esz = dtype == HS_F16 ? 2 : 4;
    cJSON *hdr = cJSON_CreateObject(), *meta = cJSON_CreateObject();
    if (!hdr || !meta) { cJSON_Delete(hdr); cJSON_Delete(meta); return hs_errorf(HS_ERR_NOMEM, "%s: out of memory", path); }
    cJSON_AddStringToObject(meta, "format", "pt");
    cJSON_AddItemToObject(hdr, "__metadata__", meta);
    size_t off = 0;
    for (int i = 0; i < n; i++) {
        size_t cnt = 1;
        cJSON *e = cJSON_CreateObject(), *shape = cJSON_CreateArray(), *offs = cJSON_CreateArray();
        for (int d = 0; d < t[i].ndim; d++) {
            cnt *= (size_t)t[i].shape[d];
            cJSON_AddItemToArray(shape, cJSON_CreateNumber((double)t[i].shape[d]));
        }
        cJSON_AddItemToArray(offs, cJSON_CreateNumber((double)off));
        cJSON_AddItemToArray(offs, cJSON_CreateNumber((double)(off + cnt * esz)));
        cJSON_AddStringToObject(e, "dtype", dtype == HS_F16 ? "F16" : "F32");
        cJSON_AddItemToObject(e, "shape", shape);
        cJSON_AddItemToObject(e, "data_offsets", offs);
        cJSON_AddItemToObject(hdr, t[i].name, e);
        off += cnt * esz;
    }
    char *js = cJSON_PrintUnformatted(hdr);
    cJSON_Delete(hdr);
    if (!js) return hs_errorf(HS_ERR_NOMEM, "%s: out of memory", path);
    size_t hlen = strlen(js), padded = (hlen + 7) & ~(size_t)7;
    hs_atomic_file af;
    hs_status s = hs_atomic_open(path, &af);
    if (s) { free(js); return s; }
    uint8_t len8[8];
    for (int i = 0; i < 8; i++) len8[i] = (uint8_t)((uint64_t)padded >> (8 * i));
    int ok = fwrite(len8, 1, 8, af.fp) == 8 && fwrite(js, 1, hlen, af.fp) == hlen;
    for (size_t i = hlen; ok && i < padded; i++) ok = fputc(' ', af.fp) != EOF;
    free(js);
    uint16_t buf[4096];
    for (int i = 0; ok && i < n; i++) {
        size_t cnt = 1;
        for (int d = 0; d < t[i].ndim; d++) cnt *= (size_t)t[i].shape[d];
        if (dtype == HS_F32) {
            /* little-endian hosts only (x86-64, aarch64) */
            ok = fwrite(t[i].data, 4, cnt, af.fp) == cnt;
        } else {
            for (size_t j = 0; ok && j < cnt; j += 4096) {
                size_t k = cnt - j < 4096 ? cnt - j : 4096;
                for (size_t q = 0; q < k; q++) buf[q] = hs_f32_to_f16(t[i].data[j + q]);
                ok = fwrite(buf, 2, k, af.fp) == k;
            }
        }
    }
    if (!ok) {
        hs_atomic_abort(&af);
        return hs_errorf(HS_ERR_IO, "%s: write failed: %s", path, strerror(errno));
    }
    return hs_atomic_commit(&af);
}

static hs_status mkdir_p(const char *dir) {
    char *d = hs_strdup(dir);
    if (!d) return HS_ERR_NOMEM;
    for (char *p = d + 1; ; p++) {
        if (*p == '/' || *p == 0) {
            char c = *p;
            *p = 0;
            if (mkdir(d, 0777) != 0 && errno != EEXIST) {
                hs_status s = hs_errorf(HS_ERR_IO, "%s: cannot create directory: %s", d, strerror(errno));
                free(d);
                return s;
            }
            *p = c;
            if (!c) break;
        }
    }
    struct stat st;
    int isdir = stat(dir, &st) == 0 && S_ISDIR(st.st_mode);
    free(d);
    return isdir ? HS_OK : hs_errorf(HS_ERR_IO, "%s: not a directory", dir);
}

hs_status tr_checkpoint_write(const tr_model *m, const char *out_dir, const char *tok_json,
                              size_t tok_len, hs_dtype dtype, double rotary_pct, int bos_id) {
    const tr_config *c = &m->c;
    hs_status s = mkdir_p(out_dir);
    if (s) return s;
    /* config.json as HF GPTNeoXConfig writes it (the keys HF and the runtime read). */
    cJSON *cfg = cJSON_CreateObject();
    cJSON *arch = cJSON_CreateArray();
    cJSON_AddItemToArray(arch, cJSON_CreateString("GPTNeoXForCausalLM"));
    cJSON_AddItemToObject(cfg, "architectures", arch);
    cJSON_AddBoolToObject(cfg, "attention_bias", 1);
    cJSON_AddNumberToObject(cfg, "attention_dropout", 0.0);
    cJSON_AddNumberToObject(cfg, "bos_token_id", bos_id);
    cJSON_AddNumberToObject(cfg, "eos_token_id", bos_id);
    cJSON_AddStringToObject(cfg, "hidden_act", "gelu");
    cJSON_AddNumberToObject(cfg, "hidden_dropout", 0.0);
    cJSON_AddNumberToObject(cfg, "hidden_size", c->M);
    cJSON_AddNumberToObject(cfg, "initializer_range", 0.02);
    cJSON_AddNumberToObject(cfg, "intermediate_size", c->F);
    cJSON_AddNumberToObject(cfg, "layer_norm_eps", c->eps);
    cJSON_AddNumberToObject(cfg, "max_position_embeddings", c->T);
    cJSON_AddStringToObject(cfg, "model_type", "gpt_neox");
    cJSON_AddNumberToObject(cfg, "num_attention_heads", c->H);
    cJSON_AddNumberToObject(cfg, "num_hidden_layers", c->L);
    cJSON_AddNumberToObject(cfg, "rotary_emb_base", c->rot_base);
    cJSON_AddNumberToObject(cfg, "rotary_pct", rotary_pct);
    cJSON_AddItemToObject(cfg, "tie_word_embeddings", cJSON_CreateBool(0));
    cJSON_AddStringToObject(cfg, "torch_dtype", dtype == HS_F16 ? "float16" : "float32");
    cJSON_AddItemToObject(cfg, "use_cache", cJSON_CreateBool(1));
    cJSON_AddItemToObject(cfg, "use_parallel_residual", cJSON_CreateBool(1));
    cJSON_AddNumberToObject(cfg, "vocab_size", c->V);
    char *js = cJSON_Print(cfg);
    cJSON_Delete(cfg);
    if (!js) return hs_errorf(HS_ERR_NOMEM, "config.json: out of memory");
    char *p = hs_path_join(out_dir, "config.json");
    size_t jl = strlen(js);
    js[jl] = '\n';        /* cJSON_Print's buffer has room for the NUL we overwrite */
    s = p ? hs_write_file_atomic(p, js, jl + 1) : HS_ERR_NOMEM;
    free(js); free(p);
    if (s) return s;
    if (tok_json) {
        p = hs_path_join(out_dir, "tokenizer.json");
        s = p ? hs_write_file_atomic(p, tok_json, tok_len) : HS_ERR_NOMEM;
        free(p);
        if (s) return s;
    }
    tr_st_tensor *ts = hs_calloc((size_t)m->n_tensors, sizeof *ts);
    if (!ts) return HS_ERR_NOMEM;
    for (int i = 0; i < m->n_tensors; i++) {
        ts[i].name = m->t[i].name;
        ts[i].ndim = m->t[i].ndim;
        ts[i].shape = m->t[i].shape;
        ts[i].data = m->p + m->t[i].off;
    }
    p = hs_path_join(out_dir, "model.safetensors");
    s = p ? tr_safetensors_write(p, ts, m->n_tensors, dtype) : HS_ERR_NOMEM;
    free(p); free(ts);
    return s;
}
