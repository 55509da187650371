/* headscan_module.c — headscan._headscan: the CPython extension over the public
 * libheadscan API (include/headscan/). The Python layer (python/headscan/__init__.py)
 * gives it TransformerLens's shape; this file only moves data and errors across.
 *
 * Threads and signals: every long call releases the GIL. Ctrl-C is noticed through the
 * library's own cancellation points — the forward pass's hook (asked ~20 times per
 * layer) and the scan's progress callback (per batch / per head) — which briefly take the
 * GIL and run PyErr_CheckSignals(); a pending KeyboardInterrupt stops the call
 * (HS_ERR_CANCELLED) and is re-raised as it is. Nothing is written by a cancelled call.
 *
 * Memory: arrays returned to Python are numpy-owned copies, except the scan result's
 * arrays (read-only views kept alive by a reference to the result object). */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <pythread.h>
#define NPY_NO_DEPRECATED_API NPY_1_7_API_VERSION
#include <numpy/arrayobject.h>
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include "headscan/headscan.h"

static PyObject *HsError;   /* headscan.Error (RuntimeError) */

/* Raises the Python exception for a failed headscan call. An exception already set (a
 * KeyboardInterrupt seen by a callback, an error raised in a Python callback) wins. */
static PyObject *raise_hs(hs_status s, const char *msg) {
    if (PyErr_Occurred()) return NULL;
    const char *m = msg && *msg ? msg : hs_status_str(s);
    PyObject *type = HsError;
    if (s == HS_ERR_INVALID_ARG) type = PyExc_ValueError;
    else if (s == HS_ERR_NOT_FOUND || (s == HS_ERR_IO && strstr(m, strerror(ENOENT)))) type = PyExc_FileNotFoundError;
    else if (s == HS_ERR_NOMEM) type = PyExc_MemoryError;
    else if (s == HS_ERR_CANCELLED) type = PyExc_KeyboardInterrupt;
    PyErr_SetString(type, m);
    return NULL;
}

static double mono(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* A C-contiguous int64 [N, T] copy of any integer array-like (new reference). */
static PyArrayObject *tokens_2d(PyObject *obj) {
    PyArrayObject *a = (PyArrayObject *)PyArray_FROMANY(obj, NPY_INT64, 1, 2, NPY_ARRAY_C_CONTIGUOUS | NPY_ARRAY_ALIGNED);
    if (!a) return NULL;
    if (PyArray_NDIM(a) == 1) {
        npy_intp d[2] = {1, PyArray_DIM(a, 0)};
        PyArray_Dims nd = {d, 2};
        PyArrayObject *b = (PyArrayObject *)PyArray_Newshape(a, &nd, NPY_CORDER);
        Py_DECREF(a);
        a = b;
    }
    return a;
}

/* Objects made with __new__ but never initialised must not reach the library. */
#define NEED(ptr, what) do { if (!(ptr)) { PyErr_SetString(PyExc_ValueError, what " is not initialised"); return NULL; } } while (0)

/* ============================================================== Tokenizer */
typedef struct {
    PyObject_HEAD
    hs_tokenizer *tok;
    PyObject *path;
} TokObject;

static void tok_dealloc(TokObject *self) {
    hs_tokenizer_free(self->tok);
    Py_XDECREF(self->path);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static int tok_init(TokObject *self, PyObject *args, PyObject *kw) {
    static char *kwl[] = {"path", NULL};
    PyObject *p;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "O&", kwl, PyUnicode_FSDecoder, &p)) return -1;
    PyObject *b = PyUnicode_EncodeFSDefault(p);
    if (!b) { Py_DECREF(p); return -1; }
    hs_tokenizer *t = NULL;
    hs_status s;
    Py_BEGIN_ALLOW_THREADS
    s = hs_tokenizer_load(PyBytes_AS_STRING(b), &t);
    Py_END_ALLOW_THREADS
    Py_DECREF(b);
    if (s) { Py_DECREF(p); raise_hs(s, hs_last_error()); return -1; }
    hs_tokenizer_free(self->tok);
    Py_XSETREF(self->path, p);
    self->tok = t;
    return 0;
}

static PyObject *ids_list(const hs_ids *ids) {
    PyObject *l = PyList_New((Py_ssize_t)ids->len);
    for (size_t i = 0; l && i < ids->len; i++) PyList_SET_ITEM(l, (Py_ssize_t)i, PyLong_FromLong(ids->data[i]));
    return l;
}

/* encode(text, prepend_bos=False) -> list[int] */
static PyObject *tok_encode(TokObject *self, PyObject *args, PyObject *kw) {
    NEED(self->tok, "the tokenizer");
    static char *kwl[] = {"text", "prepend_bos", NULL};
    const char *text;
    Py_ssize_t len;
    int bos = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "s#|p", kwl, &text, &len, &bos)) return NULL;
    hs_ids ids = {0};
    hs_status s;
    Py_BEGIN_ALLOW_THREADS
    s = hs_tokenizer_to_tokens(self->tok, text, (size_t)len, bos, HS_UTF8_STRICT, &ids);
    Py_END_ALLOW_THREADS
    if (s) { hs_ids_free(&ids); return raise_hs(s, hs_last_error()); }
    PyObject *l = ids_list(&ids);
    hs_ids_free(&ids);
    return l;
}

/* encode_batch(list[str], prepend_bos=False) -> list[list[int]] (texts encoded on all cores) */
static PyObject *tok_encode_batch(TokObject *self, PyObject *args, PyObject *kw) {
    NEED(self->tok, "the tokenizer");
    static char *kwl[] = {"texts", "prepend_bos", NULL};
    PyObject *texts;
    int bos = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "O|p", kwl, &texts, &bos)) return NULL;
    PyObject *seq = PySequence_Fast(texts, "texts must be a sequence of str");
    if (!seq) return NULL;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
    const char **p = PyMem_Calloc((size_t)n + 1, sizeof *p);
    size_t *lens = PyMem_Calloc((size_t)n + 1, sizeof *lens);
    hs_ids *outs = PyMem_Calloc((size_t)n + 1, sizeof *outs);
    PyObject *res = NULL;
    if (!p || !lens || !outs) { PyErr_NoMemory(); goto done; }
    for (Py_ssize_t i = 0; i < n; i++) {
        Py_ssize_t l;
        PyObject *it = PySequence_Fast_GET_ITEM(seq, i);
        if (!PyUnicode_Check(it)) { PyErr_Format(PyExc_TypeError, "texts[%zd] is not a str", i); goto done; }
        if (!(p[i] = PyUnicode_AsUTF8AndSize(it, &l))) goto done;
        lens[i] = (size_t)l;
    }
    hs_status s;
    Py_BEGIN_ALLOW_THREADS
    s = hs_tokenizer_encode_batch(self->tok, p, lens, (size_t)n, HS_UTF8_STRICT, outs);
    Py_END_ALLOW_THREADS
    if (s) { raise_hs(s, hs_last_error()); goto done; }
    int32_t bos_id = hs_tokenizer_bos_id(self->tok);
    if (!(res = PyList_New(n))) goto done;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *l = PyList_New((Py_ssize_t)outs[i].len + (bos ? 1 : 0));
        if (!l) { Py_CLEAR(res); goto done; }
        Py_ssize_t k = 0;
        if (bos) PyList_SET_ITEM(l, k++, PyLong_FromLong(bos_id));
        for (size_t j = 0; j < outs[i].len; j++) PyList_SET_ITEM(l, k++, PyLong_FromLong(outs[i].data[j]));
        PyList_SET_ITEM(res, i, l);
    }
