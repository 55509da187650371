/* headscan.h — the whole public API of libheadscan. */
#ifndef HEADSCAN_H
#define HEADSCAN_H
#include "common.h"
#include "tokenizer.h"
#include "model.h"
#include "data.h"
#include "hub.h"
#include "scan.h"
#include "report.h"
#endif
