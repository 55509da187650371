/* model.c — loading a HuggingFace model folder: config.json, safetensors (single or
 * sharded), conversion to TransformerLens weights, processing, rotary tables. */
#include "model/model_internal.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <pthread.h>

static const hs_arch_ops *const arches[] = {&hs_arch_gpt_neox, &hs_arch_gpt2, &hs_arch_llama, &hs_arch_mistral, &hs_arch_qwen2};

hs_model_params hs_model_default_params(void) {
    return (hs_model_params){.fold_ln = true, .center_writing_weights = true, .center_unembed = true, .fold_value_biases = true};
}

hs_model_params hs_model_no_processing_params(void) { return (hs_model_params){0}; }

hs_status hs_json_int(const cJSON *root, const char *path, const char *key, int *out, bool required) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, key);
    if (!v || cJSON_IsNull(v)) return required ? hs_errorf(HS_ERR_FORMAT, "%s: missing field \"%s\"", path, key) : HS_OK;
    /* range first: converting a double beyond int's range to int is undefined */
    if (!cJSON_IsNumber(v) || !(v->valuedouble >= 0 && v->valuedouble <= 1e9) || v->valuedouble != (double)(int)v->valuedouble)
        return hs_errorf(HS_ERR_FORMAT, "%s: field \"%s\" must be a non-negative integer", path, key);
    *out = (int)v->valuedouble;
    return HS_OK;
}

hs_status hs_json_float(const cJSON *root, const char *path, const char *key, float *out, bool required) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, key);
    if (!v || cJSON_IsNull(v)) return required ? hs_errorf(HS_ERR_FORMAT, "%s: missing field \"%s\"", path, key) : HS_OK;
    if (!cJSON_IsNumber(v) || !isfinite((float)v->valuedouble))
        return hs_errorf(HS_ERR_FORMAT, "%s: field \"%s\" must be a finite number", path, key);
    *out = (float)v->valuedouble;
    return HS_OK;
}

static const hs_arch_ops *find_arch(const char *model_type) {
    for (size_t i = 0; i < sizeof arches / sizeof *arches; i++)
        if (!strcmp(arches[i]->model_type, model_type)) return arches[i];
    return NULL;
}

static hs_status read_config(const char *dir, hs_model_config *cfg, const hs_arch_ops **ops) {
    memset(cfg, 0, sizeof *cfg);
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
        return hs_errorf(HS_ERR_IO, "%s: not a readable model folder", dir);
    char *path = hs_path_join(dir, "config.json");
    if (!path) return HS_ERR_NOMEM;
    char *text;
    size_t len;
    hs_status s = hs_read_file(path, 16u << 20, &text, &len);
    if (s) { free(path); return s; }
    cJSON *root = cJSON_ParseWithLength(text, len);
    free(text);
    if (!root || !cJSON_IsObject(root)) {
        cJSON_Delete(root);
        s = hs_errorf(HS_ERR_FORMAT, "%s: not a JSON object", path);
        free(path);
        return s;
    }
    const cJSON *mt = cJSON_GetObjectItemCaseSensitive(root, "model_type");
    if (!cJSON_IsString(mt)) s = hs_errorf(HS_ERR_FORMAT, "%s: missing string field \"model_type\"", path);
    else if (!strncmp(mt->valuestring, "gemma", 5))
        s = hs_errorf(HS_ERR_UNSUPPORTED, "%s: model_type \"%s\" is not supported: Gemma is a different family ((1+w) RMSNorm, "
                      "sqrt(d) embedding scale, tanh-GELU), not the Llama architecture", path, mt->valuestring);
    else if (!(*ops = find_arch(mt->valuestring)))
        s = hs_errorf(HS_ERR_UNSUPPORTED, "%s: model_type \"%s\" is not supported (supported: gpt_neox, gpt2, llama, mistral, qwen2)",
                      path, mt->valuestring);
    if (!s) {
        snprintf(cfg->model_type, sizeof cfg->model_type, "%s", mt->valuestring);
        cfg->arch = (*ops)->arch;
        cfg->default_prepend_bos = true;
        s = (*ops)->parse_config(root, path, cfg);
        if (!cfg->n_kv_heads) cfg->n_kv_heads = cfg->n_heads;
    }
    if (!s && (cfg->n_layers < 1 || cfg->d_model < 1 || cfg->d_mlp < 1 || cfg->d_vocab < 1 || cfg->n_ctx < 1 ||
               (int64_t)cfg->d_vocab * cfg->d_model > ((int64_t)1 << 34)))
        s = hs_errorf(HS_ERR_FORMAT, "%s: sizes out of range (layers %d, hidden %d, mlp %d, vocab %d, positions %d)", path,
                      cfg->n_layers, cfg->d_model, cfg->d_mlp, cfg->d_vocab, cfg->n_ctx);
    cJSON_Delete(root);
    free(path);
    return s;
}

