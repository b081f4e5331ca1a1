/* tunebench benchmark: tokenizer encode throughput, single thread.
 *   bench_tokenizer TOKENIZER.json TEXT_FILE [RUNS]
 * The text is cut into chunks of about 64 kB at line ends (tokenizer_ref.js cuts the same
 * way), each chunk encoded without special tokens. One warm-up pass, then RUNS timed passes
 * (default 3); prints one RESULT line per pass with MB/s, tokens and a checksum of the ids
 * (compare it with the reference's to know both produced the same ids). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine/core/fs.h"
#include "engine/tokenizer/tokenizer.h"


static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: bench_tokenizer TOKENIZER.json TEXT_FILE [RUNS]\n");
        return 2;
    }
    int runs = argc > 3 ? atoi(argv[3]) : 3;
    size_t chunk = getenv("CHUNK") ? (size_t)atol(getenv("CHUNK")) : 65536;
    tb_error err;
    tb_tokenizer *tok;
    double t0 = now_s();
    if (tb_tokenizer_load(&tok, argv[1], &err) != TB_OK) {
        char buf[2048];
        fprintf(stderr, "bench_tokenizer: %s\n", tb_error_format(&err, buf, sizeof buf));
        return 2;
    }
    double load_s = now_s() - t0;
    char *text;
    size_t len;
    if (tb_read_file(argv[2], &text, &len, &err) != TB_OK) {
        fprintf(stderr, "bench_tokenizer: cannot read %s\n", argv[2]);
        return 2;
    }
    for (int r = -1; r < runs; r++) {
        uint64_t sum = 0, ntok = 0;
        t0 = now_s();
        for (size_t off = 0; off < len;) {
            size_t end = off + chunk < len ? off + chunk : len;
            while (end < len && text[end - 1] != '\n')
                end++;
            int32_t *ids;
            size_t n;
            if (tb_tokenizer_encode(tok, text + off, end - off, false, &ids, &n, &err) != TB_OK)
                return 1;
            for (size_t i = 0; i < n; i++)
                sum = (sum * 31 + (uint64_t)ids[i]) % 1000000007u;
            ntok += n;
            free(ids);
            off = end;
        }
        double dt = now_s() - t0;
        if (r >= 0)
            printf("RESULT tunebench run=%d MB/s=%.2f tokens=%llu checksum=%llu seconds=%.3f load_s=%.2f\n", r,
                   (double)len / dt / 1e6, (unsigned long long)ntok, (unsigned long long)sum, dt, load_s);
    }
    free(text);
    tb_tokenizer_free(tok);
    return 0;
}
