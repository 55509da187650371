"""headscan for Python: attention-head analysis over libheadscan, shaped like TransformerLens.

    import headscan
    model = headscan.Model.from_pretrained("pythia-70m")        # a hub name, short name or folder
    logits, cache = model.run_with_cache(model.to_tokens("When John and Mary"),
                                         names_filter="blocks.0.attn.hook_pattern")
    scan = headscan.scan(model, dataset="NeelNanda/pile-10k")    # every head, every metric of the study
    scan.head_table                                               # pandas DataFrame (head_table.csv)
    scan.save("out/")                                             # what `headscan scan --out out/` writes

Everything runs in C (libheadscan's public API) with the GIL released. Ctrl-C stops a
long call with KeyboardInterrupt and nothing half-written. Errors: FileNotFoundError
(missing files), ValueError (bad input), headscan.Error (a RuntimeError) for the rest,
each with headscan's message. numpy is required; pandas only for DataFrames.
"""
import json
import os
import shutil
import tempfile

import numpy as np

from . import _headscan
from ._headscan import Error
from ._progress import Progress

__version__ = _headscan.version
__all__ = ["Model", "Tokenizer", "Config", "Scan", "scan", "load_scan", "Error", "column_names", "set_num_threads",
           "get_num_threads"]

set_num_threads = _headscan.set_num_threads
get_num_threads = _headscan.get_num_threads


def column_names():
    """The head table's columns, in order (label, L, H, then the metrics), from the library."""
    return _headscan.column_names()


def _fspath(p):
    return os.fsdecode(os.fspath(p))


def _check_local(name, what):
    """A name that can only be a local path (absolute, ./, ~, deeper than ORG/NAME, a file
    extension) and does not exist: FileNotFoundError, rather than the hub's "not a repo id"."""
    if os.path.exists(name) or any(c in name for c in "*?["):
        return
    if (os.path.isabs(name) or name.startswith((".", "~")) or name.count("/") > 1
            or os.path.splitext(name)[1] in (".jsonl", ".json", ".txt", ".parquet", ".gz", ".zst", ".npy")):
        raise FileNotFoundError(f"{name}: no such {what}")


# ---------------------------------------------------------------------- tokenizer
class Tokenizer(_headscan._Tokenizer):
    """A HuggingFace tokenizer.json (byte-level BPE), encoding exactly as HF tokenizers does.

    Usable on its own: ``Tokenizer("pythia-70m/tokenizer.json").encode("Hello")``.
    Methods: encode(text, prepend_bos=False) -> list[int]; encode_batch(texts) -> list[list[int]];
    decode(ids) -> str; token_strs(ids) -> list[str]; id_to_token(id); token_to_id(str);
    properties vocab_size, bos_token_id (= eos_token_id = pad_token_id, as TransformerLens sets them), path.
    """

    def __init__(self, path):
        path = _fspath(path)
        if not os.path.exists(path):
            raise FileNotFoundError(f"{path}: no such tokenizer file")
        super().__init__(path)

    @property
    def eos_token_id(self):
        return self.bos_token_id

    @property
    def pad_token_id(self):
        return self.bos_token_id

    def __len__(self):
        return self.vocab_size

    def __call__(self, text):
        return {"input_ids": self.encode(text) if isinstance(text, str) else self.encode_batch(list(text))}

    def __repr__(self):
        return f"headscan.Tokenizer({self.path!r}, vocab_size={self.vocab_size})"


# ---------------------------------------------------------------------- config
class Config:
    """The model's configuration (TransformerLens's HookedTransformerConfig names where they exist)."""

    def __init__(self, d):
        self.__dict__.update(d)
        self.model_name = os.path.basename(os.path.normpath(d["dir"]))
        self.d_vocab_out = self.d_vocab
        self.normalization_type = "LN"
        self.positional_embedding_type = "rotary" if self.rotary_dim else "standard"
        self.default_prepend_bos = True

    def to_dict(self):
        return dict(self.__dict__)

    def __repr__(self):
        keys = ("model_type", "n_layers", "n_heads", "d_model", "d_head", "d_mlp", "d_vocab", "n_ctx")
        return "Config(" + ", ".join(f"{k}={getattr(self, k)!r}" for k in keys) + ")"


