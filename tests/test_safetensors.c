/* test_safetensors.c — the safetensors reader: exact F16/BF16 conversion, and a
 * clear error (never a crash) for every malformed header the issue lists. */
#include "test.h"
#include "io/safetensors.h"
#include <stdint.h>
#include <unistd.h>
#include <sys/stat.h>

static char tmpdir[256];

static void write_file(const char *path, const void *data, size_t n) {
    FILE *f = fopen(path, "wb");
    if (!f) { perror(path); exit(2); }
    fwrite(data, 1, n, f);
    fclose(f);
}

/* header JSON + raw data → a safetensors file at path */
static void write_st(const char *path, const char *json, const void *data, size_t n) {
    size_t hl = strlen(json);
    unsigned char len8[8];
    for (int i = 0; i < 8; i++) len8[i] = (unsigned char)(((uint64_t)hl >> (8 * i)) & 0xff);
    FILE *f = fopen(path, "wb");
    fwrite(len8, 1, 8, f);
    fwrite(json, 1, hl, f);
    if (n) fwrite(data, 1, n, f);
    fclose(f);
}

static hs_status open_json(const char *name, const char *json, const void *data, size_t n, hs_safetensors *st) {
    char path[512];
    snprintf(path, sizeof path, "%s/%s.safetensors", tmpdir, name);
    write_st(path, json, data, n);
    return hs_st_open(path, st);
}

/* An independent F16 decoder: value = (-1)^s · m · 2^(e-25) with the implicit bit. */
static double f16_oracle(uint16_t h) {
    int s = h >> 15, e = (h >> 10) & 31, m = h & 1023;
    double v;
    if (e == 0) v = ldexp(m, -24);
    else if (e == 31) v = m ? NAN : INFINITY;
    else v = ldexp(m + 1024, e - 25);
    return s ? -v : v;
}

static void expect_error(const char *what, hs_status s, const char *needle) {
    CHECK(s != HS_OK, "%s: expected an error", what);
    CHECK(strstr(hs_last_error(), needle) != NULL, "%s: message '%s' should mention '%s'", what, hs_last_error(), needle);
    CHECK(strstr(hs_last_error(), tmpdir) != NULL, "%s: message '%s' should name the file", what, hs_last_error());
}

