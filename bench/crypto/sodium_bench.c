/*
 * Native libsodium timings of the operations core/benches/crypto.rs times
 * in Rust, on the same keys, sizes and plaintext bytes:
 *
 *   seal-N / open-N          the reference's encrypt-sign-encrypt (spec §4.4):
 *                            box_seal -> sign_detached -> box_seal, and
 *                            box_seal_open -> verify_detached -> box_seal_open
 *   box_seal-1024 / box_seal_open-1024   crypto_box_seal / crypto_box_seal_open
 *   sign-1024 / verify-1024  crypto_sign_detached / crypto_sign_verify_detached
 *                            over bytes [64..] (the reference's Encryption.sign)
 *   pack-N                   only the crypto of pack_event: SHA-256(event name),
 *                            sign_detached(payload[64..]) with the publisher key,
 *                            ESE seal, and the chain's SHA-256 packet ids. No
 *                            packet building, so it is a lower bound.
 *
 * Keys: the subcluster key pair seeded by BLAKE2b-256("example-shared-secret")
 * (checked against the spec's subclusterId 6a72ca18...), converted to X25519
 * with crypto_sign_ed25519_{pk,sk}_to_curve25519; the publisher key pair is
 * seeded by BLAKE2b-256("bench-publisher") as in the Rust bench.
 *
 * Each operation: warm up, then time batches of iterations until
 * --time-ms has passed; reports the mean, median and minimum of the
 * per-batch ns/op (criterion's estimates are of its per-sample ns/op). Every result is
 * checked (a failing open/verify aborts).
 *
 *   cc -O2 -o sodium_bench sodium_bench.c -lsodium
 *   ./sodium_bench [--time-ms 2000] [--warmup-ms 500] [--json out.json]
 *
 * Human-readable lines go to stderr; the JSON goes to --json or stdout.
 */
#include <sodium.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SIG 64
#define MAX_SAMPLES 4096

static double time_ms = 2000, warmup_ms = 500;

static double now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static void die(const char *what) {
    fprintf(stderr, "sodium_bench: %s\n", what);
    exit(1);
}

/* ---- keys and buffers ---------------------------------------------------- */

static unsigned char sub_pk[crypto_sign_PUBLICKEYBYTES], sub_sk[crypto_sign_SECRETKEYBYTES];
static unsigned char sub_xpk[crypto_box_PUBLICKEYBYTES], sub_xsk[crypto_box_SECRETKEYBYTES];
static unsigned char pub_pk[crypto_sign_PUBLICKEYBYTES], pub_sk[crypto_sign_SECRETKEYBYTES];

#define MAX_MSG (10 * 1024)
static unsigned char msg[MAX_MSG];
static unsigned char out[MAX_MSG + 4 * crypto_box_SEALBYTES + 2 * SIG];
static unsigned char inner[MAX_MSG + 2 * crypto_box_SEALBYTES + SIG];
static unsigned char back[MAX_MSG + 2 * crypto_box_SEALBYTES + SIG];
static unsigned char sig[SIG];
static volatile unsigned char sink;

static void seed_keypair(const char *text, unsigned char *pk, unsigned char *sk) {
    unsigned char seed[32];
    crypto_generichash(seed, sizeof seed, (const unsigned char *)text, strlen(text), NULL, 0);
    crypto_sign_seed_keypair(pk, sk, seed);
}

/* ---- the operations (each returns 0 on success) ------------------------- */

/* The reference's Encryption.seal: |m| + 160 bytes into out. */
static int ese_seal(const unsigned char *m, size_t n, unsigned char *dst) {
    /* inner = sig(64) || c1, c1 = box_seal(m) */
    unsigned char *c1 = inner + SIG;
    size_t c1_len = n + crypto_box_SEALBYTES;
    if (crypto_box_seal(c1, m, n, sub_xpk) != 0) return -1;
    if (crypto_sign_detached(inner, NULL, c1, c1_len, sub_sk) != 0) return -1;
    return crypto_box_seal(dst, inner, SIG + c1_len, sub_xpk);
}

/* The reference's Encryption.open: plaintext into back. */
static int ese_open(const unsigned char *c, size_t clen) {
    size_t inner_len = clen - crypto_box_SEALBYTES;
    if (crypto_box_seal_open(inner, c, clen, sub_xpk, sub_xsk) != 0) return -1;
    if (inner_len <= SIG) return -1;
    if (crypto_sign_verify_detached(inner, inner + SIG, inner_len - SIG, sub_pk) != 0) return -1;
    return crypto_box_seal_open(back, inner + SIG, inner_len - SIG, sub_xpk, sub_xsk);
}