hs_status hs_model_read_config(const char *dir, hs_model_config *out) {
    const hs_arch_ops *ops;
    return read_config(dir, out, &ops);
}

/* ----------------------------------------------------------------- weights arena */
size_t hs_weights_floats(const hs_model_config *c) {
    size_t M = (size_t)c->d_model, H = (size_t)c->n_heads, D = (size_t)c->d_head, F = (size_t)c->d_mlp, V = (size_t)c->d_vocab;
    size_t KV = (size_t)(c->n_kv_heads ? c->n_kv_heads : c->n_heads), gate = c->gated_mlp ? M * F + F : 0;
    size_t per_layer = (H + 2 * KV) * M * D + (H + 2 * KV) * D + H * D * M + M + gate + M * F + F + F * M + M + 4 * M;
    size_t pos = c->rotary_dim ? 0 : (size_t)c->n_ctx * M;
    return V * M + pos + M * V + V + 2 * M + (size_t)c->n_layers * per_layer;
}

void hs_weights_carve(const hs_model_config *c, float *p, hs_weights *w) {
    size_t M = (size_t)c->d_model, H = (size_t)c->n_heads, D = (size_t)c->d_head, F = (size_t)c->d_mlp, V = (size_t)c->d_vocab;
    size_t KV = (size_t)(c->n_kv_heads ? c->n_kv_heads : c->n_heads);
#define TAKE(ptr, n) (ptr = p, p += (n))
    TAKE(w->W_E, V * M);
    w->W_pos = NULL;
    if (!c->rotary_dim) TAKE(w->W_pos, (size_t)c->n_ctx * M);
    TAKE(w->W_U, M * V);
    TAKE(w->b_U, V);
    TAKE(w->lnf_w, M);
    TAKE(w->lnf_b, M);
    for (int l = 0; l < c->n_layers; l++) {
        hs_layer *L = &w->layers[l];
        TAKE(L->W_Q, H * M * D); TAKE(L->W_K, KV * M * D); TAKE(L->W_V, KV * M * D);
        TAKE(L->b_Q, H * D); TAKE(L->b_K, KV * D); TAKE(L->b_V, KV * D);
        TAKE(L->W_O, H * D * M); TAKE(L->b_O, M);
        L->W_gate = L->b_gate = NULL;
        if (c->gated_mlp) { TAKE(L->W_gate, M * F); TAKE(L->b_gate, F); }
        TAKE(L->W_in, M * F); TAKE(L->b_in, F); TAKE(L->W_out, F * M); TAKE(L->b_out, M);
        TAKE(L->ln1_w, M); TAKE(L->ln1_b, M); TAKE(L->ln2_w, M); TAKE(L->ln2_b, M);
    }
#undef TAKE
}