def _names_filter(f):
    """TransformerLens's names_filter: None (every hook), a name, a list of names, or a callable."""
    if f is None:
        return lambda name: True
    if isinstance(f, str):
        return lambda name: name == f
    if callable(f):
        return f
    try:
        names = set(f)
    except TypeError:
        raise TypeError("names_filter must be None, a str, a list of str or a callable") from None
    return lambda name: name in names


# ---------------------------------------------------------------------- model
class Model:
    """A HuggingFace GPT-NeoX (Pythia) or GPT-2 checkpoint, run exactly as TransformerLens runs it.

    Create with Model.from_pretrained(). Outputs are float32 numpy arrays owned by Python
    (fresh copies: nothing refers to headscan's memory). One forward pass runs at a time
    per model (calls from several threads queue); the GIL is released while it runs.
    """

    def __init__(self, cmodel, tokenizer):
        self._m = cmodel
        self.cfg = Config(cmodel.config())
        self.tokenizer = tokenizer

    @classmethod
    def from_pretrained(cls, name_or_dir, *, fold_ln=True, center_writing_weights=True, center_unembed=True,
                        fold_value_biases=True, revision=None, offline=None):
        """Loads a model folder (config.json + safetensors), a hub name ("EleutherAI/pythia-70m")
        or a TransformerLens short name ("pythia-70m", "gpt2-small") through the HuggingFace cache,
        as the CLI resolves --model. offline=None follows HF_HUB_OFFLINE; revision is a branch,
        tag or commit. The four processing steps are TransformerLens's (all on by default)."""
        name = _fspath(name_or_dir)
        _check_local(name, "model folder")
        d = _headscan.resolve_model(name, revision=revision, offline=offline)
        m = _headscan._Model(d, fold_ln=fold_ln, center_writing_weights=center_writing_weights,
                             center_unembed=center_unembed, fold_value_biases=fold_value_biases)
        tp = os.path.join(d, "tokenizer.json")
        return cls(m, Tokenizer(tp) if os.path.exists(tp) else None)

    @classmethod
    def from_pretrained_no_processing(cls, name_or_dir, **kw):
        """from_pretrained with every processing step off: logits equal HuggingFace's."""
        return cls.from_pretrained(name_or_dir, fold_ln=False, center_writing_weights=False, center_unembed=False,
                                   fold_value_biases=False, **kw)

    def __repr__(self):
        return f"headscan.Model({self.cfg.dir!r}, {self.cfg!r})"

    # ------------------------------------------------------------ tokens
    def _tok(self):
        if self.tokenizer is None:
            raise ValueError(f"{self.cfg.dir} has no tokenizer.json")
        return self.tokenizer

    def to_tokens(self, input, prepend_bos=True, truncate=True):
        """TL's to_tokens: int64 ndarray [batch, pos]. A list of strings is right-padded with the
        pad id (= BOS/EOS, as TL sets it); rows are cut to n_ctx when truncate."""
        tok = self._tok()
        rows = tok.encode_batch([input] if isinstance(input, str) else list(input), prepend_bos=prepend_bos)
        if truncate:
            rows = [r[: self.cfg.n_ctx] for r in rows]
        T = max((len(r) for r in rows), default=0)
        out = np.full((len(rows), T), tok.pad_token_id, dtype=np.int64)
        for i, r in enumerate(rows):
            out[i, : len(r)] = r
        return out

    def to_str_tokens(self, input, prepend_bos=True):
        """TL's to_str_tokens: the string of each token (decode([id])). A str is tokenized first;
        a 1-D (or [1, pos]) array of ids is used as is; a list of str gives a list of lists."""
        tok = self._tok()
        if isinstance(input, str):
            return tok.token_strs(self.to_tokens(input, prepend_bos=prepend_bos)[0])
        if isinstance(input, (list, tuple)) and input and all(isinstance(s, str) for s in input):
            return [self.to_str_tokens(s, prepend_bos=prepend_bos) for s in input]
        a = np.asarray(input)
        if a.ndim == 2 and a.shape[0] == 1:
            a = a[0]
        if a.ndim != 1:
            raise ValueError(f"to_str_tokens: expected a string or a 1-D / [1, pos] array of ids, got shape {a.shape}")
        return tok.token_strs(a.astype(np.int64))

    def to_string(self, tokens):
        """TL's to_string: the decoded text of a 1-D sequence, or a list of texts for [batch, pos]."""
        tok = self._tok()
        a = np.asarray(tokens)
        if a.ndim == 2:
            return [tok.decode(r) for r in a.astype(np.int64)]
        if a.ndim == 1:
            return tok.decode(a.astype(np.int64))
        raise ValueError(f"to_string: expected [pos] or [batch, pos] ids, got shape {a.shape}")

    def _as_tokens(self, tokens):
        if isinstance(tokens, str) or (isinstance(tokens, (list, tuple)) and tokens and isinstance(tokens[0], str)):
            return self.to_tokens(tokens)
        return tokens

    # ------------------------------------------------------------ forward
    def __call__(self, tokens, return_type="logits", loss_per_token=False, compute="f32"):
        """TL's forward: tokens [batch, pos] (or text). return_type "logits" -> [batch, pos, d_vocab];
        "loss" -> the mean next-token loss (0-d float32 array), or [batch, pos-1] with loss_per_token;
        "both" -> (logits, loss); None -> None. Arrays are fresh float32 copies.
        compute="bf16": the weight GEMMs in bfloat16 (oneDNN; CPUs with AVX512_BF16 or AMX, else
        headscan.Error), not TransformerLens-exact: see compute_deviation."""
        if return_type not in ("logits", "loss", "both", None):
            raise ValueError(f"return_type must be 'logits', 'loss', 'both' or None, not {return_type!r}")
        want_logits = return_type in ("logits", "both")
        want_loss = return_type in ("loss", "both")
        logits, loss, _ = self._m.forward(self._as_tokens(tokens), logits=want_logits, loss=want_loss, compute=compute)
        if want_loss and not loss_per_token:
            loss = np.asarray(loss.mean(dtype=np.float64), dtype=np.float32)
        if return_type == "logits":
            return logits
        if return_type == "loss":
            return loss
        if return_type == "both":
            return logits, loss
        return None

    forward = __call__

    def run_with_cache(self, tokens, names_filter=None, return_type="logits", loss_per_token=False, compute="f32"):
        """TL's run_with_cache -> (output, cache). cache maps TL hook names
        ("blocks.0.attn.hook_pattern") to float32 arrays in TL's shapes, and holds ONLY the hooks
        names_filter selects (None = all, a name, a list of names, or a callable(name) -> bool):
        the filter answers the forward pass's ask-then-receive hook, so unrequested activations
        are never copied or kept. Arrays are fresh copies owned by Python."""
        if return_type not in ("logits", "loss", "both", None):
            raise ValueError(f"return_type must be 'logits', 'loss', 'both' or None, not {return_type!r}")
        want_logits = return_type in ("logits", "both")
        want_loss = return_type in ("loss", "both")
        logits, loss, cache = self._m.forward(self._as_tokens(tokens), logits=want_logits, loss=want_loss,
                                              names_filter=_names_filter(names_filter), compute=compute)
        if want_loss and not loss_per_token:
            loss = np.asarray(loss.mean(dtype=np.float64), dtype=np.float32)
        out = {"logits": logits, "loss": loss, "both": (logits, loss), None: None}[return_type]
        return out, ActivationCache(cache)

    def compute_deviation(self, tokens, compute="bf16"):
        """How far `compute` is from float32 on tokens [batch, pos] (as hs_compute_compare, each
        sequence alone): {"max_abs_logit", "max_logit", "rel_logit", "max_abs_loss", "mean_abs_loss"}."""
        t = np.atleast_2d(np.asarray(self._as_tokens(tokens)))
        dmax = lmax = d2 = r2 = smax = ssum = 0.0
        for row in t:
            l32, s32, _ = self._m.forward(row[None], logits=True, loss=True)
            lc, sc, _ = self._m.forward(row[None], logits=True, loss=True, compute=compute)
            d = np.abs(lc.astype(np.float64) - l32)
            dmax, lmax = max(dmax, float(d.max())), max(lmax, float(np.abs(l32).max()))
            d2, r2 = d2 + float((d * d).sum()), r2 + float((l32.astype(np.float64) ** 2).sum())
            ds = np.abs(sc.astype(np.float64) - s32)
            smax, ssum = max(smax, float(ds.max(initial=0))), ssum + float(ds.sum())
        n_loss = t.shape[0] * max(t.shape[1] - 1, 0)
        return {"compute": compute, "sequences": int(t.shape[0]), "tokens": int(t.shape[1]), "max_abs_logit": dmax,
                "max_logit": lmax, "rel_logit": (d2 / r2) ** 0.5 if r2 > 0 else 0.0, "max_abs_loss": smax,
                "mean_abs_loss": ssum / n_loss if n_loss else 0.0}

    def weight(self, name):
        """A processed weight by TL name ("W_E", "blocks.0.attn.W_Q", ...): a float32 copy."""
        return self._m.weight(name)

    @property
    def W_E(self):
        return self.weight("W_E")

    @property
    def W_U(self):
        return self.weight("W_U")