done:
    for (Py_ssize_t i = 0; outs && i < n; i++) hs_ids_free(&outs[i]);
    PyMem_Free(p); PyMem_Free(lens); PyMem_Free(outs);
    Py_DECREF(seq);
    return res;
}

/* ids of any int sequence/array as int32 (malloc'd) */
static int32_t *ids_from(PyObject *obj, size_t *n) {
    PyArrayObject *a = (PyArrayObject *)PyArray_FROMANY(obj, NPY_INT64, 0, 1, NPY_ARRAY_C_CONTIGUOUS | NPY_ARRAY_ALIGNED);
    if (!a) return NULL;
    *n = (size_t)PyArray_SIZE(a);
    int32_t *ids = PyMem_Malloc(sizeof *ids * (*n + 1));
    const int64_t *d = PyArray_DATA(a);
    for (size_t i = 0; ids && i < *n; i++) {
        if (d[i] < 0 || d[i] > INT32_MAX) {
            PyErr_Format(PyExc_ValueError, "token id %lld is out of range", (long long)d[i]);
            PyMem_Free(ids);
            Py_DECREF(a);
            return NULL;
        }
        ids[i] = (int32_t)d[i];
    }
    Py_DECREF(a);
    if (!ids) PyErr_NoMemory();
    return ids;
}

/* decode(ids) -> str (the whole sequence, special tokens kept) */
static PyObject *tok_decode(TokObject *self, PyObject *arg) {
    NEED(self->tok, "the tokenizer");
    size_t n;
    int32_t *ids = ids_from(arg, &n);
    if (!ids) return NULL;
    char *out = NULL;
    size_t len = 0;
    hs_status s = hs_tokenizer_decode(self->tok, ids, n, &out, &len);
    PyMem_Free(ids);
    if (s) return raise_hs(s, hs_last_error());
    PyObject *r = PyUnicode_DecodeUTF8(out, (Py_ssize_t)len, "replace");
    free(out);
    return r;
}

/* token_strs(ids) -> list[str]: decode([id]) per id (what to_str_tokens shows) */
static PyObject *tok_token_strs(TokObject *self, PyObject *arg) {
    NEED(self->tok, "the tokenizer");
    size_t n;
    int32_t *ids = ids_from(arg, &n);
    if (!ids) return NULL;
    PyObject *l = PyList_New((Py_ssize_t)n);
    for (size_t i = 0; l && i < n; i++) {
        char *out = NULL;
        size_t len = 0;
        hs_status s = hs_tokenizer_token_str(self->tok, ids[i], &out, &len);
        if (s) { Py_CLEAR(l); raise_hs(s, hs_last_error()); break; }
        PyObject *u = PyUnicode_DecodeUTF8(out, (Py_ssize_t)len, "replace");
        free(out);
        if (!u) { Py_CLEAR(l); break; }
        PyList_SET_ITEM(l, (Py_ssize_t)i, u);
    }
    PyMem_Free(ids);
    return l;
}

static PyObject *tok_id_to_token(TokObject *self, PyObject *arg) {
    NEED(self->tok, "the tokenizer");
    long id = PyLong_AsLong(arg);
    if (id == -1 && PyErr_Occurred()) return NULL;
    const char *t = id >= 0 && id <= INT32_MAX ? hs_tokenizer_id_to_token(self->tok, (int32_t)id) : NULL;
    if (!t) Py_RETURN_NONE;
    return PyUnicode_DecodeUTF8(t, (Py_ssize_t)strlen(t), "replace");
}

static PyObject *tok_token_to_id(TokObject *self, PyObject *arg) {
    NEED(self->tok, "the tokenizer");
    const char *t = PyUnicode_AsUTF8(arg);
    if (!t) return NULL;
    int32_t id = hs_tokenizer_token_to_id(self->tok, t);
    if (id < 0) Py_RETURN_NONE;
    return PyLong_FromLong(id);
}

static PyObject *tok_size(TokObject *self, void *c) { NEED(self->tok, "the tokenizer"); return PyLong_FromLong(hs_tokenizer_size(self->tok)); }
static PyObject *tok_bos(TokObject *self, void *c) { NEED(self->tok, "the tokenizer"); return PyLong_FromLong(hs_tokenizer_bos_id(self->tok)); }
static PyObject *tok_path(TokObject *self, void *c) { NEED(self->path, "the tokenizer"); return Py_NewRef(self->path); }

static PyMethodDef tok_methods[] = {
    {"encode", (PyCFunction)(void (*)(void))tok_encode, METH_VARARGS | METH_KEYWORDS,
     "encode(text, prepend_bos=False) -> list[int]: the ids of UTF-8 text, as HF tokenizers encodes it."},
    {"encode_batch", (PyCFunction)(void (*)(void))tok_encode_batch, METH_VARARGS | METH_KEYWORDS,
     "encode_batch(texts, prepend_bos=False) -> list[list[int]] (encoded on all cores)."},
    {"decode", (PyCFunction)tok_decode, METH_O, "decode(ids) -> str: the whole sequence (special tokens kept)."},
    {"token_strs", (PyCFunction)tok_token_strs, METH_O, "token_strs(ids) -> list[str]: decode([id]) for each id."},
    {"id_to_token", (PyCFunction)tok_id_to_token, METH_O, "id_to_token(id) -> str | None: the raw vocabulary string."},
    {"token_to_id", (PyCFunction)tok_token_to_id, METH_O, "token_to_id(token) -> int | None."},
    {NULL}};
static PyGetSetDef tok_getset[] = {
    {"vocab_size", (getter)tok_size, NULL, "ids the tokenizer knows (largest id + 1)", NULL},
    {"bos_token_id", (getter)tok_bos, NULL, "id of <|endoftext|> (BOS = EOS = pad as TransformerLens sees them)", NULL},
    {"path", (getter)tok_path, NULL, "the tokenizer.json file", NULL},
    {NULL}};