/* ----------------------------------------------------------------- tensor source */
hs_status hs_source_get(const hs_tensor_source *src, const char *name, int ndim, const int64_t *shape,
                        const hs_safetensors **file, const hs_st_tensor **t) {
    for (int i = 0; i < src->n_files; i++) {
        const hs_st_tensor *x = hs_st_find(&src->files[i], name);
        if (!x) continue;
        bool ok = x->ndim == ndim;
        for (int k = 0; ok && k < ndim; k++) ok = x->shape[k] == shape[k];
        if (!ok) {
            char got[128] = "", want[128] = "";
            for (int k = 0; k < x->ndim; k++) snprintf(got + strlen(got), sizeof got - strlen(got), "%s%lld", k ? ", " : "", (long long)x->shape[k]);
            for (int k = 0; k < ndim; k++) snprintf(want + strlen(want), sizeof want - strlen(want), "%s%lld", k ? ", " : "", (long long)shape[k]);
            return hs_errorf(HS_ERR_FORMAT, "%s: tensor '%s' has shape [%s], config.json implies [%s]", src->files[i].path, name, got, want);
        }
        *file = &src->files[i];
        *t = x;
        return HS_OK;
    }
    return hs_errorf(HS_ERR_FORMAT, "%s: required tensor '%s' is missing", src->n_files ? src->files[0].path : "checkpoint", name);
}

hs_status hs_source_read(const hs_tensor_source *src, const char *name, int ndim, const int64_t *shape, float *dst) {
    const hs_safetensors *f;
    const hs_st_tensor *t;
    hs_status s = hs_source_get(src, name, ndim, shape, &f, &t);
    if (s) return s;
    return hs_st_to_f32(f, t, dst);
}

static void close_source(hs_tensor_source *src) {
    for (int i = 0; i < src->n_files; i++) hs_st_close(&src->files[i]);
    free(src->files);
    src->files = NULL;
    src->n_files = 0;
}

/* model.safetensors, or model.safetensors.index.json naming the shards. */
static hs_status open_source(const char *dir, hs_tensor_source *src) {
    memset(src, 0, sizeof *src);
    char *single = hs_path_join(dir, "model.safetensors");
    char *index = hs_path_join(dir, "model.safetensors.index.json");
    if (!single || !index) { free(single); free(index); return HS_ERR_NOMEM; }
    struct stat st;
    hs_status s = HS_OK;
    if (stat(single, &st) == 0) {
        src->files = hs_calloc(1, sizeof *src->files);
        if (!src->files) s = HS_ERR_NOMEM;
        else if (!(s = hs_st_open(single, &src->files[0]))) src->n_files = 1;
    } else if (stat(index, &st) == 0) {
        char *text;
        size_t len;
        s = hs_read_file(index, 64u << 20, &text, &len);
        cJSON *root = s ? NULL : cJSON_ParseWithLength(text, len);
        if (!s) free(text);
        const cJSON *map = root ? cJSON_GetObjectItemCaseSensitive(root, "weight_map") : NULL;
        if (!s && !cJSON_IsObject(map)) s = hs_errorf(HS_ERR_FORMAT, "%s: missing object \"weight_map\"", index);
        /* distinct shard file names, in first-seen order */
        int n = s ? 0 : cJSON_GetArraySize(map);
        char **names = s ? NULL : hs_calloc((size_t)(n ? n : 1), sizeof *names);
        int nf = 0;
        if (!s && !names) s = HS_ERR_NOMEM;
        for (const cJSON *e = s ? NULL : map->child; e && !s; e = e->next) {
            if (!cJSON_IsString(e) || strchr(e->valuestring, '/') || !strcmp(e->valuestring, "..")) {
                s = hs_errorf(HS_ERR_FORMAT, "%s: weight_map entry '%s' is not a file name in the folder", index, e->string);
                break;
            }
            bool seen = false;
            for (int i = 0; i < nf && !seen; i++) seen = !strcmp(names[i], e->valuestring);
            if (!seen) names[nf++] = e->valuestring;
        }
        if (!s) {
            src->files = hs_calloc((size_t)(nf ? nf : 1), sizeof *src->files);
            if (!src->files) s = HS_ERR_NOMEM;
        }
        for (int i = 0; i < nf && !s; i++) {
            char *p = hs_path_join(dir, names[i]);
            if (!p) { s = HS_ERR_NOMEM; break; }
            s = hs_st_open(p, &src->files[i]);
            free(p);
            if (!s) src->n_files++;
        }
        /* every mapped tensor must be in the file the index names */
        for (const cJSON *e = s ? NULL : map->child; e && !s; e = e->next) {
            for (int i = 0; i < src->n_files; i++) {
                const char *base = strrchr(src->files[i].path, '/');
                base = base ? base + 1 : src->files[i].path;
                if (!strcmp(base, e->valuestring) && !hs_st_find(&src->files[i], e->string))
                    s = hs_errorf(HS_ERR_FORMAT, "%s: tensor '%s' is not in %s as the index says", index, e->string, e->valuestring);
            }
        }
        free(names);
        cJSON_Delete(root);
    } else {
        char *bin = hs_path_join(dir, "pytorch_model.bin");
        bool has_bin = bin && stat(bin, &st) == 0;
        free(bin);
        s = has_bin ? hs_errorf(HS_ERR_UNSUPPORTED, "%s: only pytorch_model.bin is present; headscan reads model.safetensors "
                                                    "(convert it, or fetch the safetensors revision)", dir)
                    : hs_errorf(HS_ERR_NOT_FOUND, "%s: no model.safetensors or model.safetensors.index.json", dir);
    }
    free(single);
    free(index);
    if (s) close_source(src);
    return s;
}

