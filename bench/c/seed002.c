/*
 * seed002.c -- a faithful C implementation of the training loop in seed 002
 * ("Demonstrating Superposition"): the compiled
 * reference that animsup's trainer is benchmarked against.
 *
 * Kept as the post wrote it, on purpose: frand() from random()/RAND_MAX, a fixed
 * data set X of `count` samples synthesised with two draws per entry, a batch of
 * random indices into X, gradient() per sample with the same loops (memset of the
 * temporaries, importance(n) = powf(base, n) called inside the loops, L1 alpha),
 * the gradient accumulator holding the *negative* gradient, update
 * p += eta / batch * grad, and the same log lines and printmat() format.
 * (The post's gradient is its own hand derivation; animsup calls it the "blog"
 * gradient.)
 *
 * Usage:
 *   seed002 [-q] [N M BASE S_ RUNS ETA COUNT SEED BATCH [ALPHA]]
 *     N, M     features, hidden dims           (default 5 2)
 *     BASE     importance I_n = BASE^n         (default 0.7)
 *     S_       1 - S, feature probability      (default 0.1)
 *     RUNS     training steps                  (default 10000)
 *     ETA      learning rate                   (default 1.0)
 *     COUNT    data set size                   (default 100000)
 *     SEED     srandom() seed                  (default 0)
 *     BATCH    batch size                      (default 1024)
 *     ALPHA    L1 coefficient                  (default 0)
 *   -q  print nothing while training; at the end print `L: <last batch loss>` and
 *       `seconds: <wall time of the training loop>` (excludes synthesis), for timing.
 *
 * Output (without -q), exactly the post's: every run
 *   run: %d
 *   L: %1.04f
 * and after every run r with r % 100 == 99 the blocks b, W, grad w, grad b:
 *   b: [
 *    0.123  0  0.456 ...       (" %1.03f " per element, " 0 " for an exact zero)
 *   ]
 *
 * Build: gcc -O2 -o seed002 seed002.c -lm            (any N, M up to MAXN, MAXM)
 *        gcc -O2 -DFIXED_N=5 -DFIXED_M=2 ...          (N, M compile-time constants,
 *        as in the post, where `const int N = 5`; the benchmark uses these builds)
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifdef FIXED_N
enum { N = FIXED_N, M = FIXED_M };
#define PN N
#define PM M
#else
#define MAXN 1024
#define MAXM 256
#define PN MAXN
#define PM MAXM
static int N = 5, M = 2;
#endif

typedef struct {
    float W[PM * PN]; /* row-major [M][N] */
    float b[PN];
} params_t;

/* zero the used part of a params_t (all of it in a FIXED build) */
#define CLEAR_PARAMS(p) (memset((p)->W, 0, sizeof(float) * M * N), memset((p)->b, 0, sizeof(float) * N))

/* view a params_t's W as float[M][N] */
#define PW(p) ((float(*)[N])(p)->W)

static float base = 0.7f;
static long count = 100000;

/* get a float uniformly distributed on U[0, 1) */
float frand() { return (random() / (float)RAND_MAX); }

float importance(int n) { return powf(base, n); }

void synthesize(long count, float X[count][N], float S_) {
    // sparsity S in [0, 1), S_ is 1-S
    for (long c = 0; c < count; c++) {
        for (int i = 0; i < N; i++) {
            if (frand() < S_) {
                X[c][i] = frand();
            }
        }
    }
}

void printmat(char *tag, int rows, int cols, float A[rows][cols]) {
    printf("%s: [\n", tag);
    for (int m = 0; m < rows; m++) {
        for (int n = 0; n < cols; n++) {
            if (A[m][n]) {
                printf(" %1.03f ", A[m][n]);
            } else {
                printf(" 0 ");
            }
        }
        printf("\n");
    }
    printf("]\n");
}

void batch_indices(long batch_size, long batch[batch_size]) {
    for (long c = 0; c < batch_size; c++) {
        batch[c] = random() % count;
    }
}

float gradient(const params_t *p, const float x[N], float alpha, params_t *grad) {
    // unlike the forward pass, we keep track of intermediate
    // values that appear in the gradient
    // alpha = L1 regularization coefficient
    // grad is a pointer to the gradient accumulator
    // returns loss
    const float(*W)[N] = (const float(*)[N])p->W;
    float(*gW)[N] = PW(grad);
    float wkj_xj[M][N];
    float hk[M];
    float y[N];
    float delta[N];
    float dL_wkj[M][N];
    memset(wkj_xj, 0, sizeof(wkj_xj));
    memset(hk, 0, sizeof(hk));
    memset(y, 0, sizeof(y));
    memset(delta, 0, sizeof(delta));
    memset(dL_wkj, 0, sizeof(dL_wkj));
    // hidden layer
    for (int m = 0; m < M; m++) {
        for (int n = 0; n < N; n++) {
            wkj_xj[m][n] = W[m][n] * x[n];
            hk[m] += wkj_xj[m][n];
        }
    }
    // output layer
    for (int n = 0; n < N; n++) {
        for (int m = 0; m < M; m++) {
            y[n] += W[m][n] * hk[m];
        }
        y[n] += p->b[n];
        // ReLU activation
        y[n] = y[n] > 0 ? y[n] : 0;
        // compute delta
        delta[n] = y[n] - x[n];
    }
    // compute error
    float L = 0;
    for (int n = 0; n < N; n++) {
        float Ij = importance(n);
        L += Ij * delta[n] * delta[n];
    }
    for (int n = 0; n < N; n++) {
        for (int m = 0; m < M; m++) {
            L += alpha * fabs(W[m][n]);
        }
        L += alpha * fabs(p->b[n]);
    }
    L /= 2;
    for (int m = 0; m < M; m++) {
        for (int n = 0; n < N; n++) {
            if (y[n] <= 0) continue;
            dL_wkj[m][n] = importance(n) * delta[n] * (hk[m] + wkj_xj[m][n]) + alpha * (W[m][n] > 0 ? 1 : -1);
        }
    }
    // add to gradient accumulator
    for (int m = 0; m < M; m++) {
        for (int n = 0; n < N; n++) {
            gW[m][n] -= dL_wkj[m][n];
        }
    }
    for (int n = 0; n < N; n++) {
        if (y[n] <= 0) continue;
        grad->b[n] -= delta[n] + alpha * (p->b[n] > 0 ? 1 : -1);
    }
    return L;
}