static PyTypeObject TokType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "headscan._headscan._Tokenizer",
    .tp_basicsize = sizeof(TokObject),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE,
    .tp_doc = "_Tokenizer(path): a HuggingFace tokenizer.json (byte-level BPE).",
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)tok_init,
    .tp_dealloc = (destructor)tok_dealloc,
    .tp_methods = tok_methods,
    .tp_getset = tok_getset,
};

/* ============================================================== Model */
typedef struct {
    PyObject_HEAD
    hs_model *m;
    hs_forward *fwd;          /* reused workspace, max_B x max_T */
    int max_B, max_T;
    PyThread_type_lock lock;  /* one forward at a time on the workspace */
} ModelObject;

static void model_dealloc(ModelObject *self) {
    hs_forward_free(self->fwd);
    hs_model_free(self->m);
    if (self->lock) PyThread_free_lock(self->lock);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static int model_init(ModelObject *self, PyObject *args, PyObject *kw) {
    static char *kwl[] = {"path", "fold_ln", "center_writing_weights", "center_unembed", "fold_value_biases", NULL};
    PyObject *p;
    hs_model_params mp = hs_model_default_params();
    int a = mp.fold_ln, b = mp.center_writing_weights, c = mp.center_unembed, d = mp.fold_value_biases;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "O&|pppp", kwl, PyUnicode_FSConverter, &p, &a, &b, &c, &d)) return -1;
    mp.fold_ln = a; mp.center_writing_weights = b; mp.center_unembed = c; mp.fold_value_biases = d;
    hs_model *m = NULL;
    hs_status s;
    Py_BEGIN_ALLOW_THREADS
    s = hs_model_load(PyBytes_AS_STRING(p), &mp, &m);
    Py_END_ALLOW_THREADS
    Py_DECREF(p);
    if (s) { raise_hs(s, hs_last_error()); return -1; }
    if (!self->lock && !(self->lock = PyThread_allocate_lock())) { hs_model_free(m); PyErr_NoMemory(); return -1; }
    hs_forward_free(self->fwd);
    self->fwd = NULL;
    self->max_B = self->max_T = 0;
    hs_model_free(self->m);
    self->m = m;
    return 0;
}

static PyObject *model_config(ModelObject *self, PyObject *unused) {
    NEED(self->m, "the model");
    const hs_model_config *c = hs_model_get_config(self->m);
    static const char *dt[] = {"float32", "float64", "int32", "int64", "uint8", "bool", "float16", "bfloat16"};
    return Py_BuildValue(
        "{s:s,s:s,s:i,s:i,s:i,s:i,s:i,s:i,s:i,s:i,s:f,s:f,s:O,s:s,s:i,s:i,s:s,s:L,s:O&}",
        "model_type", c->model_type, "original_architecture", c->arch == HS_ARCH_GPT2 ? "GPT2LMHeadModel" : "GPTNeoXForCausalLM",
        "n_layers", c->n_layers, "d_model", c->d_model, "n_heads", c->n_heads, "d_head", c->d_head, "d_mlp", c->d_mlp,
        "d_vocab", c->d_vocab, "n_ctx", c->n_ctx, "rotary_dim", c->rotary_dim, "rotary_base", (double)c->rotary_base,
        "eps", (double)c->ln_eps, "parallel_attn_mlp", c->parallel_residual ? Py_True : Py_False,
        "act_fn", c->act == HS_ACT_GELU_NEW ? "gelu_new" : "gelu", "bos_token_id", c->bos_id, "eos_token_id", c->eos_id,
        "file_dtype", dt[c->file_dtype < 8 ? c->file_dtype : 0], "n_params", (long long)c->n_params,
        "dir", PyUnicode_DecodeFSDefault, hs_model_dir(self->m));
}

/* weight(name) -> float32 ndarray (a copy) */
static PyObject *model_weight(ModelObject *self, PyObject *arg) {
    NEED(self->m, "the model");
    const char *name = PyUnicode_AsUTF8(arg);
    if (!name) return NULL;
    hs_array v;
    hs_status s = hs_model_weight(self->m, name, &v);
    if (s) {
        if (s == HS_ERR_NOT_FOUND) { PyErr_SetString(PyExc_KeyError, hs_last_error()); return NULL; }
        return raise_hs(s, hs_last_error());
    }
    npy_intp shape[HS_MAX_DIMS];
    for (int i = 0; i < v.ndim; i++) shape[i] = (npy_intp)v.shape[i];
    PyObject *a = PyArray_SimpleNew(v.ndim, shape, NPY_FLOAT32);
    if (a) memcpy(PyArray_DATA((PyArrayObject *)a), v.data, sizeof(float) * (size_t)hs_array_numel(&v));
    return a;
}

/* --------------------------------------------------------- the forward pass and its hooks */
typedef struct dest { char *name; float *data; size_t batch_stride; } dest;
typedef struct fwd_ctx {
    PyObject *filter;     /* callable(name) -> bool, or NULL */
    PyObject *cache;      /* dict name -> ndarray */
    int B;
    dest *dests;
    int n_dests, cap_dests;
    bool stop;            /* a Python exception is pending: stop at the next hand-over */
} fwd_ctx;

/* Asked by the forward pass on this (the calling) thread, GIL released. */
static bool fwd_hook(const hs_hook_tensor *t, bool ask, void *user) {
    fwd_ctx *c = user;
    if (!ask) {
        if (c->stop) return false;   /* HS_ERR_CANCELLED; the exception is already set */
        for (int i = 0; i < c->n_dests; i++)
            if (!strcmp(c->dests[i].name, t->name)) {
                size_t n = sizeof(float);
                for (int k = 0; k < t->ndim; k++) n *= (size_t)t->shape[k];
                memcpy(c->dests[i].data + (size_t)t->batch_offset * c->dests[i].batch_stride, t->data, n);
                return true;
            }
        return true;
    }
    if (c->stop) return true;
    PyGILState_STATE g = PyGILState_Ensure();
    bool want = false;
    if (PyErr_CheckSignals() < 0) c->stop = want = true;   /* asked, so handed over, so stopped */
    else if (c->filter && strcmp(t->name, "logits")) {       /* TransformerLens has no "logits" hook */
        PyObject *r = PyObject_CallFunction(c->filter, "s", t->name);
        int yes = r ? PyObject_IsTrue(r) : -1;
        Py_XDECREF(r);
        if (yes < 0) c->stop = want = true;
        else if (yes) {
            npy_intp shape[5];
            for (int k = 0; k < t->ndim; k++) shape[k] = (npy_intp)t->shape[k];
            shape[0] = c->B;
            PyObject *a = PyArray_SimpleNew(t->ndim, shape, NPY_FLOAT32);
            if (c->n_dests == c->cap_dests) {
                int cap = c->cap_dests ? 2 * c->cap_dests : 16;
                dest *nd = PyMem_Realloc(c->dests, sizeof *nd * (size_t)cap);
                if (nd) c->dests = nd, c->cap_dests = cap;
            }
            if (!a || c->n_dests == c->cap_dests || PyDict_SetItemString(c->cache, t->name, a) < 0) {
                if (!PyErr_Occurred()) PyErr_NoMemory();
                c->stop = want = true;
            } else {
                size_t stride = 1;
                for (int k = 1; k < t->ndim; k++) stride *= (size_t)t->shape[k];
                char *name = PyMem_Malloc(strlen(t->name) + 1);
                if (name) {
                    strcpy(name, t->name);
                    c->dests[c->n_dests++] = (dest){name, PyArray_DATA((PyArrayObject *)a), stride};
                    want = true;
                } else {
                    PyErr_NoMemory();
                    c->stop = want = true;
                }
            }
            Py_XDECREF(a);
        }
    }
    PyGILState_Release(g);
    return want;
}

