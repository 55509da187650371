/* headscan/data.h — datasets: JSONL, text and Parquet readers, and the token
 * matrix TransformerLens builds (tokenize_and_concatenate + Dataset.shuffle). */
#ifndef HEADSCAN_DATA_H
#define HEADSCAN_DATA_H

#include "common.h"
#include "tokenizer.h"

#ifdef __cplusplus
extern "C" {
#endif

/* (filled in by the datasets work) */

#ifdef __cplusplus
}
#endif
#endif
