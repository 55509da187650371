/* test_tokens_fake.c — the token builder's chunking, sharding, pad removal,
 * remainders, BOS column, plain mode and shuffle, with a trivial tokenizer (each
 * code point -> code point + 2, every literal "<|endoftext|>" -> 0) that
 * tests/reference/tokens_ref.py --fake implements too. The Python reference's
 * hashes (tests/data/tokens_golden.txt, fake_* cases) are the truth. Also: the
 * result does not depend on the thread count; cancellation; tiny inputs. */
#include "headscan/headscan.h"
#include "data/data_internal.h"
#include "test.h"
#include "data_test_util.h"
#include <unistd.h>
#include <sys/stat.h>

#define DEV HS_SHARED_DIR "/data/corpus/dev.jsonl"
#define GOLDEN HS_SOURCE_DIR "/tests/data/tokens_golden.txt"

static hs_status fake_encode(const void *ctx, const char *text, size_t len, hs_ids *out) {
    (void)ctx;
    static const char eos[] = "<|endoftext|>";
    const unsigned char *u = (const unsigned char *)text;
    size_t i = 0;
    while (i < len) {
        int32_t id;
        if (len - i >= 13 && !memcmp(text + i, eos, 13)) { id = 0; i += 13; }
        else {
            uint32_t cp = u[i];
            int n = cp < 0x80 ? 1 : cp < 0xE0 ? 2 : cp < 0xF0 ? 3 : 4;
            if (n > 1) cp &= 0x3F >> (n - 1);
            for (int k = 1; k < n && i + (size_t)k < len; k++) cp = cp << 6 | (u[i + k] & 0x3F);
            i += (size_t)n;
            id = (int32_t)cp + 2;
        }
        hs_status s = hs_data_ids_append(out, &id, 1);
        if (s) return s;
    }
    return HS_OK;
}

static const hs_encoder FAKE = {fake_encode, NULL, 0, 0, 0, "<|endoftext|>"};

static hs_status build(const char *path, const hs_tokens_params *tp, hs_array *out, hs_tokens_stats *st) {
    hs_docs_params dp = hs_docs_default_params();
    hs_docs *d;
    hs_status s = hs_docs_open(path, &dp, &d);
    if (s) return s;
    s = hs_tokens_build_with(&FAKE, d, tp, out, st);
    hs_docs_close(d);
    return s;
}

static void check_case(const char *gcase, const hs_tokens_params *tp) {
    long long rows = -1;
    char want[65] = "", got[65] = "";
    CHECK(golden_lookup(GOLDEN, gcase, &rows, want), "golden %s", gcase);
    for (int threads = 1; threads <= 3; threads++) {
        hs_tokens_params p = *tp;
        p.threads = threads;
        hs_array a;
        hs_tokens_stats st;
        CHECK_OK(build(DEV, &p, &a, &st));
        if (!a.data) continue;
        CHECK(a.dtype == HS_I64 && a.ndim == 2 && a.shape[1] == p.n_ctx, "%s: shape", gcase);
        CHECK(a.shape[0] == rows && st.rows == rows, "%s: %lld rows, want %lld", gcase, (long long)a.shape[0], rows);
        hs_data_sha256(a.data, (size_t)hs_array_numel(&a) * 8, got);
        CHECK(!strcmp(got, want), "%s (%d threads): matrix differs from the Python reference", gcase, threads);
        CHECK(st.docs == 322, "%s: docs %lld", gcase, (long long)st.docs);
        hs_array_free(&a);
    }
}

static int cancel_after(int64_t done, int64_t total, void *user) {
    (void)total;
    int *calls = user;
    (*calls)++;
    return done >= 100;
}