class ActivationCache(dict):
    """name -> float32 ndarray (Python-owned copies), as TransformerLens's ActivationCache indexes them;
    also cache["pattern", 0] for "blocks.0.attn.hook_pattern"."""

    _SHORT = {"pattern": "attn.hook_pattern", "attn_scores": "attn.hook_attn_scores", "q": "attn.hook_q",
              "k": "attn.hook_k", "v": "attn.hook_v", "z": "attn.hook_z", "rot_q": "attn.hook_rot_q",
              "rot_k": "attn.hook_rot_k", "resid_pre": "hook_resid_pre", "resid_mid": "hook_resid_mid",
              "resid_post": "hook_resid_post", "attn_out": "hook_attn_out", "mlp_out": "hook_mlp_out",
              "pre": "mlp.hook_pre", "post": "mlp.hook_post"}

    def __getitem__(self, key):
        if isinstance(key, tuple):
            name, layer = key
            key = f"blocks.{layer}.{self._SHORT.get(name, name)}"
        return dict.__getitem__(self, key)


# ---------------------------------------------------------------------- scan
class Scan:
    """A scan's results (`headscan scan`'s outputs, in memory).

    head_table  pandas DataFrame, one row per head in head_table.csv's order and columns
                (label, L, H, then the float32 metrics; names from the library); a new copy each time
    arrays      dict of numpy arrays named as the .npy files: head_dla, mover_attn, mover_dla
                [L, H, N, T-1], loss, num_copies, induction_mask [N, T-1], induction_scores,
                eigenvals_vocab, eigenvals_resid, frac_copy_argmax(_count) [L, H], ind_tokens, tokens.
                For a scan just run: READ-ONLY VIEWS of the scan's memory, kept alive by the
                arrays themselves (copy them to modify). For load_scan: arrays read from the files.
    quantiles   dict name -> DataFrame (index: quantile levels, columns: head labels)
    manifest    dict (manifest.json)
    save(dir)   writes exactly what `headscan scan --out dir` writes (all or nothing)
    report(path) the offline HTML report (as `headscan report`)
    """

    def __init__(self, result=None, tokenizer=None, folder=None):
        self._r = result
        self._tok = tokenizer
        self._dir = folder
        self._arrays = None

    # ------------------------------------------------------------ loading
    @property
    def arrays(self):
        if self._arrays is None:
            if self._r is not None:
                self._arrays = self._r.arrays()
            else:
                self._arrays = {}
                for f in sorted(os.listdir(self._dir)):
                    if f.endswith(".npy"):
                        self._arrays[f[:-4]] = np.load(os.path.join(self._dir, f))
        return self._arrays

    @property
    def head_table(self):
        pd = _pandas()
        if self._r is None:
            df = pd.read_csv(os.path.join(self._dir, "head_table.csv"), keep_default_na=False, na_values=["nan"],
                             float_precision="round_trip")
            return df.astype({c: np.float32 for c in df.columns[3:]})   # %.9g: the float32 values, exactly
        rows, metrics = self._r.table()
        cols = column_names()
        order = [g for (_, _, _, g) in rows]
        df = pd.DataFrame({cols[0]: [r[0] for r in rows], cols[1]: np.array([r[1] for r in rows], dtype=np.int64),
                           cols[2]: np.array([r[2] for r in rows], dtype=np.int64)})
        vals = np.asarray(metrics)[order]
        for c in range(vals.shape[1]):
            df[cols[3 + c]] = vals[:, c].copy()
        return df

    @property
    def quantiles(self):
        pd = _pandas()
        if self._r is not None:
            tabs = self._r.quantiles()
            info = self._r.info()
            heads = [f"L{g // info['H']}H{g % info['H']}" for g in range(info["L"] * info["H"])]
            items = {k: (lv, np.asarray(v)) for k, (lv, v) in tabs.items()}
        else:
            with open(os.path.join(self._dir, "quantiles.json")) as f:
                q = json.load(f)
            heads = q["heads"]
            items = {k: (t["levels"], np.array([[np.nan if x is None else x for x in row] for row in t["values"]],
                                               dtype=np.float32)) for k, t in q["tables"].items()}
        # levels are float32 in the library (JSON keeps 15 digits): the float32 values as the index
        return {k: pd.DataFrame(v, index=pd.Index(np.asarray(lv, np.float32).astype(np.float64), name="q"),
                                columns=heads) for k, (lv, v) in items.items()}

    @property
    def manifest(self):
        if self._r is not None:
            return json.loads(self._r.manifest_json())
        with open(os.path.join(self._dir, "manifest.json")) as f:
            return json.load(f)

    # ------------------------------------------------------------ outputs
    def save(self, dir):
        """Writes what `headscan scan --out dir` writes (head_table.csv/.json, the .npy arrays,
        quantiles.json, manifest.json): every file under a temporary name first, renamed only
        when all are complete, so a failure or Ctrl-C leaves no file of this scan behind."""
        dir = _fspath(dir)
        if self._r is not None:
            self._r.write(dir)
            return dir
        # a loaded scan: copy its files the same way (temporaries, then renames)
        os.makedirs(dir, exist_ok=True)
        names = [f for f in sorted(os.listdir(self._dir)) if f.endswith((".npy", ".json", ".csv"))]
        tmps = []
        try:
            for n in names:
                t = os.path.join(dir, f".{n}.tmp.{os.getpid()}")
                shutil.copyfile(os.path.join(self._dir, n), t)
                tmps.append((t, os.path.join(dir, n)))
        except BaseException:
            for t, _ in tmps:
                os.unlink(t)
            raise
        for t, final in sorted(tmps, key=lambda p: p[1].endswith("head_table.csv")):
            os.replace(t, final)
        return dir

    def report(self, path, plotly_js=None, title=None):
        """Writes the offline HTML report (every plot of the study) to path, as `headscan report`.
        plotly_js: plotly.min.js to embed (default: $HEADSCAN_PLOTLY_JS, else the build's
        tools/report copy when present, else the page links plotly's CDN). Returns an info dict."""
        path = _fspath(path)
        if plotly_js is None:
            env = os.environ.get("HEADSCAN_PLOTLY_JS")
            cand = env or _headscan.plotly_js_default
            plotly_js = cand if cand and os.access(cand, os.R_OK) else None
        if self._dir is not None:
            return _headscan.report(self._dir, path, tokenizer=self._tok, plotly_js=plotly_js, title=title)
        with tempfile.TemporaryDirectory(prefix="headscan-report-") as d:
            self._r.write(d)
            return _headscan.report(d, path, tokenizer=self._tok, plotly_js=plotly_js, title=title)

    def __repr__(self):
        src = self._dir if self._dir else "memory"
        a = self.arrays.get("head_dla")
        shape = "x".join(map(str, a.shape)) if a is not None else "?"
        return f"headscan.Scan({src}, head_dla {shape})"


