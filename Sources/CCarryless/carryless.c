// Polynomial multiplication over GF(2) for Toeplitz privacy amplification: the Toeplitz product T x is a
// window of the product of the seed and the key polynomials, so Karatsuba makes hashing an n-bit key
// O(n^1.585) word products instead of O(n^2 / 64) word operations.
#include "carryless.h"

#include <string.h>

#if defined(__x86_64__)
#include <cpuid.h>
#include <wmmintrin.h>
#endif

#define SCHOOLBOOK_WORDS 32

typedef void (*word_product)(const uint64_t *a, const uint64_t *b, size_t words, uint64_t *product);

// 64 x 64 -> 128-bit carry-less product, four bits of b at a time.
static inline void multiply_word_portable(uint64_t a, uint64_t b, uint64_t *low, uint64_t *high) {
    unsigned __int128 table[16];
    table[0] = 0;
    table[1] = a;
    for (int i = 2; i < 16; i += 2) {
        table[i] = table[i / 2] << 1;
        table[i + 1] = table[i] ^ a;
    }
    unsigned __int128 sum = 0;
    for (int shift = 60; shift >= 0; shift -= 4) {
        sum = (sum << 4) ^ table[(b >> shift) & 15];
    }
    *low = (uint64_t)sum;
    *high = (uint64_t)(sum >> 64);
}

static void schoolbook_portable(const uint64_t *a, const uint64_t *b, size_t words, uint64_t *product) {
    memset(product, 0, 2 * words * sizeof(uint64_t));
    for (size_t i = 0; i < words; i++) {
        for (size_t j = 0; j < words; j++) {
            uint64_t low, high;
            multiply_word_portable(a[i], b[j], &low, &high);
            product[i + j] ^= low;
            product[i + j + 1] ^= high;
        }
    }
}

#if defined(__x86_64__)
__attribute__((target("pclmul,sse2")))
static void schoolbook_pclmul(const uint64_t *a, const uint64_t *b, size_t words, uint64_t *product) {
    memset(product, 0, 2 * words * sizeof(uint64_t));
    for (size_t i = 0; i < words; i++) {
        __m128i left = _mm_cvtsi64_si128((long long)a[i]);
        for (size_t j = 0; j < words; j++) {
            __m128i right = _mm_cvtsi64_si128((long long)b[j]);
            __m128i both = _mm_clmulepi64_si128(left, right, 0x00);
            product[i + j] ^= (uint64_t)_mm_cvtsi128_si64(both);
            product[i + j + 1] ^= (uint64_t)_mm_cvtsi128_si64(_mm_unpackhi_epi64(both, both));
        }
    }
}

static int cpu_has_pclmul(void) {
    unsigned int eax, ebx, ecx, edx;
    if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx)) return 0;
    return (ecx & bit_PCLMUL) != 0;
}
#endif

int qsm_carryless_is_accelerated(void) {
#if defined(__x86_64__)
    return cpu_has_pclmul();
#else
    return 0;
#endif
}

size_t qsm_carryless_scratch_words(size_t words) {
    size_t total = 0;
    while (words > SCHOOLBOOK_WORDS) {
        size_t high = words - words / 2;
        total += 4 * high;
        words = high;
    }
    return total + 1;
}

static void karatsuba(const uint64_t *a, const uint64_t *b, size_t words, uint64_t *product, uint64_t *scratch,
                      word_product schoolbook) {
    if (words <= SCHOOLBOOK_WORDS) {
        schoolbook(a, b, words, product);
        return;
    }
    // a = a0 + a1 x^(64 h), with a0 of h words and a1 of g >= h words; likewise b.
    size_t h = words / 2;
    size_t g = words - h;
    uint64_t *sum_a = scratch;
    uint64_t *sum_b = scratch + g;
    uint64_t *middle = scratch + 2 * g;
    uint64_t *rest = scratch + 4 * g;
    for (size_t i = 0; i < g; i++) {
        sum_a[i] = a[h + i] ^ (i < h ? a[i] : 0);
        sum_b[i] = b[h + i] ^ (i < h ? b[i] : 0);
    }
    // z0 = a0 b0 in product[0, 2h), z2 = a1 b1 in product[2h, 2h + 2g), z1 = (a0 + a1)(b0 + b1) aside.
    karatsuba(a, b, h, product, rest, schoolbook);
    karatsuba(a + h, b + h, g, product + 2 * h, rest, schoolbook);
    karatsuba(sum_a, sum_b, g, middle, rest, schoolbook);
    // middle = z1 - z0 - z2 (over GF(2), XOR), added at word h.
    for (size_t i = 0; i < 2 * h; i++) middle[i] ^= product[i];
    for (size_t i = 0; i < 2 * g; i++) middle[i] ^= product[2 * h + i];
    for (size_t i = 0; i < 2 * g; i++) product[h + i] ^= middle[i];
}

void qsm_carryless_multiply(const uint64_t *a, const uint64_t *b, size_t words, uint64_t *product, uint64_t *scratch) {
    word_product schoolbook = schoolbook_portable;
#if defined(__x86_64__)
    if (cpu_has_pclmul()) schoolbook = schoolbook_pclmul;
#endif
    karatsuba(a, b, words, product, scratch, schoolbook);
}

void qsm_carryless_multiply_portable(const uint64_t *a, const uint64_t *b, size_t words, uint64_t *product,
                                     uint64_t *scratch) {
    karatsuba(a, b, words, product, scratch, schoolbook_portable);
}
