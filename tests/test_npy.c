/* test_npy.c — hs_npy_read / hs_npy_write against files numpy wrote
 * (tests/data/npy, from tests/reference/make_npy_fixtures.py, values known from
 * that script), byte-identical output, round trips, and bad files. */
#include "headscan/headscan.h"
#include "core/internal.h"
#include "test.h"
#include <dirent.h>
#include <unistd.h>
#include <sys/stat.h>

#define FIX HS_SOURCE_DIR "/tests/data/npy/"

static char tmpdir[256];

static void tmp_path(char *buf, size_t cap, const char *name) { snprintf(buf, cap, "%s/%s", tmpdir, name); }

static void write_bytes(const char *path, const void *d, size_t n) {
    FILE *f = fopen(path, "wb");
    if (f) { fwrite(d, 1, n, f); fclose(f); }
}

static int same_file_bytes(const char *a, const char *b) {
    char *x, *y;
    size_t nx, ny;
    if (hs_read_file(a, 0, &x, &nx) || hs_read_file(b, 0, &y, &ny)) return 0;
    int same = nx == ny && !memcmp(x, y, nx);
    free(x);
    free(y);
    return same;
}

/* Reads a numpy fixture, checks dtype/shape, then rewrites it and compares bytes. */
static hs_array check_fixture(const char *name, hs_dtype dt, int ndim, const int64_t *shape) {
    char path[512], out[512];
    snprintf(path, sizeof path, FIX "%s", name);
    hs_array a;
    CHECK_OK(hs_npy_read(path, &a));
    CHECK(a.dtype == dt && a.ndim == ndim, "%s: dtype %d ndim %d", name, (int)a.dtype, a.ndim);
    for (int i = 0; i < ndim && i < a.ndim; i++) CHECK(a.shape[i] == shape[i], "%s: dim %d", name, i);
    tmp_path(out, sizeof out, name);
    CHECK_OK(hs_npy_write(out, a.dtype, a.ndim, a.shape, a.data));
    CHECK(same_file_bytes(path, out), "%s: hs_npy_write output differs from numpy's file", name);
    return a;
}

static void expect_fail(const char *path, hs_status want, const char *needle) {
    hs_array a;
    memset(&a, 0x5a, sizeof a);
    hs_status s = hs_npy_read(path, &a);
    CHECK(s == want, "%s: status %s, want %s (%s)", path, hs_status_str(s), hs_status_str(want), hs_last_error());
    CHECK(a.data == NULL, "%s: no data on failure", path);
    CHECK(strstr(hs_last_error(), path) != NULL, "%s: message names the file: %s", path, hs_last_error());
    if (needle) CHECK(strstr(hs_last_error(), needle) != NULL, "%s: message '%s' lacks '%s'", path, hs_last_error(), needle);
}