def _pandas():
    try:
        import pandas
    except ImportError:
        raise ImportError("headscan: DataFrames need pandas (apt install python3-pandas); "
                          "Scan.arrays and Scan.manifest work without it") from None
    return pandas


def scan(model, *, tokens=None, dataset=None, prompts=288, batch=32, n_ctx=256, induction_tokens=None,
         induction_seed=None, skip=(), progress=True, field="text", shuffle=True, shuffle_seed=42,
         induction_batch=16, induction_len=None, quantile=0.9, no_ind_quantile=0.95, sort="mover_dla_no_ind",
         offline=None, compute="f32"):
    """Every metric of the study for every attention head (what `headscan scan` computes).

    model            a headscan.Model
    tokens           an int [rows, n_ctx] array (BOS in column 0), or a tokens .npy path (as --tokens);
                     the first `prompts` rows are scanned, the first n_ctx columns when the rows are longer
    dataset          else a JSONL / text / Parquet file, folder or glob, or a hub dataset name
                     ("NeelNanda/pile-10k"), tokenized as TransformerLens's tokenize_and_concatenate
                     into rows of n_ctx and shuffled (shuffle_seed 42), as --dataset
    prompts          rows to scan (0 = all); batch: rows per forward pass
    induction_tokens replay these [B, 1+2R] induction tokens (array or .npy path); else generated
                     from induction_seed (default 0) by headscan's seeded generator
    skip             any of "frac_copy_argmax", "eigenvalues", "induction" (left NaN)
    progress         True: a progress bar (tqdm when installed, else plain lines on stderr);
                     False: none; or a callable(stage, done, total)
    compute          "f32" (TransformerLens's numbers) or "bf16" (the forward's weight GEMMs in bfloat16,
                     CPUs with AVX512_BF16/AMX): the first batch's deviation from float32 is then kept in
                     the manifest (scan.manifest["compute_deviation"])
    Returns a Scan. The GIL is released while it runs; Ctrl-C raises KeyboardInterrupt.
    """
    if not isinstance(model, Model):
        raise TypeError("scan: model must be a headscan.Model")
    kw = dict(prompts=int(prompts), batch=int(batch), shuffle=bool(shuffle), shuffle_seed=int(shuffle_seed),
              field=field, compute=compute, quantile=float(quantile), no_ind_quantile=float(no_ind_quantile), sort=sort,
              skip=[skip] if isinstance(skip, str) else list(skip), induction_batch=int(induction_batch),
              induction_len=int(induction_len or 0), induction_seed=int(induction_seed or 0),
              offline=bool(offline) if offline is not None else os.environ.get("HF_HUB_OFFLINE", "").upper()
              in ("1", "ON", "YES", "TRUE"))
    if (tokens is None) == (dataset is None):
        raise ValueError("scan: give exactly one of tokens= and dataset=")
    n_ctx = int(n_ctx) if n_ctx is not None else 0
    if tokens is not None and isinstance(tokens, (str, bytes, os.PathLike)):
        p = _fspath(tokens)
        if not os.path.exists(p):
            raise FileNotFoundError(f"{p}: no such tokens file")
        kw["tokens_path"] = p
        ncols = np.load(p, mmap_mode="r").shape[-1]
    elif tokens is not None:
        kw["tokens"] = tokens
        ncols = np.shape(tokens)[-1]
    else:
        kw["dataset"] = _fspath(dataset)
        _check_local(kw["dataset"], "dataset")
        ncols = None
    if ncols is not None:
        # tokens: n_ctx cuts longer rows (as --n-ctx); the default 256 keeps shorter ones whole
        n_ctx = n_ctx if 0 < n_ctx < ncols else 0
    if induction_tokens is not None and isinstance(induction_tokens, (str, bytes, os.PathLike)):
        p = _fspath(induction_tokens)
        if not os.path.exists(p):
            raise FileNotFoundError(f"{p}: no such induction tokens file")
        kw["induction_tokens_path"] = p
    elif induction_tokens is not None:
        kw["induction_tokens"] = induction_tokens
    bar = None
    if callable(progress):
        cb = progress
    elif progress:
        bar = Progress()
        cb = bar.update
    else:
        cb = None
    try:
        r = _headscan.scan(model._m, model.tokenizer, n_ctx=n_ctx, progress=cb, **kw)
    finally:
        if bar is not None:
            bar.close()
    return Scan(result=r, tokenizer=model.tokenizer)


def load_scan(dir, tokenizer=None):
    """Reads a scan folder written by `headscan scan --out` or Scan.save (arrays as numpy arrays
    owned by Python). tokenizer: for report() token strings (default: the manifest's, when readable)."""
    d = _fspath(dir)
    if not os.path.isdir(d):
        raise FileNotFoundError(f"{d}: no such scan folder")
    for need in ("head_table.csv", "manifest.json", "quantiles.json"):
        if not os.path.exists(os.path.join(d, need)):
            raise FileNotFoundError(f"{d}: not a scan folder ({need} is missing)")
    if tokenizer is None:
        try:
            with open(os.path.join(d, "manifest.json")) as f:
                tp = (json.load(f).get("input") or {}).get("tokenizer")
            if tp and os.access(tp, os.R_OK):
                tokenizer = Tokenizer(tp)
        except (ValueError, OSError):
            tokenizer = None
    elif not isinstance(tokenizer, Tokenizer):
        tokenizer = Tokenizer(tokenizer)
    return Scan(folder=d, tokenizer=tokenizer)