int main(void) {
    snprintf(tmpdir, sizeof tmpdir, "/tmp/hs_test_st_%d", (int)getpid());
    mkdir(tmpdir, 0700);
    hs_safetensors st;

    /* every F16 bit pattern converts exactly (subnormals, ±0, inf, NaN) */
    int bad = 0;
    for (uint32_t h = 0; h < 65536; h++) {
        float f = hs_f16_to_f32((uint16_t)h);
        double o = f16_oracle((uint16_t)h);
        if (isnan(o) ? !isnan(f) : ((double)f != o || !signbit(f) != !signbit(o))) bad++;
        /* and back: f32 -> f16 round-trips every non-NaN value */
        if (!isnan(o) && hs_f32_to_f16(f) != h) bad++;
    }
    CHECK(bad == 0, "%d F16 patterns convert wrongly", bad);
    /* BF16: the top half of the float32 */
    float one = hs_bf16_to_f32(0x3f80), negzero = hs_bf16_to_f32(0x8000), sub = hs_bf16_to_f32(0x0001);
    CHECK(one == 1.0f && negzero == 0.0f && signbit(negzero) && sub == ldexpf(1.0f, -133), "bf16 conversion");

    /* a valid file with F32, F16 and BF16 tensors */
    unsigned char data[4 * 2 + 2 * 2 + 2 * 2];
    float f32v[2] = {1.5f, -2.25f};
    uint16_t f16v[2] = {0x3c00, 0x0001}, bf16v[2] = {0x4049, 0xff80};
    memcpy(data, f32v, 8);
    memcpy(data + 8, f16v, 4);
    memcpy(data + 12, bf16v, 4);
    CHECK_OK(open_json("good",
                       "{\"__metadata__\":{\"format\":\"pt\"},\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                       "\"b\":{\"dtype\":\"F16\",\"shape\":[2,1],\"data_offsets\":[8,12]},"
                       "\"c\":{\"dtype\":\"BF16\",\"shape\":[2],\"data_offsets\":[12,16]},"
                       "\"s\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[16,16]}}   ",
                       data, sizeof data, &st));
    if (st.n_tensors == 4) {
        const hs_st_tensor *a = hs_st_find(&st, "a"), *b = hs_st_find(&st, "b"), *c = hs_st_find(&st, "c");
        float out[2];
        CHECK(a && b && c, "tensors found");
        if (a && b && c) {
            CHECK(a->offset == st.file_size - sizeof data, "F32 data offset in the file");
            CHECK_OK(hs_st_to_f32(&st, a, out));
            CHECK(out[0] == 1.5f && out[1] == -2.25f, "f32 values");
            CHECK_OK(hs_st_to_f32(&st, b, out));
            CHECK(out[0] == 1.0f && out[1] == ldexpf(1.0f, -24), "f16 values %g %g", out[0], out[1]);
            CHECK_OK(hs_st_to_f32(&st, c, out));
            CHECK(out[0] == 3.140625f && isinf(out[1]) && out[1] < 0, "bf16 values %g %g", out[0], out[1]);
            CHECK(b->ndim == 2 && b->shape[0] == 2 && b->shape[1] == 1, "shape");
        }
    } else CHECK(0, "expected 4 tensors, got %d", st.n_tensors);
    hs_st_close(&st);

    /* malformed files */
    char path[512];
    snprintf(path, sizeof path, "%s/short.safetensors", tmpdir);
    write_file(path, "abc", 3);
    expect_error("shorter than 8 bytes", hs_st_open(path, &st), "truncated");
    snprintf(path, sizeof path, "%s/empty.safetensors", tmpdir);
    write_file(path, "", 0);
    expect_error("empty file", hs_st_open(path, &st), "empty");
    snprintf(path, sizeof path, "%s/beyond.safetensors", tmpdir);
    write_file(path, "\x40\x00\x00\x00\x00\x00\x00\x00{}", 10);
    expect_error("header length beyond the file", hs_st_open(path, &st), "beyond the end");
    snprintf(path, sizeof path, "%s/huge.safetensors", tmpdir);
    write_file(path, "\xff\xff\xff\xff\xff\xff\xff\x7f{}", 10);
    expect_error("absurd header length", hs_st_open(path, &st), "limit");
    CHECK(hs_st_open("/nonexistent/x.safetensors", &st) == HS_ERR_IO, "missing file is an I/O error");
    expect_error("not JSON", open_json("notjson", "{\"a\": [1,", NULL, 0, &st), "not a JSON object");
    expect_error("offsets past the buffer",
                 open_json("range", "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", data, 4, &st), "beyond the data buffer");
    expect_error("end before begin",
                 open_json("order", "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,0]}}", data, 8, &st), "end");
    expect_error("overlap",
                 open_json("overlap", "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                                      "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", data, 8, &st), "overlap");
    expect_error("length mismatch",
                 open_json("len", "{\"a\":{\"dtype\":\"F16\",\"shape\":[3],\"data_offsets\":[0,8]}}", data, 8, &st), "needs");
    expect_error("unknown dtype",
                 open_json("dtype", "{\"a\":{\"dtype\":\"Q4\",\"shape\":[1],\"data_offsets\":[0,1]}}", data, 8, &st), "unknown dtype");
    expect_error("negative shape",
                 open_json("neg", "{\"a\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}", data, 8, &st), "shape");
    expect_error("fractional shape",
                 open_json("frac", "{\"a\":{\"dtype\":\"F32\",\"shape\":[1.5],\"data_offsets\":[0,4]}}", data, 8, &st), "shape");
    expect_error("missing offsets", open_json("nooff", "{\"a\":{\"dtype\":\"F32\",\"shape\":[1]}}", data, 8, &st), "data_offsets");
    expect_error("overflowing shape",
                 open_json("ovf", "{\"a\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296,4294967296],\"data_offsets\":[0,4]}}",
                           data, 8, &st), "");
    /* a valid file whose int tensor cannot be used as weights */
    CHECK_OK(open_json("int", "{\"a\":{\"dtype\":\"I64\",\"shape\":[1],\"data_offsets\":[0,8]}}", data, 8, &st));
    float tmp[2];
    if (st.n_tensors == 1) CHECK(hs_st_to_f32(&st, &st.tensors[0], tmp) == HS_ERR_UNSUPPORTED, "I64 as weights is refused");
    hs_st_close(&st);

    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
    if (system(cmd) != 0) fprintf(stderr, "could not clean %s\n", tmpdir);
    return test_report("test_safetensors");
}