/* forward(tokens, logits: bool, loss: bool, names_filter: callable | None, compute: "f32" | "bf16")
 *   -> (logits [B, T, V] | None, loss [B, T-1] | None, cache: dict) */
static PyObject *model_forward(ModelObject *self, PyObject *args, PyObject *kw) {
    NEED(self->m, "the model");
    static char *kwl[] = {"tokens", "logits", "loss", "names_filter", "compute", NULL};
    PyObject *tobj, *filter = Py_None;
    int want_logits = 1, want_loss = 0;
    const char *cname = "f32";
    hs_compute compute;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "O|ppOs", kwl, &tobj, &want_logits, &want_loss, &filter, &cname)) return NULL;
    if (hs_compute_parse(cname, &compute)) return raise_hs(HS_ERR_INVALID_ARG, hs_last_error());
    if (filter != Py_None && !PyCallable_Check(filter)) return PyErr_Format(PyExc_TypeError, "names_filter must be callable");
    PyArrayObject *tk = tokens_2d(tobj);
    if (!tk) return NULL;
    const hs_model_config *cfg = hs_model_get_config(self->m);
    const npy_intp B = PyArray_DIM(tk, 0), T = PyArray_DIM(tk, 1);
    PyObject *logits = NULL, *loss = NULL, *cache = NULL, *res = NULL;
    int32_t *ids = NULL;
    if (B < 1 || T < 1) { PyErr_SetString(PyExc_ValueError, "tokens must have at least one row and one column"); goto done; }
    if (T > cfg->n_ctx) {
        PyErr_Format(PyExc_ValueError, "%zd tokens per row is more than the model's context (n_ctx = %d)", (Py_ssize_t)T, cfg->n_ctx);
        goto done;
    }
    if (B > INT32_MAX / T) { PyErr_SetString(PyExc_ValueError, "too many tokens"); goto done; }
    if (!(ids = PyMem_Malloc(sizeof *ids * (size_t)(B * T)))) { PyErr_NoMemory(); goto done; }
    const int64_t *td = PyArray_DATA(tk);
    for (npy_intp i = 0; i < B * T; i++) {
        if (td[i] < 0 || td[i] >= cfg->d_vocab) {
            PyErr_Format(PyExc_ValueError, "token id %lld at [%zd, %zd] is outside the model's vocabulary (0..%d)",
                         (long long)td[i], (Py_ssize_t)(i / T), (Py_ssize_t)(i % T), cfg->d_vocab - 1);
            goto done;
        }
        ids[i] = (int32_t)td[i];
    }
    npy_intp sl[3] = {B, T, cfg->d_vocab}, ss[2] = {B, T - 1};
    if (want_logits && !(logits = PyArray_SimpleNew(3, sl, NPY_FLOAT32))) goto done;
    if (want_loss && !(loss = PyArray_SimpleNew(2, ss, NPY_FLOAT32))) goto done;
    if (!(cache = PyDict_New())) goto done;
    fwd_ctx c = {.filter = filter == Py_None ? NULL : filter, .cache = cache, .B = (int)B};
    hs_forward_params fp = hs_forward_default_params();
    fp.hook = fwd_hook;
    fp.hook_user = &c;
    fp.logits = logits ? PyArray_DATA((PyArrayObject *)logits) : NULL;
    fp.loss = loss && T > 1 ? PyArray_DATA((PyArrayObject *)loss) : NULL;
    fp.compute = compute;
    hs_status s = HS_OK;
    char msg[1024] = "";
    Py_BEGIN_ALLOW_THREADS
    PyThread_acquire_lock(self->lock, WAIT_LOCK);
    if (!self->fwd || B > self->max_B || T > self->max_T) {
        int nb = (int)(B > self->max_B ? B : self->max_B), nt = (int)(T > self->max_T ? T : self->max_T);
        hs_forward_free(self->fwd);
        self->fwd = NULL;
        self->max_B = self->max_T = 0;
        s = hs_forward_create(self->m, nb, nt, &self->fwd);
        if (!s) self->max_B = nb, self->max_T = nt;
    }
    if (!s) s = hs_forward_run(self->fwd, ids, (int)B, (int)T, &fp);
    if (s) snprintf(msg, sizeof msg, "%s", self->fwd ? hs_forward_error(self->fwd) : hs_last_error());
    PyThread_release_lock(self->lock);
    Py_END_ALLOW_THREADS
    for (int i = 0; i < c.n_dests; i++) PyMem_Free(c.dests[i].name);
    PyMem_Free(c.dests);
    if (s) { raise_hs(s, msg); goto done; }
    if (PyErr_Occurred()) goto done;
    res = Py_BuildValue("(OOO)", logits ? logits : Py_None, loss ? loss : Py_None, cache);
done:
    PyMem_Free(ids);
    Py_DECREF(tk);
    Py_XDECREF(logits); Py_XDECREF(loss); Py_XDECREF(cache);
    return res;
}

static PyMethodDef model_methods[] = {
    {"config", (PyCFunction)model_config, METH_NOARGS, "config() -> dict"},
    {"weight", (PyCFunction)model_weight, METH_O, "weight(name) -> float32 ndarray (a copy of the processed weight)"},
    {"forward", (PyCFunction)(void (*)(void))model_forward, METH_VARARGS | METH_KEYWORDS,
     "forward(tokens, logits=True, loss=False, names_filter=None, compute='f32') -> (logits, loss_per_token, cache)"},
    {NULL}};

static PyTypeObject ModelType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "headscan._headscan._Model",
    .tp_basicsize = sizeof(ModelObject),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE,
    .tp_doc = "_Model(dir, fold_ln=True, center_writing_weights=True, center_unembed=True, fold_value_biases=True)",
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)model_init,
    .tp_dealloc = (destructor)model_dealloc,
    .tp_methods = model_methods,
};

/* ============================================================== scan result */
typedef struct {
    PyObject_HEAD
    hs_scan_result *r;
} ResultObject;