void hs_rope_tables(const hs_model_config *c, int n_pos, int seq_len, float *sin_t, float *cos_t) {
    /* HF (llama.md §4): inv_freq[i] = 1 / θ^(2i/R), scaled per rope_type; angle = p · inv_freq.
     * In double, rounded once: the tables are the exact values to float32 precision. */
    const int R = c->rotary_dim, half = R / 2;
    double theta = c->rotary_base, f = c->rope_factor;
    if (c->rope_type == HS_ROPE_DYNAMIC && seq_len > c->n_ctx)   /* NTK-aware: only beyond max_position_embeddings */
        theta *= pow(f * seq_len / c->n_ctx - (f - 1), (double)R / (R - 2));
    for (int i = 0; i < half; i++) {
        double inv = 1.0 / pow(theta, 2.0 * i / R);
        if (c->rope_type == HS_ROPE_LINEAR) inv /= f;
        else if (c->rope_type == HS_ROPE_LLAMA3) {
            const double N0 = c->rope_original_max_pos, lo = c->rope_low_freq_factor, hi = c->rope_high_freq_factor;
            const double wavelen = 2 * 3.14159265358979323846 / inv;
            if (wavelen > N0 / lo) inv /= f;
            else if (!(wavelen < N0 / hi)) {
                double sm = (N0 / wavelen - lo) / (hi - lo);
                inv = (1 - sm) * inv / f + sm * inv;
            }
        }
        for (int p = 0; p < n_pos; p++) {
            double a = (double)p * inv;
            size_t o = (size_t)p * R;
            sin_t[o + i] = sin_t[o + i + half] = (float)sin(a);
            cos_t[o + i] = cos_t[o + i + half] = (float)cos(a);
        }
    }
}

static void build_rotary(hs_model *m) {
    int R = m->cfg.rotary_dim, half = R / 2, N = m->rot_n;
    if (m->cfg.arch == HS_ARCH_LLAMA) {
        hs_rope_tables(&m->cfg, N, N, m->rot_sin, m->rot_cos);
        return;
    }
    /* TL (model.md §6): freq[i] = base ** (i / (R/2)) in float32, angle = p / freq (float32 division). */
    for (int p = 0; p < N; p++)
        for (int j = 0; j < R; j++) {
            int i = j % half;
            float freq = powf(m->cfg.rotary_base, (float)i / (float)half);
            float angle = (float)p / freq;
            m->rot_sin[(size_t)p * R + j] = sinf(angle);
            m->rot_cos[(size_t)p * R + j] = cosf(angle);
        }
}