static int sign64(const unsigned char *m, size_t n, const unsigned char *sk, unsigned char *s) {
    return crypto_sign_detached(s, NULL, m + SIG, n > SIG ? n - SIG : 0, sk);
}

static int verify64(const unsigned char *m, size_t n, const unsigned char *s) {
    return crypto_sign_verify_detached(s, m + SIG, n > SIG ? n - SIG : 0, sub_pk);
}

/* The crypto of pack_event, without the packet building: usr1 =
 * SHA-256(name), sig over payload[64..] with the publisher key, ESE seal,
 * and, when the sealed message is over 1024 bytes, the chain ids: head id =
 * SHA-256(head JSON) and id_k = SHA-256(SHA-256(id_(k-1)) || SHA-256(frag_k)). */
static int pack_crypto(const unsigned char *m, size_t n) {
    static const char name[] = "greeting";
    unsigned char usr1[32], id[32], buf[64];
    char head[128];
    size_t sealed_len = n + 2 * crypto_box_SEALBYTES + SIG;
    crypto_hash_sha256(usr1, (const unsigned char *)name, sizeof name - 1);
    if (sign64(m, n, pub_sk, sig) != 0) return -1;
    if (ese_seal(m, n, out) != 0) return -1;
    if (sealed_len > 1024) {
        size_t frags = (sealed_len + 1023) / 1024;
        int hl = snprintf(head, sizeof head,
                          "{\"meta\":{},\"ts\":1700000000000,\"size\":%zu,\"indexes\":%zu}",
                          sealed_len, frags);
        crypto_hash_sha256(id, (const unsigned char *)head, (size_t)hl);
        for (size_t k = 0; k < frags; k++) {
            size_t off = k * 1024, len = sealed_len - off < 1024 ? sealed_len - off : 1024;
            crypto_hash_sha256(buf, id, 32);
            crypto_hash_sha256(buf + 32, out + off, len);
            crypto_hash_sha256(id, buf, 64);
        }
    } else {
        crypto_hash_sha256(id, out, sealed_len);
    }
    sink ^= usr1[0] ^ id[0];
    return 0;
}

/* ---- timing ------------------------------------------------------------- */

enum op { SEAL, OPEN, BOX_SEAL, BOX_OPEN, SIGN, VERIFY, PACK };

struct ctx {
    enum op op;
    size_t n;
    unsigned char *sealed; /* for the open/verify ops */
    size_t sealed_len;
};

static int run_once(const struct ctx *c) {
    switch (c->op) {
    case SEAL: return ese_seal(msg, c->n, out);
    case OPEN: return ese_open(c->sealed, c->sealed_len);
    case BOX_SEAL: return crypto_box_seal(out, msg, c->n, sub_xpk);
    case BOX_OPEN: return crypto_box_seal_open(back, c->sealed, c->sealed_len, sub_xpk, sub_xsk);
    case SIGN: return sign64(msg, c->n, sub_sk, out);
    case VERIFY: return verify64(msg, c->n, c->sealed);
    case PACK: return pack_crypto(msg, c->n);
    }
    return -1;
}