static void result_dealloc(ResultObject *self) {
    hs_scan_result_free(self->r);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

/* A read-only ndarray over the result's memory; the array keeps the result alive. */
static PyObject *view(ResultObject *self, int nd, const int64_t *shape, int type, void *data) {
    npy_intp sh[4];
    for (int i = 0; i < nd; i++) sh[i] = (npy_intp)shape[i];
    PyObject *a = PyArray_New(&PyArray_Type, nd, sh, type, NULL, data, 0, NPY_ARRAY_C_CONTIGUOUS | NPY_ARRAY_ALIGNED, NULL);
    if (!a) return NULL;
    if (PyArray_SetBaseObject((PyArrayObject *)a, Py_NewRef((PyObject *)self)) < 0) { Py_DECREF(a); return NULL; }
    return a;
}

static int put(PyObject *d, const char *k, PyObject *v) {
    if (!v) return -1;
    int rc = PyDict_SetItemString(d, k, v);
    Py_DECREF(v);
    return rc;
}

/* arrays() -> dict of read-only views (the names of the .npy files `scan --out` writes) */
static PyObject *result_arrays(ResultObject *self, PyObject *unused) {
    hs_scan_result *r = self->r;
    const int64_t s4[4] = {r->L, r->H, r->N, r->T - 1}, s2[2] = {r->N, r->T - 1}, sg[2] = {r->L, r->H};
    PyObject *d = PyDict_New();
    if (!d) return NULL;
    if (put(d, "head_dla", view(self, 4, s4, NPY_FLOAT32, r->head_dla)) || put(d, "mover_attn", view(self, 4, s4, NPY_FLOAT32, r->mover_attn)) ||
        put(d, "mover_dla", view(self, 4, s4, NPY_FLOAT32, r->mover_dla)) || put(d, "loss", view(self, 2, s2, NPY_FLOAT32, r->loss)) ||
        put(d, "num_copies", view(self, 2, s2, NPY_INT64, r->num_copies)) ||
        put(d, "induction_mask", view(self, 2, s2, NPY_BOOL, r->induction_mask)) ||
        put(d, "induction_scores", view(self, 2, sg, NPY_FLOAT32, r->induction)) ||
        put(d, "eigenvals_vocab", view(self, 2, sg, NPY_FLOAT32, r->eig_vocab)) ||
        put(d, "eigenvals_resid", view(self, 2, sg, NPY_FLOAT32, r->eig_resid)) ||
        put(d, "frac_copy_argmax", view(self, 2, sg, NPY_FLOAT32, r->frac_copy_argmax)) ||
        put(d, "frac_copy_argmax_count", view(self, 2, sg, NPY_INT64, r->frac_copy_count)) ||
        (r->ind_tokens.ndim == 2 && put(d, "ind_tokens", view(self, 2, r->ind_tokens.shape, NPY_INT64, r->ind_tokens.data))) ||
        put(d, "tokens", view(self, 2, r->tokens.shape, NPY_INT64, r->tokens.data))) {
        Py_DECREF(d);
        return NULL;
    }
    return d;
}

/* table() -> (rows in the head table's order: list of (label, L, H, g), metrics float32 [L*H, HS_SCAN_NMETRICS] view, head order) */
static PyObject *result_table(ResultObject *self, PyObject *unused) {
    hs_scan_result *r = self->r;
    const int G = r->L * r->H;
    PyObject *order = PyList_New(G);
    for (int k = 0; order && k < G; k++) {
        int g = r->order[k];
        PyObject *t = Py_BuildValue("(s,i,i,i)", "", g / r->H, g % r->H, g);
        if (!t) { Py_CLEAR(order); break; }
        PyObject *lab = PyUnicode_FromFormat("L%dH%d", g / r->H, g % r->H);
        if (!lab) { Py_DECREF(t); Py_CLEAR(order); break; }
        PyTuple_SetItem(t, 0, lab);
        PyList_SET_ITEM(order, k, t);
    }
    const int64_t sh[2] = {G, HS_SCAN_NMETRICS};
    PyObject *m = order ? view(self, 2, sh, NPY_FLOAT32, r->table) : NULL;
    if (!m) { Py_XDECREF(order); return NULL; }
    return Py_BuildValue("(NN)", order, m);
}

/* quantiles() -> dict name -> (levels list, values [k, L*H] view) */
static PyObject *result_quantiles(ResultObject *self, PyObject *unused) {
    hs_scan_result *r = self->r;
    PyObject *d = PyDict_New();
    for (int i = 0; d && i < r->n_quantiles; i++) {
        hs_scan_quantiles *q = r->quantiles + i;
        PyObject *lv = PyList_New(q->k);
        for (int k = 0; lv && k < q->k; k++) PyList_SET_ITEM(lv, k, PyFloat_FromDouble(q->levels[k]));
        const int64_t sh[2] = {q->k, (int64_t)r->L * r->H};
        PyObject *v = lv ? view(self, 2, sh, NPY_FLOAT32, q->values) : NULL;
        if (!v || put(d, q->name, Py_BuildValue("(NN)", lv, v))) { Py_XDECREF(lv); Py_CLEAR(d); }
    }
    return d;
}

static PyObject *result_manifest_json(ResultObject *self, PyObject *unused) {
    char *j = NULL;
    hs_status s = hs_scan_manifest_json(self->r, &j);
    if (s) return raise_hs(s, hs_last_error());
    PyObject *u = PyUnicode_FromString(j);
    free(j);
    return u;
}

/* write(dir): every output, all or nothing (hs_scan_write) */
static PyObject *result_write(ResultObject *self, PyObject *arg) {
    PyObject *b;
    if (!PyUnicode_FSConverter(arg, &b)) return NULL;
    hs_status s;
    Py_BEGIN_ALLOW_THREADS
    s = hs_scan_write(self->r, PyBytes_AS_STRING(b));
    Py_END_ALLOW_THREADS
    Py_DECREF(b);
    if (s) return raise_hs(s, hs_last_error());
    Py_RETURN_NONE;
}

static PyObject *result_info(ResultObject *self, PyObject *unused) {
    hs_scan_result *r = self->r;
    return Py_BuildValue("{s:d,s:d,s:i,s:i,s:i,s:i,s:O,s:L,s:L,s:L,s:d,s:d,s:d}",
                         "eig_vocab_ill_below", r->eig_vocab_ill_below, "eig_resid_ill_below", r->eig_resid_ill_below,
                         "L", r->L, "H", r->H, "N", r->N, "T", r->T,
                         "prompts_short", r->prompts_short ? Py_True : Py_False, "prompts_asked", (long long)r->prompts_asked,
                         "non_induction_columns", (long long)r->non_induction_cols, "movable_positions", (long long)r->movable,
                         "mean_is_movable", (double)r->mean_is_movable, "mean_not_induction", (double)r->mean_not_induction,
                         "seconds", r->t_total);
}

static PyMethodDef result_methods[] = {
    {"arrays", (PyCFunction)result_arrays, METH_NOARGS, "arrays() -> dict of read-only ndarray views"},
    {"table", (PyCFunction)result_table, METH_NOARGS, "table() -> (rows [(label, L, H, g)], metrics [L*H, n_metrics] view in head order)"},
    {"quantiles", (PyCFunction)result_quantiles, METH_NOARGS, "quantiles() -> {name: (levels, values [k, L*H])}"},
    {"manifest_json", (PyCFunction)result_manifest_json, METH_NOARGS, "manifest_json() -> str"},
    {"write", (PyCFunction)result_write, METH_O, "write(dir): what `headscan scan --out dir` writes"},
    {"info", (PyCFunction)result_info, METH_NOARGS, "info() -> dict of sizes and statistics"},
    {NULL}};

static PyTypeObject ResultType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "headscan._headscan._ScanResult",
    .tp_basicsize = sizeof(ResultObject),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "A scan's in-memory result (hs_scan_result).",
    .tp_dealloc = (destructor)result_dealloc,
    .tp_methods = result_methods,
};