static hs_status pack_qkv(hs_model *m) {
    const hs_model_config *c = &m->cfg;
    const size_t M = (size_t)c->d_model, D = (size_t)c->d_head, H = (size_t)c->n_heads, KV = (size_t)c->n_kv_heads;
    const size_t W = (H + 2 * KV) * D;   /* packed width */
    m->qkv = hs_calloc((size_t)c->n_layers, sizeof *m->qkv);
    m->qkv_arena = m->qkv ? hs_aligned_alloc(sizeof(float) * (size_t)c->n_layers * (M * W + W)) : NULL;
    if (!m->qkv_arena) return HS_ERR_NOMEM;
    float *p = m->qkv_arena;
    for (int l = 0; l < c->n_layers; l++) {
        const hs_layer *L = &m->w.layers[l];
        hs_qkv_packed *q = &m->qkv[l];
        q->W = p;
        p += M * W;
        q->b = p;
        p += W;
        const float *src[3] = {L->W_Q, L->W_K, L->W_V}, *bsrc[3] = {L->b_Q, L->b_K, L->b_V};
        const size_t G[3] = {H, KV, KV}, off[3] = {0, H * D, (H + KV) * D};
        for (int x = 0; x < 3; x++) {
            for (size_t h = 0; h < G[x]; h++)
                for (size_t mm = 0; mm < M; mm++)
                    memcpy(q->W + mm * W + off[x] + h * D, src[x] + (h * M + mm) * D, sizeof(float) * D);
            memcpy(q->b + off[x], bsrc[x], sizeof(float) * G[x] * D);
        }
    }
    return HS_OK;
}

hs_status hs_model_load(const char *dir, const hs_model_params *params, hs_model **out) {
    *out = NULL;
    hs__blas_init();   /* also links blas.c's constructor into static programs */
    hs_model *m = hs_calloc(1, sizeof *m);
    if (!m) return HS_ERR_NOMEM;
    m->params = params ? *params : hs_model_default_params();
    const hs_arch_ops *ops = NULL;
    hs_tensor_source src = {0};
    hs_status s = read_config(dir, &m->cfg, &ops);
    if (!s && !(m->dir = hs_strdup(dir))) s = HS_ERR_NOMEM;
    if (!s) s = open_source(dir, &src);
    if (!s) {
        /* dtype of the largest tensor; parameter count; unknown tensors are logged */
        size_t biggest = 0;
        m->cfg.file_dtype = HS_F32;
        for (int i = 0; i < src.n_files; i++)
            for (int k = 0; k < src.files[i].n_tensors; k++) {
                const hs_st_tensor *t = &src.files[i].tensors[k];
                if (ops->is_ignored(t->name)) continue;
                m->cfg.n_params += t->numel;
                if (t->nbytes > biggest) { biggest = t->nbytes; m->cfg.file_dtype = t->dtype; }
            }
    }
    if (!s && !ops->convert) {   /* Llama family: big weights kept as stored */
        m->w.layers = hs_calloc((size_t)m->cfg.n_layers, sizeof *m->w.layers);
        m->st = m->w.layers ? hs_calloc(1, sizeof *m->st) : NULL;
        s = m->st ? hs_llama_load_stored(&src, m) : HS_ERR_NOMEM;
    } else if (!s) {
        size_t nf = hs_weights_floats(&m->cfg);
        m->w.layers = hs_calloc((size_t)m->cfg.n_layers, sizeof *m->w.layers);
        m->arena_bytes = nf * sizeof(float);
        m->arena = m->w.layers ? hs_aligned_alloc(m->arena_bytes) : NULL;
        if (!m->arena) s = hs_error_prefix(HS_ERR_NOMEM, "%s: weights need %zu MB", dir, m->arena_bytes >> 20);
        else hs_weights_carve(&m->cfg, m->arena, &m->w);
    }
    if (!s && ops->convert) s = ops->convert(&src, &m->cfg, &m->w);
    close_source(&src);
    if (!s && !m->st) hs_process_weights(&m->cfg, &m->params, &m->w);
    if (!s && m->cfg.rotary_dim) {
        /* Llama-3's 131072 positions would be 67 MB of tables: build what a forward can use */
        m->rot_n = m->cfg.n_ctx < HS_ROTARY_MAX_POS ? m->cfg.n_ctx : HS_ROTARY_MAX_POS;
        size_t n = (size_t)m->rot_n * (size_t)m->cfg.rotary_dim;
        m->rot_sin = hs_aligned_alloc(n * sizeof(float));
        m->rot_cos = hs_aligned_alloc(n * sizeof(float));
        if (!m->rot_sin || !m->rot_cos) s = HS_ERR_NOMEM;
        else build_rotary(m);
    }
    if (!s && !m->st) s = pack_qkv(m);
    if (!s && !(m->rep_lock = hs_calloc(1, sizeof *m->rep_lock))) s = HS_ERR_NOMEM;
    if (!s && !(m->rep_lock->rep = hs_calloc((size_t)m->cfg.n_layers * 4, sizeof(float *)))) s = HS_ERR_NOMEM;
    if (!s) pthread_mutex_init(&m->rep_lock->mu, NULL);
    if (!s && m->st) s = hs_process_stored(m);
    if (s) {
        hs_model_free(m);
        return s;
    }
    *out = m;
    return HS_OK;
}