static void run_batch(const struct ctx *c, long iters) {
    for (long i = 0; i < iters; i++) {
        if (run_once(c) != 0) die("operation failed");
    }
    sink ^= out[0] ^ back[0];
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static int first_result = 1;

static void bench(FILE *json, const char *name, const struct ctx *c) {
    /* Warm-up, which also sizes a batch to about 1/100 of --time-ms. */
    long iters = 1;
    double t0 = now_ns(), spent = 0;
    while ((spent = now_ns() - t0) < warmup_ms * 1e6) {
        run_batch(c, iters);
        iters *= 2;
    }
    double per_op = spent / (double)(iters - 1); /* ran 1 + 2 + ... + iters/2 */
    long batch = (long)(time_ms * 1e6 / 100 / per_op);
    if (batch < 1) batch = 1;

    static double samples[MAX_SAMPLES];
    int ns = 0;
    double start = now_ns();
    while (ns < MAX_SAMPLES && (ns < 10 || now_ns() - start < time_ms * 1e6)) {
        double a = now_ns();
        run_batch(c, batch);
        samples[ns++] = (now_ns() - a) / (double)batch;
    }
    double sum = 0;
    for (int i = 0; i < ns; i++) sum += samples[i];
    double mean = sum / ns;
    qsort(samples, (size_t)ns, sizeof samples[0], cmp_double);
    double median = ns % 2 ? samples[ns / 2] : (samples[ns / 2 - 1] + samples[ns / 2]) / 2;

    double min = samples[0];

    fprintf(stderr, "  %-22s mean %10.1f ns  median %10.1f ns  min %10.1f ns  (%d x %ld)\n",
            name, mean, median, min, ns, batch);
    fprintf(json,
            "%s\n    \"%s\": {\"mean\": %.1f, \"median\": %.1f, \"min\": %.1f, "
            "\"samples\": %d, \"batch\": %ld}",
            first_result ? "" : ",", name, mean, median, min, ns, batch);
    first_result = 0;
}

int main(int argc, char **argv) {
    const char *json_path = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--time-ms") && i + 1 < argc) time_ms = atof(argv[++i]);
        else if (!strcmp(argv[i], "--warmup-ms") && i + 1 < argc) warmup_ms = atof(argv[++i]);
        else if (!strcmp(argv[i], "--json") && i + 1 < argc) json_path = argv[++i];
        else {
            fprintf(stderr, "usage: %s [--time-ms MS] [--warmup-ms MS] [--json FILE]\n", argv[0]);
            return 2;
        }
    }
    if (sodium_init() < 0) die("sodium_init failed");

    seed_keypair("example-shared-secret", sub_pk, sub_sk);
    static const unsigned char spec_prefix[4] = {0x6a, 0x72, 0xca, 0x18}; /* §4.2 */
    if (memcmp(sub_pk, spec_prefix, 4) != 0) die("subclusterId differs from the spec");
    if (crypto_sign_ed25519_pk_to_curve25519(sub_xpk, sub_pk) != 0) die("pk_to_curve25519");
    if (crypto_sign_ed25519_sk_to_curve25519(sub_xsk, sub_sk) != 0) die("sk_to_curve25519");
    seed_keypair("bench-publisher", pub_pk, pub_sk);
    for (size_t i = 0; i < MAX_MSG; i++) msg[i] = (unsigned char)(i * 31 + 7);

    FILE *json = json_path ? fopen(json_path, "w") : stdout;
    if (!json) die("cannot open the --json file");
    fprintf(json, "{\n  \"libsodium\": \"%s\",\n  \"time_ms\": %.0f,\n  \"results\": {",
            sodium_version_string(), time_ms);
    fprintf(stderr, "libsodium %s, %.0f ms per op\n", sodium_version_string(), time_ms);

    static unsigned char sealed[MAX_MSG + 2 * crypto_box_SEALBYTES + SIG];
    char name[64];
    static const size_t seal_sizes[] = {100, 864};
    for (size_t i = 0; i < 2; i++) {
        size_t n = seal_sizes[i];
        struct ctx c = {SEAL, n, NULL, 0};
        snprintf(name, sizeof name, "seal-%zu", n);
        bench(json, name, &c);
        if (ese_seal(msg, n, sealed) != 0) die("seal");
        if (ese_open(sealed, n + 160) != 0 || memcmp(back, msg, n) != 0) die("round trip");
        struct ctx o = {OPEN, n, sealed, n + 160};
        snprintf(name, sizeof name, "open-%zu", n);
        bench(json, name, &o);
    }

    {
        size_t n = 1024;
        struct ctx c = {BOX_SEAL, n, NULL, 0};
        bench(json, "box_seal-1024", &c);
        if (crypto_box_seal(sealed, msg, n, sub_xpk) != 0) die("box_seal");
        struct ctx o = {BOX_OPEN, n, sealed, n + crypto_box_SEALBYTES};
        bench(json, "box_seal_open-1024", &o);

        struct ctx s = {SIGN, n, NULL, 0};
        bench(json, "sign-1024", &s);
        if (sign64(msg, n, sub_sk, sealed) != 0 || verify64(msg, n, sealed) != 0) die("sign/verify");
        struct ctx v = {VERIFY, n, sealed, SIG};
        bench(json, "verify-1024", &v);
    }

    static const size_t pack_sizes[] = {1024, 10 * 1024};
    for (size_t i = 0; i < 2; i++) {
        struct ctx c = {PACK, pack_sizes[i], NULL, 0};
        snprintf(name, sizeof name, "pack-%zu", pack_sizes[i]);
        bench(json, name, &c);
    }

    fprintf(json, "\n  }\n}\n");
    if (json != stdout) fclose(json);
    return 0;
}