/* ============================================================== scan */
typedef struct prog_ctx {
    PyObject *cb;      /* callable(stage, done, total) or None */
    bool stop;
} prog_ctx;

static int scan_progress(const char *stage, int64_t done, int64_t total, void *user) {
    prog_ctx *c = user;
    PyGILState_STATE g = PyGILState_Ensure();
    if (!c->stop && PyErr_CheckSignals() < 0) c->stop = true;
    if (!c->stop && c->cb) {
        PyObject *r = PyObject_CallFunction(c->cb, "sLL", stage, (long long)done, (long long)total);
        if (!r) c->stop = true;
        Py_XDECREF(r);
    }
    PyGILState_Release(g);
    return c->stop;
}

static int tokens_progress(int64_t done, int64_t total, void *user) { return scan_progress("tokenize", done, total, user); }

static int opt_path(PyObject *o, void *out) {   /* str | PathLike | None -> bytes | NULL */
    if (o == Py_None) { *(PyObject **)out = NULL; return 1; }
    return PyUnicode_FSConverter(o, out);
}

static int parse_skip(PyObject *skip, unsigned *bits) {
    PyObject *seq = PySequence_Fast(skip, "skip must be a sequence of str");
    if (!seq) return -1;
    for (Py_ssize_t i = 0; i < PySequence_Fast_GET_SIZE(seq); i++) {
        const char *t = PyUnicode_AsUTF8(PySequence_Fast_GET_ITEM(seq, i));
        if (!t) { Py_DECREF(seq); return -1; }
        if (!strcmp(t, "frac_copy_argmax")) *bits |= HS_SKIP_FRAC_COPY_ARGMAX;
        else if (!strcmp(t, "eigenvalues") || !strcmp(t, "eigenvals_vocab") || !strcmp(t, "eigenvals_resid")) *bits |= HS_SKIP_EIGENVALUES;
        else if (!strcmp(t, "induction")) *bits |= HS_SKIP_INDUCTION;
        else {
            PyErr_Format(PyExc_ValueError, "skip: unknown item '%s' (frac_copy_argmax, eigenvalues, induction)", t);
            Py_DECREF(seq);
            return -1;
        }
    }
    Py_DECREF(seq);
    return 0;
}

/* scan(model, tokenizer, tokens=None, tokens_path=None, dataset=None, ...) -> _ScanResult
 * Exactly one of tokens (array), tokens_path, dataset. */
