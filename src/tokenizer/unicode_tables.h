/* unicode_tables.h — lookups into the generated src/tokenizer/unicode_tables.c
 * (scripts/gen_unicode_tables.py): pre-tokenizer character classes as HF's Oniguruma sees
 * them, and Unicode 9.0 NFC data as HF's normalizer has it. */
#ifndef HS_TOKENIZER_UNICODE_TABLES_H
#define HS_TOKENIZER_UNICODE_TABLES_H
#include <stddef.h>
#include <stdint.h>

enum { HS_UC_OTHER = 0, HS_UC_LETTER = 1, HS_UC_NUMBER = 2, HS_UC_SPACE = 3 };

extern const uint16_t hs_uc_class_stage1[];
extern const uint8_t hs_uc_class_stage2[];
extern const uint16_t hs_uc_ccc_stage1[];
extern const uint8_t hs_uc_ccc_stage2[];
extern const uint16_t hs_uc_nfc_slow_stage1[];
extern const uint8_t hs_uc_nfc_slow_stage2[];

typedef struct { uint32_t cp; uint16_t offset; uint8_t len; } hs_uc_decomp;  /* into pool */
typedef struct { uint32_t first, second, composite; } hs_uc_comp;            /* sorted */
extern const uint32_t hs_uc_decomp_pool[];
extern const hs_uc_decomp hs_uc_decomp_index[];   /* sorted by cp */
extern const size_t hs_uc_decomp_count;
extern const hs_uc_comp hs_uc_comp_pairs[];
extern const size_t hs_uc_comp_count;

/* cp must be < 0x110000. */
static inline int hs_uc_class(uint32_t cp) {
    return hs_uc_class_stage2[(size_t)hs_uc_class_stage1[cp >> 8] * 256 + (cp & 255)];
}
static inline int hs_uc_ccc(uint32_t cp) {
    return hs_uc_ccc_stage2[(size_t)hs_uc_ccc_stage1[cp >> 8] * 256 + (cp & 255)];
}
/* 1 when NFC may change the text around cp (non-starter, quick check No or Maybe). */
static inline int hs_uc_nfc_slow(uint32_t cp) {
    return hs_uc_nfc_slow_stage2[(size_t)hs_uc_nfc_slow_stage1[cp >> 8] * 256 + (cp & 255)];
}
#endif
