#!/usr/bin/python3
"""hubtool.py — the Python side of headscan's hub tests (stdlib only, no huggingface_hub).

  make-root DIR                 builds the fake hub's repos (tiny config, tokenizer,
                                safetensors, parquet-like files) under DIR
  check CACHE TYPE REPO REV FILE SRC
                                reads FILE back from the cache the way huggingface_hub's
                                try_to_load_from_cache does (refs → commit → snapshot) and checks
                                the layout headscan wrote: refs/REV holds the commit (40 hex, no
                                newline), the snapshot entry is a relative symlink to
                                ../../blobs/<etag> (etag = sha256 for LFS files, git blob sha1
                                otherwise), the bytes equal SRC, no .incomplete is left
  populate CACHE TYPE REPO REV COMMIT SRCDIR
                                writes SRCDIR's files into CACHE exactly as huggingface_hub lays
                                them out, so headscan must use them without any request
  commit TYPE REPO REV          the commit the fake hub reports (sha1 of "TYPE/REPO@REV")
"""
import hashlib, json, os, struct, sys

LFS_SUFFIXES = (".safetensors", ".parquet", ".bin")


def is_lfs(name, size):
    return size > 1024 or name.endswith(LFS_SUFFIXES)


def etag_of(name, data):
    if is_lfs(name, len(data)):
        return hashlib.sha256(data).hexdigest()
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def commit(rtype, repo, rev):
    return hashlib.sha1(f"{rtype}/{repo}@{rev}".encode()).hexdigest()


def folder_name(rtype, repo):
    return f"{rtype}--" + repo.replace("/", "--")


def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)


def safetensors(seed, n):
    """A valid safetensors file: one F32 tensor of n values."""
    hdr = json.dumps({"__metadata__": {"format": "pt"},
                      "w": {"dtype": "F32", "shape": [n], "data_offsets": [0, 4 * n]}}).encode()
    hdr += b" " * (-len(hdr) % 8)
    vals = struct.pack(f"<{n}f", *[float((i * 7919 + seed) % 1000) / 7 for i in range(n)])
    return struct.pack("<Q", len(hdr)) + hdr + vals