static PyObject *py_scan(PyObject *mod, PyObject *args, PyObject *kw) {
    static char *kwl[] = {"model", "tokenizer", "tokens", "tokens_path", "dataset", "field", "prompts", "batch", "n_ctx",
                          "shuffle", "shuffle_seed", "induction_tokens", "induction_tokens_path", "induction_seed",
                          "induction_batch", "induction_len", "quantile", "no_ind_quantile", "sort", "skip", "progress",
                          "offline", "compute", NULL};
    PyObject *model, *tokobj = Py_None, *tokens = Py_None, *tpath = NULL, *dataset = NULL, *ind = Py_None, *ipath = NULL;
    PyObject *skip = NULL, *progress = Py_None;
    const char *field = "text", *sort = "mover_dla_no_ind";
    long long prompts = 288, shuffle_seed = 42;
    unsigned long long ind_seed = 0;
    int batch = 32, n_ctx = 0, shuffle = 1, ind_batch = 16, ind_len = 0, offline = 0;
    double quant = 0.9, quant_ni = 0.95;
    const char *cname = "f32";
    if (!PyArg_ParseTupleAndKeywords(args, kw, "O!O|$OO&O&sLiipLOO&KiiddsOOps", kwl, &ModelType, &model, &tokobj, &tokens,
                                     opt_path, &tpath, opt_path, &dataset, &field, &prompts, &batch, &n_ctx, &shuffle,
                                     &shuffle_seed, &ind, opt_path, &ipath, &ind_seed, &ind_batch, &ind_len, &quant,
                                     &quant_ni, &sort, &skip, &progress, &offline, &cname))
        return NULL;
    hs_compute compute;
    if (hs_compute_parse(cname, &compute)) return raise_hs(HS_ERR_INVALID_ARG, hs_last_error());
    PyObject *res = NULL;
    PyArrayObject *tk = NULL, *ik = NULL;
    hs_array tokens_c = {0}, ind_c = {0};
    bool own_tokens = false;
    hs_scan_result *r = NULL;
    ModelObject *mo = (ModelObject *)model;
    if (!mo->m) { PyErr_SetString(PyExc_ValueError, "the model is not initialised"); goto done; }
    const hs_model_config *cfg = hs_model_get_config(mo->m);
    if (tokobj != Py_None && (!PyObject_TypeCheck(tokobj, &TokType) || !((TokObject *)tokobj)->tok)) { PyErr_SetString(PyExc_TypeError, "tokenizer must be a loaded _Tokenizer or None"); goto done; }
    const hs_tokenizer *tok = tokobj == Py_None ? NULL : ((TokObject *)tokobj)->tok;
    if ((tokens != Py_None) + (tpath != NULL) + (dataset != NULL) != 1) {
        PyErr_SetString(PyExc_ValueError, "give exactly one of tokens (an array or a .npy path) and dataset");
        goto done;
    }
    if (prompts < 0 || batch < 1 || batch > 4096 || n_ctx < 0 || n_ctx == 1 || ind_batch < 1 || ind_len < 0 || shuffle_seed < 0 ||
        !(quant >= 0 && quant <= 1) || !(quant_ni >= 0 && quant_ni <= 1)) {
        PyErr_SetString(PyExc_ValueError, "scan: prompts >= 0, 1 <= batch <= 4096, n_ctx >= 2, induction_batch >= 1, "
                                          "shuffle_seed >= 0 and quantiles in [0, 1] are required");
        goto done;
    }
    hs_scan_params sp = hs_scan_default_params();
    sp.prompts = prompts;
    sp.batch = batch;
    sp.compute = compute;
    sp.quantile = (float)quant;
    sp.no_ind_quantile = (float)quant_ni;
    sp.sort = sort;
    sp.ind_seed = ind_seed;
    sp.ind_batch = ind_batch;
    /* as the command: the default length fits the model's context unless tokens are replayed */
    if (ind_len) sp.ind_seq_len = ind_len;
    else if (ind == Py_None && !ipath) sp.ind_seq_len = hs_scan_default_induction_len(cfg);
    sp.tokenizer = tok;
    if (skip && parse_skip(skip, &sp.skip) < 0) goto done;
    if (n_ctx > cfg->n_ctx) {
        PyErr_Format(PyExc_ValueError, "n_ctx %d is larger than the model's maximum context %d (%s)", n_ctx, cfg->n_ctx, hs_model_dir(mo->m));
        goto done;
    }
    hs_status s = HS_OK;
    double t_tok = mono();
    if (tokens != Py_None) {
        if (!(tk = tokens_2d(tokens))) goto done;
        if (PyArray_NDIM(tk) != 2) { PyErr_SetString(PyExc_ValueError, "tokens must be [rows, n_ctx]"); goto done; }
        tokens_c.dtype = HS_I64;
        tokens_c.ndim = 2;
        tokens_c.shape[0] = PyArray_DIM(tk, 0);
        tokens_c.shape[1] = PyArray_DIM(tk, 1);
        tokens_c.data = PyArray_DATA(tk);
    } else if (tpath) {
        Py_BEGIN_ALLOW_THREADS
        s = hs_tokens_load(PyBytes_AS_STRING(tpath), &tokens_c);
        Py_END_ALLOW_THREADS
        if (s) { raise_hs(s, hs_last_error()); goto done; }
        own_tokens = true;
    } else {
        if (!tok) { PyErr_Format(PyExc_ValueError, "a dataset needs a tokenizer: %s has no tokenizer.json", hs_model_dir(mo->m)); goto done; }
        hs_docs_params dp = hs_docs_default_params();
        dp.field = field;
        hs_tokens_params tp = hs_tokens_default_params();
        tp.n_ctx = n_ctx ? n_ctx : 256;
        tp.shuffle = shuffle;
        tp.seed = (uint64_t)shuffle_seed;
        if (tp.n_ctx > cfg->n_ctx) {
            PyErr_Format(PyExc_ValueError, "n_ctx %d is larger than the model's maximum context %d", tp.n_ctx, cfg->n_ctx);
            goto done;
        }
        hs_hub_params hp = hs_hub_default_params();
        if (offline) hp.offline = true;
        prog_ctx tpc = {.cb = progress == Py_None ? NULL : progress};
        tp.progress = tokens_progress;
        tp.progress_user = &tpc;
        Py_BEGIN_ALLOW_THREADS
        s = hs_tokens_from_dataset(PyBytes_AS_STRING(dataset), tok, &dp, &hp, &tp, &tokens_c, NULL);
        Py_END_ALLOW_THREADS
        if (s) { raise_hs(s, hs_last_error()); goto done; }
        if (PyErr_CheckSignals() < 0) goto done;
        own_tokens = true;
    }
    if (tokens_c.shape[0] < 1 || tokens_c.shape[1] < 2) { PyErr_SetString(PyExc_ValueError, "the token set has no rows (or rows of fewer than 2 tokens)"); goto done; }
    if (!dataset && n_ctx && n_ctx < tokens_c.shape[1]) {   /* keep the first n_ctx columns */
        if (!own_tokens) {   /* cut a copy, not the caller's array */
            PyArrayObject *cp = (PyArrayObject *)PyArray_NewCopy(tk, NPY_CORDER);
            if (!cp) goto done;
            Py_SETREF(tk, cp);
            tokens_c.data = PyArray_DATA(tk);
        }
        int64_t R = tokens_c.shape[0], W = tokens_c.shape[1];
        int64_t *d = tokens_c.data;
        for (int64_t i = 0; i < R; i++) memmove(d + i * n_ctx, d + i * W, sizeof(int64_t) * (size_t)n_ctx);
        tokens_c.shape[1] = n_ctx;
    }
    t_tok = mono() - t_tok;
    if (ind != Py_None) {
        if (!(ik = tokens_2d(ind))) goto done;
        ind_c.dtype = HS_I64;
        ind_c.ndim = 2;
        ind_c.shape[0] = PyArray_DIM(ik, 0);
        ind_c.shape[1] = PyArray_DIM(ik, 1);
        ind_c.data = PyArray_DATA(ik);
        sp.ind_tokens = &ind_c;
    } else if (ipath) {
        Py_BEGIN_ALLOW_THREADS
        s = hs_npy_read(PyBytes_AS_STRING(ipath), &ind_c);
        Py_END_ALLOW_THREADS
        if (s) { raise_hs(s, hs_last_error()); goto done; }
        sp.ind_tokens = &ind_c;
    }
    prog_ctx pc = {.cb = progress == Py_None ? NULL : progress};
    sp.progress = scan_progress;
    sp.progress_user = &pc;
    hs_compute_deviation dev;
    Py_BEGIN_ALLOW_THREADS
    if (compute != HS_COMPUTE_F32) s = hs_scan_compute_deviation(mo->m, &tokens_c, NULL, 0, &sp, &dev);   /* the first batch */
    if (!s) s = hs_scan_run(mo->m, &tokens_c, &sp, &r);
    Py_END_ALLOW_THREADS
    if (s) { raise_hs(s, hs_last_error()); goto done; }
    if (PyErr_CheckSignals() < 0) goto done;
    hs_scan_inputs in = {.tokens_path = tpath ? PyBytes_AS_STRING(tpath) : NULL,
                         .dataset = dataset ? PyBytes_AS_STRING(dataset) : NULL, .field = field, .shuffle = shuffle,
                         .shuffle_seed = (uint64_t)shuffle_seed, .ind_tokens_path = ipath ? PyBytes_AS_STRING(ipath) : NULL,
                         .tokenizer_path = NULL, .t_load_model = 0, .t_load_tokens = t_tok,
                         .deviation = compute != HS_COMPUTE_F32 ? &dev : NULL};
    PyObject *tp_b = NULL;
    if (tokobj != Py_None && !PyUnicode_FSConverter(((TokObject *)tokobj)->path, &tp_b)) goto done;
    if (tp_b) in.tokenizer_path = PyBytes_AS_STRING(tp_b);
    s = hs_scan_record_inputs(r, &sp, &in);
    Py_XDECREF(tp_b);
    if (s) { raise_hs(s, hs_last_error()); goto done; }
    ResultObject *ro = PyObject_New(ResultObject, &ResultType);
    if (!ro) goto done;
    ro->r = r;
    r = NULL;
    res = (PyObject *)ro;
done:
    hs_scan_result_free(r);
    if (own_tokens) hs_array_free(&tokens_c);
    if (!ik) hs_array_free(&ind_c);
    Py_XDECREF(tk); Py_XDECREF(ik);
    Py_XDECREF(tpath); Py_XDECREF(dataset); Py_XDECREF(ipath);
    return res;
}