void hs_model_free(hs_model *m) {
    if (!m) return;
    hs_aligned_free(m->arena);
    hs_aligned_free(m->rot_sin);
    hs_aligned_free(m->rot_cos);
    hs_aligned_free(m->qkv_arena);
    free(m->qkv);
    if (m->rep_lock && m->rep_lock->rep) {
        for (int i = 0; i < m->cfg.n_layers * 4; i++) hs_aligned_free(m->rep_lock->rep[i]);
        pthread_mutex_destroy(&m->rep_lock->mu);
    }
    if (m->rep_lock) {
        free(m->rep_lock->rep);
        for (int i = 0; i < m->rep_lock->n_mat; i++) hs_aligned_free(m->rep_lock->mat[i].data);
        free(m->rep_lock->mat);
    }
    if (m->rep_lock) hs_bf16_weights_free(m->rep_lock->bf16);
    free(m->rep_lock);
    if (m->st) {
        hs_aligned_free(m->st->embed.data);
        hs_aligned_free(m->st->head.data);
        for (int i = 0; m->st->layers && i < m->cfg.n_layers * ST_PER_LAYER; i++) hs_aligned_free(m->st->layers[i].data);
        free(m->st->layers);
        hs_aligned_free(m->st->mu);
        free(m->st);
    }
    free(m->w.layers);
    free(m->dir);
    free(m);
}

const char *hs_model_error(const hs_model *m) { return m ? m->err : hs_last_error(); }
const hs_model_config *hs_model_get_config(const hs_model *m) { return &m->cfg; }
const char *hs_model_dir(const hs_model *m) { return m->dir; }

static void set_view(hs_array *v, float *data, int ndim, int64_t a, int64_t b, int64_t c) {
    v->dtype = HS_F32;
    v->ndim = ndim;
    v->shape[0] = a;
    v->shape[1] = b;
    v->shape[2] = c;
    v->data = data;
}

/* TL's W_K / W_V / b_K / b_V properties repeat the KV groups per query head
 * (repeat_interleave): materialised once, on first request, and kept with the model. */
static float *repeated(const hs_model *m, int l, int which, const float *src, size_t per_group) {
    const hs_model_config *c = &m->cfg;
    const int G = c->n_heads / c->n_kv_heads;
    pthread_mutex_lock(&m->rep_lock->mu);
    float **slot = &m->rep_lock->rep[(size_t)l * 4 + which];
    if (!*slot && (*slot = hs_aligned_alloc(sizeof(float) * per_group * (size_t)c->n_heads)))
        for (int h = 0; h < c->n_heads; h++) memcpy(*slot + (size_t)h * per_group, src + (size_t)(h / G) * per_group, sizeof(float) * per_group);
    float *r = *slot;
    pthread_mutex_unlock(&m->rep_lock->mu);
    return r;
}