def pseudo_parquet(seed, n):
    body = hashlib.sha256(str(seed).encode()).digest() * (n // 32)
    return b"PAR1" + body + b"PAR1"


def make_root(root):
    m = os.path.join(root, "models")
    d = os.path.join(root, "datasets")
    for rev, layers in (("main", 6), ("step143000", 5)):
        base = os.path.join(m, "EleutherAI/pythia-70m", rev)
        write(f"{base}/config.json", json.dumps({"architectures": ["GPTNeoXForCausalLM"],
                                                  "num_hidden_layers": layers}).encode())
        write(f"{base}/tokenizer.json", json.dumps({"version": "1.0", "model": {"type": "BPE"}}).encode())
        write(f"{base}/tokenizer_config.json", b'{"bos_token": "<|endoftext|>"}')
        write(f"{base}/model.safetensors", safetensors(layers, 3000))      # ~12 kB, LFS
        write(f"{base}/pytorch_model.bin", b"not fetched" * 200)            # never downloaded
        write(f"{base}/README.md", b"# fake pythia\n")
    base = os.path.join(m, "test/gated/main")
    write(f"{base}/config.json", b'{"architectures": ["GPT2LMHeadModel"]}')
    write(f"{base}/model.safetensors", safetensors(1, 600))
    base = os.path.join(m, "test/binonly/main")
    write(f"{base}/config.json", b'{"architectures": ["GPTNeoXForCausalLM"]}')
    write(f"{base}/pytorch_model.bin", b"\x80\x02" * 1000)
    base = os.path.join(m, "test/sharded/main")
    write(f"{base}/config.json", b'{"architectures": ["GPTNeoXForCausalLM"]}')
    write(f"{base}/model-00001-of-00002.safetensors", safetensors(2, 500))
    write(f"{base}/model-00002-of-00002.safetensors", safetensors(3, 500))
    write(f"{base}/model.safetensors.index.json", json.dumps({"metadata": {"total_size": 4000}, "weight_map": {
        "a": "model-00001-of-00002.safetensors", "b": "model-00002-of-00002.safetensors",
        "c": "model-00001-of-00002.safetensors"}}).encode())
    base = os.path.join(m, "test/slow/main")
    write(f"{base}/config.json", b'{"architectures": ["GPTNeoXForCausalLM"]}')
    write(f"{base}/model.safetensors", safetensors(4, 15000))   # 60 kB
    base = os.path.join(d, "NeelNanda/pile-10k/main")
    write(f"{base}/README.md", b"---\nlicense: bigscience-bloom-rail-1.0\n---\n")
    write(f"{base}/data/train-00000-of-00001-4746b8785c874cc7.parquet", pseudo_parquet(1, 40000))
    base = os.path.join(d, "test/splits/main")
    write(f"{base}/data/train-00001-of-00002.parquet", pseudo_parquet(3, 2000))
    write(f"{base}/data/train-00000-of-00002.parquet", pseudo_parquet(2, 2000))
    write(f"{base}/data/test-00000-of-00001.parquet", pseudo_parquet(4, 2000))
    write(f"{base}/data/validation-00000-of-00001.parquet", pseudo_parquet(5, 2000))
    base = os.path.join(d, "test/converted")
    write(f"{base}/main/data.jsonl", b'{"text": "a"}\n')
    write(f"{base}/refs%2Fconvert%2Fparquet/default/train/0001.parquet", pseudo_parquet(7, 3000))
    write(f"{base}/refs%2Fconvert%2Fparquet/default/train/0000.parquet", pseudo_parquet(6, 3000))
    write(f"{base}/refs%2Fconvert%2Fparquet/default/test/0000.parquet", pseudo_parquet(8, 3000))
    base = os.path.join(m, "py/model/main")     # source for a cache written by "populate"
    write(f"{base}/config.json", b'{"architectures": ["GPTNeoXForCausalLM"], "from": "python"}')
    write(f"{base}/tokenizer.json", b'{"model": {"type": "BPE"}}')
    write(f"{base}/model.safetensors", safetensors(9, 700))


def fail(msg):
    print(f"hubtool check: {msg}", file=sys.stderr)
    sys.exit(1)


def check(cache, rtype, repo, rev, fname, src):
    folder = os.path.join(cache, folder_name(rtype, repo))
    # try_to_load_from_cache: a commit hash is used as is, else refs/<rev>
    if len(rev) == 40 and all(c in "0123456789abcdef" for c in rev):
        sha = rev
    else:
        ref = os.path.join(folder, "refs", rev)
        if not os.path.isfile(ref):
            fail(f"no ref file {ref}")
        sha = open(ref).read()
        if len(sha) != 40 or any(c not in "0123456789abcdef" for c in sha):
            fail(f"{ref} holds {sha!r}, not a bare 40-hex commit")
    pointer = os.path.join(folder, "snapshots", sha, fname)
    if not os.path.islink(pointer):
        fail(f"{pointer} is not a symlink")
    data = open(src, "rb").read()
    etag = etag_of(fname, data)
    target = os.readlink(pointer)
    want = "../" * (2 + fname.count("/")) + "blobs/" + etag
    if target != want:
        fail(f"{pointer} -> {target}, expected {want}")
    if not os.path.isfile(pointer):
        fail(f"{pointer} does not resolve")
    if open(pointer, "rb").read() != data:
        fail(f"{pointer}: contents differ from {src}")
    blobs = os.path.join(folder, "blobs")
    left = [b for b in os.listdir(blobs) if b.endswith(".incomplete")]
    if left:
        fail(f"leftover partial downloads: {left}")
    print(pointer)


def populate(cache, rtype, repo, rev, sha, srcdir):
    folder = os.path.join(cache, folder_name(rtype, repo))
    os.makedirs(os.path.join(folder, "refs"), exist_ok=True)
    with open(os.path.join(folder, "refs", rev), "w") as f:
        f.write(sha)
    for dp, _, fns in os.walk(srcdir):
        for fn in fns:
            rel = os.path.relpath(os.path.join(dp, fn), srcdir)
            data = open(os.path.join(dp, fn), "rb").read()
            blob = os.path.join(folder, "blobs", etag_of(rel, data))
            write(blob, data)
            pointer = os.path.join(folder, "snapshots", sha, rel)
            os.makedirs(os.path.dirname(pointer), exist_ok=True)
            os.symlink(os.path.relpath(blob, os.path.dirname(pointer)), pointer)


def main():
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "make-root":
        make_root(*args)
    elif cmd == "check":
        check(*args)
    elif cmd == "populate":
        populate(*args)
    elif cmd == "commit":
        print(commit(*args))
    else:
        sys.exit(f"unknown command {cmd}")


if __name__ == "__main__":
    main()