/* ============================================================== module functions */
static PyObject *py_resolve_model(PyObject *mod, PyObject *args, PyObject *kw) {
    static char *kwl[] = {"name", "revision", "offline", NULL};
    const char *name, *rev = NULL;
    PyObject *offline = Py_None;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "s|zO", kwl, &name, &rev, &offline)) return NULL;
    hs_hub_params hp = hs_hub_default_params();
    hp.revision = rev;
    if (offline != Py_None) {
        int o = PyObject_IsTrue(offline);
        if (o < 0) return NULL;
        hp.offline = o;
    }
    char *dir = NULL;
    hs_status s;
    Py_BEGIN_ALLOW_THREADS
    s = hs_hub_resolve_model(name, &hp, &dir);
    Py_END_ALLOW_THREADS
    if (s) return raise_hs(s, hs_last_error());
    PyObject *u = PyUnicode_DecodeFSDefault(dir);
    free(dir);
    return u;
}

static PyObject *py_column_names(PyObject *mod, PyObject *unused) {
    PyObject *l = PyList_New(HS_SCAN_NCOLS);
    for (int i = 0; l && i < HS_SCAN_NCOLS; i++) PyList_SET_ITEM(l, i, PyUnicode_FromString(hs_scan_column_name(i)));
    return l;
}

static PyObject *py_report(PyObject *mod, PyObject *args, PyObject *kw) {
    static char *kwl[] = {"scan_dir", "out", "tokenizer", "plotly_js", "title", NULL};
    PyObject *dir, *out, *tokobj = Py_None, *plotly = NULL;
    const char *title = NULL;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "O&O&|OO&z", kwl, PyUnicode_FSConverter, &dir, PyUnicode_FSConverter, &out,
                                     &tokobj, opt_path, &plotly, &title))
        return NULL;
    PyObject *res = NULL;
    if (tokobj != Py_None && (!PyObject_TypeCheck(tokobj, &TokType) || !((TokObject *)tokobj)->tok)) { PyErr_SetString(PyExc_TypeError, "tokenizer must be a loaded _Tokenizer or None"); goto done; }
    hs_report_params rp = hs_report_default_params();
    rp.plotly_js = plotly ? PyBytes_AS_STRING(plotly) : NULL;
    rp.tokenizer = tokobj == Py_None ? NULL : ((TokObject *)tokobj)->tok;
    if (title) rp.title = title;
    hs_report_info info;
    hs_status s;
    Py_BEGIN_ALLOW_THREADS
    s = hs_report_write(PyBytes_AS_STRING(dir), &rp, PyBytes_AS_STRING(out), &info);
    Py_END_ALLOW_THREADS
    if (s) { raise_hs(s, hs_last_error()); goto done; }
    res = Py_BuildValue("{s:n,s:O,s:s}", "bytes", (Py_ssize_t)info.bytes, "plotly_embedded", info.plotly_embedded ? Py_True : Py_False,
                        "example_head", info.example_head);
done:
    Py_DECREF(dir); Py_DECREF(out); Py_XDECREF(plotly);
    return res;
}

static PyObject *py_set_num_threads(PyObject *mod, PyObject *arg) {
    long n = PyLong_AsLong(arg);
    if (n == -1 && PyErr_Occurred()) return NULL;
    if (n < 0 || n > 4096) return PyErr_Format(PyExc_ValueError, "threads must be in 0..4096");
    hs_set_num_threads((int)n);
    Py_RETURN_NONE;
}
static PyObject *py_get_num_threads(PyObject *mod, PyObject *unused) { return PyLong_FromLong(hs_get_num_threads()); }

static PyMethodDef module_methods[] = {
    {"scan", (PyCFunction)(void (*)(void))py_scan, METH_VARARGS | METH_KEYWORDS, "the scan (see headscan.scan)"},
    {"resolve_model", (PyCFunction)(void (*)(void))py_resolve_model, METH_VARARGS | METH_KEYWORDS,
     "resolve_model(name, revision=None, offline=None) -> folder (a local folder, or the hub cache's snapshot)"},
    {"column_names", py_column_names, METH_NOARGS, "the head table's columns, in order"},
    {"report", (PyCFunction)(void (*)(void))py_report, METH_VARARGS | METH_KEYWORDS,
     "report(scan_dir, out, tokenizer=None, plotly_js=None, title=None) -> info dict"},
    {"set_num_threads", py_set_num_threads, METH_O, "set_num_threads(n): worker threads (0 = all cores)"},
    {"get_num_threads", py_get_num_threads, METH_NOARGS, "get_num_threads() -> int"},
    {NULL}};

static struct PyModuleDef moduledef = {
    PyModuleDef_HEAD_INIT,
    .m_name = "_headscan",
    .m_doc = "headscan's C extension over libheadscan (use the headscan package).",
    .m_size = -1,
    .m_methods = module_methods,
};

PyMODINIT_FUNC PyInit__headscan(void) {
    import_array();
    if (PyType_Ready(&TokType) < 0 || PyType_Ready(&ModelType) < 0 || PyType_Ready(&ResultType) < 0) return NULL;
    PyObject *m = PyModule_Create(&moduledef);
    if (!m) return NULL;
    HsError = PyErr_NewExceptionWithDoc("headscan.Error", "A headscan failure (its message names the file and what is wrong).",
                                        PyExc_RuntimeError, NULL);
    if (!HsError || PyModule_AddObjectRef(m, "Error", HsError) < 0 || PyModule_AddObjectRef(m, "_Tokenizer", (PyObject *)&TokType) < 0 ||
        PyModule_AddObjectRef(m, "_Model", (PyObject *)&ModelType) < 0 || PyModule_AddObjectRef(m, "_ScanResult", (PyObject *)&ResultType) < 0 ||
        PyModule_AddStringConstant(m, "version", hs_version()) < 0 || PyModule_AddStringConstant(m, "plotly_version", HS_PLOTLY_VERSION) < 0 ||
        PyModule_AddStringConstant(m, "plotly_js_default", HS_PLOTLY_JS_DEFAULT) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