hs_status hs_model_weight(const hs_model *m, const char *name, hs_array *v) {
    const hs_model_config *c = &m->cfg;
    int64_t M = c->d_model, H = c->n_heads, KV = c->n_kv_heads, D = c->d_head, F = c->d_mlp, V = c->d_vocab;
    memset(v, 0, sizeof *v);
    if (m->st) {   /* weights kept as stored: the big ones are materialised on request */
        float *data;
        int nd;
        int64_t shp[3];
        hs_status s = hs_stored_weight(m, name, &data, &nd, shp);
        if (s == HS_OK) { set_view(v, data, nd, shp[0], shp[1], nd > 2 ? shp[2] : 0); return HS_OK; }
        if (s != HS_ERR_NOT_FOUND) return s;
    }
    if (!strcmp(name, "W_E")) { set_view(v, m->w.W_E, 2, V, M, 0); return HS_OK; }
    if (!strcmp(name, "W_U")) { set_view(v, m->w.W_U, 2, M, V, 0); return HS_OK; }
    if (!strcmp(name, "b_U")) { set_view(v, m->w.b_U, 1, V, 0, 0); return HS_OK; }
    if (!strcmp(name, "W_pos") && m->w.W_pos) { set_view(v, m->w.W_pos, 2, c->n_ctx, M, 0); return HS_OK; }
    if (!m->params.fold_ln && !strcmp(name, "ln_final.w")) { set_view(v, m->w.lnf_w, 1, M, 0, 0); return HS_OK; }
    if (!m->params.fold_ln && !c->rms_norm && !strcmp(name, "ln_final.b")) { set_view(v, m->w.lnf_b, 1, M, 0, 0); return HS_OK; }
    int l, n = 0;
    char rest[64];
    if (sscanf(name, "blocks.%d.%63s%n", &l, rest, &n) == 2 && name[n] == 0 && l >= 0 && l < c->n_layers) {
        const hs_layer *L = &m->w.layers[l];
        if (!strcmp(rest, "attn.W_Q")) { set_view(v, L->W_Q, 3, H, M, D); return HS_OK; }
        if (!strcmp(rest, "attn.b_Q")) { set_view(v, L->b_Q, 2, H, D, 0); return HS_OK; }
        /* grouped: "_W_K" [KV, M, D] as stored, "W_K" [H, M, D] repeated per query head */
        static const char *kv[4] = {"attn.W_K", "attn.W_V", "attn.b_K", "attn.b_V"};
        float *kvp[4] = {L->W_K, L->W_V, L->b_K, L->b_V};
        for (int i = 0; i < 4; i++) {
            const bool is_w = i < 2;
            const size_t per = is_w ? (size_t)(M * D) : (size_t)D;
            float *data = NULL;
            int64_t groups = 0;
            if (rest[0] == 'a' && !strncmp(rest, "attn._", 6) && !strcmp(rest + 6, kv[i] + 5)) { data = kvp[i]; groups = KV; }
            else if (!strcmp(rest, kv[i])) {
                data = KV == H ? kvp[i] : repeated(m, l, i, kvp[i], per);
                if (!data) return HS_ERR_NOMEM;
                groups = H;
            }
            if (data) {
                if (is_w) set_view(v, data, 3, groups, M, D);
                else set_view(v, data, 2, groups, D, 0);
                return HS_OK;
            }
        }
        if (!strcmp(rest, "attn.W_O")) { set_view(v, L->W_O, 3, H, D, M); return HS_OK; }
        if (!strcmp(rest, "attn.b_O")) { set_view(v, L->b_O, 1, M, 0, 0); return HS_OK; }
        if (c->gated_mlp && !strcmp(rest, "mlp.W_gate")) { set_view(v, L->W_gate, 2, M, F, 0); return HS_OK; }
        if (c->gated_mlp && !strcmp(rest, "mlp.b_gate")) { set_view(v, L->b_gate, 1, F, 0, 0); return HS_OK; }
        if (!strcmp(rest, "mlp.W_in")) { set_view(v, L->W_in, 2, M, F, 0); return HS_OK; }
        /* gated MLP: up_proj's bias is "b_up" (inside the product); TL's b_in (after it) is always 0 */
        if (!strcmp(rest, c->gated_mlp ? "mlp.b_up" : "mlp.b_in")) { set_view(v, L->b_in, 1, F, 0, 0); return HS_OK; }
        if (!strcmp(rest, "mlp.W_out")) { set_view(v, L->W_out, 2, F, M, 0); return HS_OK; }
        if (!strcmp(rest, "mlp.b_out")) { set_view(v, L->b_out, 1, M, 0, 0); return HS_OK; }
        if (!m->params.fold_ln) {
            if (!strcmp(rest, "ln1.w")) { set_view(v, L->ln1_w, 1, M, 0, 0); return HS_OK; }
            if (!strcmp(rest, "ln2.w")) { set_view(v, L->ln2_w, 1, M, 0, 0); return HS_OK; }
            if (!c->rms_norm && !strcmp(rest, "ln1.b")) { set_view(v, L->ln1_b, 1, M, 0, 0); return HS_OK; }
            if (!c->rms_norm && !strcmp(rest, "ln2.b")) { set_view(v, L->ln2_b, 1, M, 0, 0); return HS_OK; }
        }
    }
    return hs_errorf(HS_ERR_NOT_FOUND, "%s: no weight named '%s'", m->dir, name);
}