int main(void) {
    hs_tokens_params tp = hs_tokens_default_params();
    check_case("fake_dev", &tp);
    hs_tokens_params odd = tp;
    odd.num_proc = 3; odd.batch_size = 50; odd.n_ctx = 17; odd.num_chunks = 7; odd.seed = 7;
    check_case("fake_dev_odd", &odd);
    hs_tokens_params plain = tp;
    plain.mode = HS_TOKENS_PLAIN; plain.n_ctx = 100; plain.shuffle = false;
    check_case("fake_dev_plain", &plain);

    /* stats add up: tokens = pad removed + kept, kept = rows*(n_ctx-1) + tail */
    {
        hs_array a;
        hs_tokens_stats st;
        CHECK_OK(build(DEV, &tp, &a, &st));
        CHECK(st.batches == 10, "10 batches, got %lld", (long long)st.batches);
        CHECK(st.tokens - st.pad_removed == st.rows * 255 + st.tail_dropped, "token accounting");
        /* the BOS column */
        int ok = a.data != NULL;
        for (int64_t r = 0; ok && r < a.shape[0]; r++) ok = ((int64_t *)a.data)[r * 256] == 0;
        CHECK(ok, "column 0 is BOS");
        hs_array_free(&a);
    }
    /* cancellation through the progress callback */
    {
        int calls = 0;
        hs_tokens_params p = tp;
        p.progress = cancel_after;
        p.progress_user = &calls;
        hs_array a;
        CHECK(build(DEV, &p, &a, NULL) == HS_ERR_CANCELLED, "cancelled");
        CHECK(a.data == NULL && calls >= 2, "nothing returned, callback called %d times", calls);
    }
    /* tiny and empty inputs; bad parameters */
    {
        char dir[128], path[256];
        snprintf(dir, sizeof dir, "/tmp/hs_test_tokfake.%d", (int)getpid());
        mkdir(dir, 0700);
        snprintf(path, sizeof path, "%s/three.jsonl", dir);
        FILE *f = fopen(path, "w");
        fputs("{\"text\": \"abcdefgh\"}\n{\"text\": \"\"}\n{\"text\": \"xyz\"}\n", f);
        fclose(f);
        hs_tokens_params p = tp;
        p.n_ctx = 3;
        p.shuffle = false;
        hs_array a;
        /* 3 docs < num_proc 10 -> 3 shards of one document each (datasets lowers num_proc):
         * "abcdefgh" -> 4 rows of 2, "" -> nothing, "xyz" -> 1 row + 1 dropped */
        CHECK_OK(build(path, &p, &a, NULL));
        int64_t want[] = {0, 'a' + 2, 'b' + 2, 0, 'c' + 2, 'd' + 2, 0, 'e' + 2, 'f' + 2, 0, 'g' + 2, 'h' + 2, 0, 'x' + 2, 'y' + 2};
        CHECK(a.shape[0] == 5 && a.data && !memcmp(a.data, want, sizeof want), "three docs: %lld rows", (long long)a.shape[0]);
        hs_array_free(&a);
        p.mode = HS_TOKENS_PLAIN;  /* plain: a b c d e f g h EOS EOS x y z -> 6 rows of 2, 1 dropped */
        CHECK_OK(build(path, &p, &a, NULL));
        int64_t wantp[] = {0, 'a' + 2, 'b' + 2, 0, 'c' + 2, 'd' + 2, 0, 'e' + 2, 'f' + 2, 0, 'g' + 2, 'h' + 2, 0, 0, 0, 0, 'x' + 2, 'y' + 2};
        CHECK(a.shape[0] == 6 && a.data && !memcmp(a.data, wantp, sizeof wantp), "plain three docs: %lld rows", (long long)a.shape[0]);
        hs_array_free(&a);
        snprintf(path, sizeof path, "%s/none.jsonl", dir);
        f = fopen(path, "w");
        fputs("{\"text\": null}\n", f);
        fclose(f);
        CHECK_OK(build(path, &tp, &a, NULL));
        CHECK(a.ndim == 2 && a.shape[0] == 0 && a.shape[1] == 256 && a.data, "no documents: [0, 256]");
        hs_array_free(&a);
        p = tp;
        p.n_ctx = 1;
        CHECK(build(path, &p, &a, NULL) == HS_ERR_INVALID_ARG, "n_ctx 1 refused");
        p = tp;
        p.num_chunks = 0;
        CHECK(build(path, &p, &a, NULL) == HS_ERR_INVALID_ARG, "0 chunks refused");
        /* hs_tokens_load: int32 matrices are widened, other shapes/dtypes refused */
        int32_t m32[6] = {0, 5, 6, 0, 7, 8};
        int64_t sh2[2] = {2, 3}, sh1[1] = {6};
        snprintf(path, sizeof path, "%s/m32.npy", dir);
        CHECK_OK(hs_npy_write(path, HS_I32, 2, sh2, m32));
        CHECK_OK(hs_tokens_load(path, &a));
        CHECK(a.dtype == HS_I64 && a.ndim == 2 && a.shape[0] == 2 && a.data && ((int64_t *)a.data)[5] == 8, "int32 widened");
        hs_array_free(&a);
        CHECK_OK(hs_npy_write(path, HS_I32, 1, sh1, m32));
        CHECK(hs_tokens_load(path, &a) == HS_ERR_FORMAT && strstr(hs_last_error(), "m32.npy"), "1-D refused");
        float fz[6] = {0};
        CHECK_OK(hs_npy_write(path, HS_F32, 2, sh2, fz));
        CHECK(hs_tokens_load(path, &a) == HS_ERR_FORMAT, "float refused");
        char cmd[300];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
        CHECK(system(cmd) == 0, "cleanup");
    }
    return test_report("test_tokens_fake");
}