int main(void) {
    snprintf(tmpdir, sizeof tmpdir, "/tmp/hs_test_npy.%d", (int)getpid());
    mkdir(tmpdir, 0700);

    { int64_t sh[] = {2, 3}; hs_array a = check_fixture("i4_2x3.npy", HS_I32, 2, sh);
      int ok = a.data != NULL; for (int i = 0; ok && i < 6; i++) ok = ((int32_t *)a.data)[i] == i - 3;
      CHECK(ok, "i4 values"); hs_array_free(&a); }
    { int64_t sh[] = {5}; hs_array a = check_fixture("i8_5.npy", HS_I64, 1, sh);
      int ok = a.data != NULL; for (int i = 0; ok && i < 5; i++) ok = ((int64_t *)a.data)[i] == i * 1000000000000LL - 7;
      CHECK(ok, "i8 values"); hs_array_free(&a); }
    { int64_t sh[] = {2, 2, 2}; hs_array a = check_fixture("f4_2x2x2.npy", HS_F32, 3, sh);
      int ok = a.data != NULL; for (int i = 0; ok && i < 8; i++) ok = ((float *)a.data)[i] == (float)i / 4 - 0.5f;
      CHECK(ok, "f4 values"); hs_array_free(&a); }
    { int64_t sh[] = {3}; hs_array a = check_fixture("f8_3.npy", HS_F64, 1, sh);
      CHECK(a.data && ((double *)a.data)[0] == 0.1 && ((double *)a.data)[1] == -2.5 && ((double *)a.data)[2] == 1e300, "f8 values");
      hs_array_free(&a); }
    { int64_t sh[] = {4}; hs_array a = check_fixture("u1_4.npy", HS_U8, 1, sh);
      CHECK(a.data && !memcmp(a.data, "\x00\x01\xfe\xff", 4), "u1 values"); hs_array_free(&a); }
    { int64_t sh[] = {3}; hs_array a = check_fixture("b1_3.npy", HS_BOOL, 1, sh);
      CHECK(a.data && !memcmp(a.data, "\x01\x00\x01", 3), "b1 values"); hs_array_free(&a); }
    { int64_t sh[] = {3}; hs_array a = check_fixture("f2_3.npy", HS_F16, 1, sh);
      CHECK(a.data && hs_f16_to_f32(((uint16_t *)a.data)[0]) == 1.0f && hs_f16_to_f32(((uint16_t *)a.data)[2]) == 65504.0f, "f2 values");
      hs_array_free(&a); }
    { hs_array a = check_fixture("i8_scalar.npy", HS_I64, 0, NULL);
      CHECK(a.data && hs_array_numel(&a) == 1 && ((int64_t *)a.data)[0] == 42, "scalar"); hs_array_free(&a); }
    { int64_t sh[] = {0, 4}; hs_array a = check_fixture("i8_0x4.npy", HS_I64, 2, sh);
      CHECK(hs_array_numel(&a) == 0, "empty"); hs_array_free(&a); }
    {   /* format 2.0 is read (we write 1.0, so no byte comparison) */
        hs_array a;
        CHECK_OK(hs_npy_read(FIX "i4_v2_3.npy", &a));
        CHECK(a.data && a.ndim == 1 && a.shape[0] == 3 && ((int32_t *)a.data)[2] == 9, "v2 values");
        hs_array_free(&a);
    }

    /* round trips of every writable dtype, including a header near the 64-byte boundary */
    {
        hs_dtype dts[] = {HS_F32, HS_F64, HS_I32, HS_I64, HS_U8, HS_BOOL, HS_F16};
        int64_t shapes[][3] = {{7, 1, 1}, {3, 5, 1}, {2, 3, 4}, {123456789, 0, 1}};
        int nd[] = {1, 2, 3, 2};
        for (size_t t = 0; t < sizeof dts / sizeof *dts; t++)
            for (int k = 0; k < 4; k++) {
                int64_t n = 1;
                for (int i = 0; i < nd[k]; i++) n *= shapes[k][i];
                size_t bytes = (size_t)n * hs_dtype_size(dts[t]);
                unsigned char *d = malloc(bytes ? bytes : 1);
                for (size_t i = 0; i < bytes; i++) d[i] = (unsigned char)(i * 31 + 7);
                if (dts[t] == HS_BOOL) for (size_t i = 0; i < bytes; i++) d[i] &= 1;
                char path[512];
                tmp_path(path, sizeof path, "rt.npy");
                CHECK_OK(hs_npy_write(path, dts[t], nd[k], shapes[k], d));
                hs_array a;
                CHECK_OK(hs_npy_read(path, &a));
                CHECK(a.dtype == dts[t] && a.ndim == nd[k] && !memcmp(a.shape, shapes[k], (size_t)nd[k] * 8) &&
                      (bytes == 0 || (a.data && !memcmp(a.data, d, bytes))), "round trip dtype %d shape %d", (int)dts[t], k);
                /* numpy's header rule: total header size a multiple of 64, ending in '\n' */
                char *raw; size_t rl;
                if (!hs_read_file(path, 0, &raw, &rl)) {
                    size_t hl = (unsigned char)raw[8] | (size_t)(unsigned char)raw[9] << 8;
                    CHECK((10 + hl) % 64 == 0 && raw[10 + hl - 1] == '\n', "header alignment");
                    free(raw);
                }
                hs_array_free(&a);
                free(d);
            }
    }

    /* refused cleanly: numpy-written files headscan does not handle */
    expect_fail(FIX "bad_fortran.npy", HS_ERR_UNSUPPORTED, "Fortran");
    expect_fail(FIX "bad_bigendian.npy", HS_ERR_UNSUPPORTED, ">i4");
    expect_fail(FIX "bad_structured.npy", HS_ERR_FORMAT, NULL);
    expect_fail(FIX "bad_unicode.npy", HS_ERR_UNSUPPORTED, "<U2");

    /* hand-broken files */
    {
        char *good; size_t gl;
        CHECK_OK(hs_read_file(FIX "i4_2x3.npy", 0, &good, &gl));
        char p[512];
        struct { const char *name; size_t cut; int patch_at; int patch; hs_status want; const char *needle; } cases[] = {
            {"empty.npy", 0, -1, 0, HS_ERR_FORMAT, "bad magic"},
            {"magic.npy", gl, 1, 'X', HS_ERR_FORMAT, "bad magic"},
            {"short.npy", 9, -1, 0, HS_ERR_FORMAT, "bad magic"},
            {"hdrcut.npy", 60, -1, 0, HS_ERR_FORMAT, "header longer"},
            {"datacut.npy", gl - 1, -1, 0, HS_ERR_FORMAT, "needs 24"},
            {"version.npy", gl, 6, 9, HS_ERR_UNSUPPORTED, "version 9"},
            {"hlen.npy", gl, 9, 0x7f, HS_ERR_FORMAT, "header longer"},
            {"descr.npy", gl, 11, '"', HS_ERR_FORMAT, "malformed header"},
            {"shape.npy", gl, 0x3d, 'x', HS_ERR_FORMAT, "malformed shape"},
            {"nul.npy", gl, 0x20, 0, HS_ERR_FORMAT, NULL},
        };
        for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
            char *b = malloc(gl);
            memcpy(b, good, gl);
            if (cases[i].patch_at >= 0) b[cases[i].patch_at] = (char)cases[i].patch;
            tmp_path(p, sizeof p, cases[i].name);
            write_bytes(p, b, cases[i].cut);
            expect_fail(p, cases[i].want, cases[i].needle);
            free(b);
        }
        /* extra trailing bytes are refused too (numpy files have none) */
        char *b = malloc(gl + 4);
        memcpy(b, good, gl);
        memset(b + gl, 0, 4);
        tmp_path(p, sizeof p, "trail.npy");
        write_bytes(p, b, gl + 4);
        expect_fail(p, HS_ERR_FORMAT, "needs 24");
        free(b);
        free(good);
    }
    expect_fail(tmpdir, HS_ERR_IO, "not a regular file");
    {
        char p[512];
        tmp_path(p, sizeof p, "missing.npy");
        expect_fail(p, HS_ERR_IO, "cannot open");
    }

    /* write errors: no half-written files */
    {
        int64_t sh[] = {2};
        int32_t v[2] = {1, 2};
        CHECK(hs_npy_write("/nonexistent-dir/x.npy", HS_I32, 1, sh, v) == HS_ERR_IO, "unwritable dir");
        char p[512];
        tmp_path(p, sizeof p, "bf16.npy");
        CHECK(hs_npy_write(p, HS_BF16, 1, sh, v) == HS_ERR_UNSUPPORTED, "bf16 has no .npy dtype");
        int64_t neg[] = {-1};
        CHECK(hs_npy_write(p, HS_I32, 1, neg, v) == HS_ERR_INVALID_ARG, "negative dim");
        CHECK(hs_npy_write(p, HS_I32, 1, sh, NULL) == HS_ERR_INVALID_ARG, "NULL data");
        CHECK(access(p, F_OK) != 0, "nothing written on failure");
    }

    /* clean up; no temporaries may be left behind */
    DIR *d = opendir(tmpdir);
    struct dirent *e;
    int leftovers = 0;
    while (d && (e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        if (strstr(e->d_name, ".tmp.")) leftovers++;
        char p[600];
        snprintf(p, sizeof p, "%s/%s", tmpdir, e->d_name);
        unlink(p);
    }
    if (d) closedir(d);
    rmdir(tmpdir);
    CHECK(leftovers == 0, "temporary files left: %d", leftovers);
    return test_report("test_npy");
}