void update(params_t *p, const params_t *grad, float scale) {
    float(*W)[N] = PW(p);
    const float(*gW)[N] = (const float(*)[N])grad->W;
    for (int m = 0; m < M; m++) {
        for (int n = 0; n < N; n++) {
            W[m][n] += scale * gW[m][n];
        }
    }
    for (int n = 0; n < N; n++) {
        p->b[n] += scale * grad->b[n];
    }
}

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

static void usage(const char *prog) {
    fprintf(stderr, "usage: %s [-q] [N M BASE S_ RUNS ETA COUNT SEED BATCH [ALPHA]]\n", prog);
    exit(2);
}

int main(int argc, char **argv) {
    int quiet = 0;
    int argi = 1;
    if (argi < argc && strcmp(argv[argi], "-q") == 0) {
        quiet = 1;
        argi++;
    }
    int nargs = argc - argi;
    if (nargs != 0 && nargs != 9 && nargs != 10) usage(argv[0]);
    int n_features = 5, n_hidden = 2, runs = 10000, batch_size = 1024;
    unsigned seed = 0;
    float S_ = 0.1f, eta = 1.0f, alpha = 0.0f;
    if (nargs) {
        char **a = argv + argi;
        n_features = atoi(a[0]);
        n_hidden = atoi(a[1]);
        base = strtof(a[2], NULL);
        S_ = strtof(a[3], NULL);
        runs = atoi(a[4]);
        eta = strtof(a[5], NULL);
        count = atol(a[6]);
        seed = (unsigned)strtoul(a[7], NULL, 10);
        batch_size = atoi(a[8]);
        if (nargs == 10) alpha = strtof(a[9], NULL);
    }
#ifdef FIXED_N
    if (n_features != N || n_hidden != M) {
        fprintf(stderr, "%s: built for N=%d M=%d, asked for N=%d M=%d\n", argv[0], N, M, n_features, n_hidden);
        return 2;
    }
#else
    if (n_features < 1 || n_features > MAXN || n_hidden < 1 || n_hidden > MAXM) {
        fprintf(stderr, "%s: N must be in 1..%d and M in 1..%d\n", argv[0], MAXN, MAXM);
        return 2;
    }
    N = n_features;
    M = n_hidden;
#endif
    if (runs < 0 || count < 1 || batch_size < 1) usage(argv[0]);

    srandom(seed);
    float(*X)[N] = calloc((size_t)count * N, sizeof(float));
    if (!X) {
        fprintf(stderr, "%s: out of memory for %ld samples\n", argv[0], count);
        return 1;
    }
    synthesize(count, X, S_);

    static params_t p;
    memset(&p, 0, sizeof(p));
    // initialize with random weights and biases
    for (int j = 0; j < N; j++) {
        for (int k = 0; k < M; k++) {
            PW(&p)[k][j] = frand() * 0.001;
        }
        p.b[j] = frand() * 0.001;
    }
    static params_t grad;
    long *batch = malloc(sizeof(long) * batch_size);
    float L = 0;
    double t0 = now();
    for (int r = 0; r < runs; r++) {
        CLEAR_PARAMS(&grad); // the post: memset(&grad, 0, sizeof(grad))
        L = 0;
        batch_indices(batch_size, batch);
        for (long c = 0; c < batch_size; c++) {
            L += gradient(&p, X[batch[c]], alpha, &grad);
        }
        update(&p, &grad, eta / batch_size);
        if (quiet) continue;
        printf("run: %d\n", r);
        printf("L: %1.04f\n", L / batch_size);
        if (r % 100 == 99) {
            // print b
            printmat("b", 1, N, (float(*)[N])p.b);
            // print W
            printmat("W", M, N, PW(&p));
            // print grad w and b
            printmat("grad w", M, N, PW(&grad));
            printmat("grad b", 1, N, (float(*)[N])grad.b);
        }
        fflush(stdout);
    }
    double seconds = now() - t0;
    if (quiet) {
        printf("L: %1.04f\n", L / batch_size);
        printf("seconds: %.6f\n", seconds);
    }
    free(batch);
    free(X);
    return 0;
}
