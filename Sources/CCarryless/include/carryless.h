#ifndef QSM_CARRYLESS_H
#define QSM_CARRYLESS_H

#include <stddef.h>
#include <stdint.h>

/// The product of two polynomials over GF(2) of `words` 64-bit words each (coefficient i is bit i % 64 of
/// word i / 64), written to the 2 * `words` words of `product`. `scratch` holds
/// qsm_carryless_scratch_words(words) words. Karatsuba above 32 words, schoolbook below, with the CPU's
/// carry-less multiply (PCLMULQDQ) when it has one.
void qsm_carryless_multiply(const uint64_t *a, const uint64_t *b, size_t words, uint64_t *product, uint64_t *scratch);

/// qsm_carryless_multiply without PCLMULQDQ, whatever the CPU (tests compare the two paths).
void qsm_carryless_multiply_portable(const uint64_t *a, const uint64_t *b, size_t words, uint64_t *product,
                                     uint64_t *scratch);

/// Scratch words qsm_carryless_multiply needs for operands of `words` words.
size_t qsm_carryless_scratch_words(size_t words);

/// 1 when the fast path (PCLMULQDQ) runs on this CPU, 0 when the portable one does.
int qsm_carryless_is_accelerated(void);

#endif