hs_memory_estimate hs_model_estimate_memory(const hs_model_config *c, int B, int T) {
    struct { size_t weights, workspace, total, workspace_extra; } e = {0};
    size_t HD3 = ((size_t)c->n_heads + 2 * (size_t)(c->n_kv_heads ? c->n_kv_heads : c->n_heads)) * c->d_head;
    size_t rot_n = (size_t)(c->n_ctx < HS_ROTARY_MAX_POS ? c->n_ctx : HS_ROTARY_MAX_POS);
    e.weights = hs_weights_floats(c) * sizeof(float) + (c->rotary_dim ? 2 * rot_n * c->rotary_dim * sizeof(float) : 0) +
                (size_t)c->n_layers * (HD3 * c->d_model + HD3) * sizeof(float);
    if (c->arch == HS_ARCH_LLAMA) {   /* kept as stored (file dtype; F32 when unknown) + small float32 weights */
        size_t esz = c->file_dtype == HS_F16 || c->file_dtype == HS_BF16 ? 2 : 4, M = (size_t)c->d_model, F = (size_t)c->d_mlp;
        size_t big = (size_t)c->d_vocab * M * (c->tied_embeddings ? 1 : 2) +
                     (size_t)c->n_layers * (HD3 * M + (size_t)c->n_heads * c->d_head * M + 3 * F * M);
        e.weights = big * esz + ((size_t)c->d_vocab + (size_t)c->n_layers * (HD3 + 6 * M + 2 * F)) * sizeof(float) +
                    2 * rot_n * c->rotary_dim * sizeof(float);
        size_t scratch = HD3 * M > F * M ? HD3 * M : F * M;
        e.workspace_extra = scratch * sizeof(float);
    }
    size_t BT = (size_t)B * T, M = (size_t)c->d_model, F = (size_t)c->d_mlp, H = (size_t)c->n_heads;
    int threads = hs_get_num_threads();
    size_t HD = H * (size_t)c->d_head;
    /* resid, ln1, ln2, attn_out, mlp_out, resid_mid: M each; q k v rq rk z: H·D each; mlp pre/post
       (and pre_linear when gated); pattern; scales; one logits row-block per sequence [T, V]; per-thread scratch;
       the loss's per-token state */
    e.workspace = sizeof(float) * (BT * M * 6 + BT * HD * 6 + BT * (F > HD3 ? F : HD3) + BT * F * (c->gated_mlp ? 2 : 1) +
                                   (size_t)B * H * T * T + BT * 4 + (size_t)T * c->d_vocab + (size_t)threads * 64) +
                  BT * (sizeof(float) + 16);   /* the loss's next-token logit and log-sum-exp (forward.c lse_acc) */
    e.workspace += e.workspace_extra;
    e.total = e.weights + e.workspace;
    return (hs_memory_estimate){.weights = e.weights, .workspace = e.workspace, .total = e.total};
}
