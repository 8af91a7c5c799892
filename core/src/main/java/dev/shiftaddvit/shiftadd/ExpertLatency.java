package dev.shiftaddvit.shiftadd;

import dev.shiftaddvit.kernel.Gemm;
import dev.shiftaddvit.kernel.Ops;
import dev.shiftaddvit.nn.Init;
import dev.shiftaddvit.nn.Linear;

import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Measures the latency weights α of a Mult/Shift MoE layer on the running machine, with our own kernels:
 * <ul>
 *   <li>Mult expert: {@link Gemm#nt} over [tokens, in]·[out, in]ᵀ plus the bias ({@link Ops#addBiasRows}),
 *       i.e. what {@link Linear#forward} runs;</li>
 *   <li>Shift expert: the deploy kernel ({@link ShiftKernel#selected}: float activations quantized to
 *       Q16.16, shift-adds, bias) on the layer's shift codes, i.e. what {@link ShiftLinearDeployed} runs.</li>
 * </ul>
 * Each is first run {@code warmup} times and for at least {@link #MIN_WARM_NANOS} ({@link #FIRST_WARM_NANOS}
 * on a JVM's first measurement; JIT compilation, buffers), then sampled {@code repeats} times,
 * Mult and Shift alternately so background load hits both alike; a sample times enough back-to-back calls
 * to last about {@link #MIN_SAMPLE_NANOS} (calibrated on the warm-up), and the result is the <b>median</b>
 * per-call time divided by the token count (nanoseconds per token). Timings are never asserted in tests.
 *
 * <p><b>Normalisation and direction</b>: α_e = latency_e / Σ_j latency_j, so α sums to 1 and the
 * <i>slower</i> expert has the larger α. In {@link LoadBalance} the balance point is Imp_e ∝ 1/α_e, i.e. the
 * faster expert gets more tokens. Upstream's hard-coded (6, 4) for (Mult, Shift) is {@link #UPSTREAM_ALPHA}
 * = (0.6, 0.4) in this normalisation (CV² ignores a common scale, so only the ratio matters).
 */
public final class ExpertLatency {
    /** Upstream's α = (6, 4) for (Mult, Shift), normalised to sum 1. */
    public static final float[] UPSTREAM_ALPHA = {0.6f, 0.4f};
    /** Target duration of one timing sample; fast calls are repeated back to back up to this. */
    public static final long MIN_SAMPLE_NANOS = 200_000L;
    /**
     * Warm-up lasts at least this long as well as {@code warmup} calls: a kernel met for the first time
     * runs interpreted until C2 compiles its loops, and ten calls of a small layer end long before that
     * (the first layer's Shift expert once measured 48× slower than its Mult expert this way).
     */
    public static final long MIN_WARM_NANOS = 150_000_000L;
    /**
     * The first measurement in a JVM warms each expert this long instead: C2 is still compiling the
     * GEMM and quantization loops on the same two cores then (150 ms left the first layer shape's
     * Shift expert 6.7× slower than its Mult expert, against about 1× for the same shape later).
     */
    public static final long FIRST_WARM_NANOS = 1_000_000_000L;
    private static final AtomicBoolean FIRST = new AtomicBoolean(true);
    /** Default warm-up calls per expert for {@link #measure(Linear, int)}. */
    public static final int DEFAULT_WARMUP = 10;
    /** Default timing samples per expert for {@link #measure(Linear, int)}. */
    public static final int DEFAULT_REPEATS = 15;

    private ExpertLatency() {
    }

    /**
     * One measurement: per-token latencies (median, ns) of both experts for a layer shape and token count.
     */
    public record Measurement(int in, int out, int tokens, double multNanosPerToken, double shiftNanosPerToken) {
        /** Normalised α = (mult, shift) / (mult + shift). */
        public float[] alpha() {
            return ExpertLatency.alpha(multNanosPerToken, shiftNanosPerToken);
        }

        /** Mult latency over Shift latency (upstream's 6:4 is 1.5). */
        public double ratio() {
            return multNanosPerToken / shiftNanosPerToken;
        }
    }

    /**
     * α from two latencies (any common unit): (m, s)/(m + s).
     *
     * @throws IllegalArgumentException unless both are finite and positive
     */
    public static float[] alpha(double multLatency, double shiftLatency) {
        if (!(multLatency > 0) || !(shiftLatency > 0) || Double.isInfinite(multLatency)
                || Double.isInfinite(shiftLatency)) {
            throw new IllegalArgumentException("expert latencies must be finite and positive, got mult="
                    + multLatency + " shift=" + shiftLatency);
        }
        double sum = multLatency + shiftLatency;
        return new float[]{(float) (multLatency / sum), (float) (shiftLatency / sum)};
    }

    /** {@link #measure(Linear, int, int, int)} with {@link #DEFAULT_WARMUP} and {@link #DEFAULT_REPEATS}. */
    public static Measurement measure(Linear dense, int tokens) {
        return measure(dense, tokens, DEFAULT_WARMUP, DEFAULT_REPEATS);
    }

    /**
     * Measures both experts of the MoE that {@code dense} converts to: the Mult expert on the dense weights,
     * the Shift expert on their shift codes ({@link ShiftLinear#fromDense}). The input is a seeded random
     * [tokens, in] activation (the kernels' speed does not depend on the values).
     */
    public static Measurement measure(Linear dense, int tokens, int warmup, int repeats) {
        ShiftLinear shift = ShiftLinear.fromDense("latency.shift", dense);
        float[] bias = dense.bias() == null ? null : dense.bias().value().data();
        return measure(dense.weight().value().data(), bias, bind(shift), dense.in(), dense.out(), tokens,
                warmup, repeats, 0x5eedL);
    }

    /**
     * Measures a layer shape with seeded random weights (trunc-normal 0.02, as a fresh {@link Linear}, then
     * converted to shift codes); for converting a model, measure once per distinct (in, out, tokens).
     */
    public static Measurement measure(int in, int out, boolean bias, int tokens, int warmup, int repeats, long seed) {
        Linear dense = new Linear("latency", in, out, bias, new SplittableRandom(seed));
        if (bias) {
            SplittableRandom rng = new SplittableRandom(seed + 1);
            float[] b = dense.bias().value().data();
            for (int i = 0; i < b.length; i++) b[i] = (float) rng.nextDouble(-0.1, 0.1);
        }
        ShiftLinear shift = ShiftLinear.fromDense("latency.shift", dense);
        return measure(dense.weight().value().data(), bias ? dense.bias().value().data() : null, bind(shift),
                in, out, tokens, warmup, repeats, seed);
    }

    private static ShiftKernel.Bound bind(ShiftLinear shift) {
        return ShiftKernel.selected().bind(shift.codes(), shift.out(), shift.in(), shift.fixedBias());
    }

    private static Measurement measure(float[] weight, float[] bias, ShiftKernel.Bound packed, int in, int out,
                                       int tokens, int warmup, int repeats, long seed) {
        if (in < 1 || out < 1 || tokens < 1) {
            throw new IllegalArgumentException("latency needs in, out and tokens >= 1, got in=" + in + " out=" + out
                    + " tokens=" + tokens);
        }
        if (warmup < 0 || repeats < 1) {
            throw new IllegalArgumentException("latency needs warmup >= 0 and repeats >= 1, got " + warmup + ", "
                    + repeats);
        }
        float[] x = new float[Math.multiplyExact(tokens, in)];
        SplittableRandom rng = new SplittableRandom(seed ^ 0x9E3779B97F4A7C15L);
        for (int i = 0; i < x.length; i++) x[i] = (float) Init.gaussian(rng);
        float[] y = new float[Math.multiplyExact(tokens, out)];
        Runnable mult = () -> {
            Gemm.nt(tokens, out, in, x, 0, in, weight, 0, in, y, 0, out, false);
            if (bias != null) Ops.addBiasRows(y, bias, tokens, out);
        };
        Runnable shift = () -> packed.forward(tokens, x, 0, y, 0);

        long warmNanos = FIRST.getAndSet(false) ? FIRST_WARM_NANOS : MIN_WARM_NANOS;
        long multWarm = warm(mult, warmup, warmNanos);
        long shiftWarm = warm(shift, warmup, warmNanos);
        int multInner = inner(multWarm);
        int shiftInner = inner(shiftWarm);
        double[] multSamples = new double[repeats];
        double[] shiftSamples = new double[repeats];
        for (int r = 0; r < repeats; r++) {
            multSamples[r] = sample(mult, multInner);
            shiftSamples[r] = sample(shift, shiftInner);
        }
        return new Measurement(in, out, tokens, median(multSamples) / tokens, median(shiftSamples) / tokens);
    }

    /** Runs the body n times (at least once) and returns the fastest call in ns. */
    private static long warm(Runnable body, int n, long minNanos) {
        long best = Long.MAX_VALUE;
        long start = System.nanoTime();
        for (int i = 0; i < Math.max(1, n) || System.nanoTime() - start < minNanos; i++) {
            long t0 = System.nanoTime();
            body.run();
            best = Math.min(best, System.nanoTime() - t0);
        }
        return Math.max(1, best);
    }

    private static int inner(long callNanos) {
        return (int) Math.max(1, Math.min(1_000_000, MIN_SAMPLE_NANOS / Math.max(1, callNanos)));
    }

    /** Mean ns per call over {@code inner} back-to-back calls (never 0). */
    private static double sample(Runnable body, int inner) {
        long t0 = System.nanoTime();
        for (int i = 0; i < inner; i++) body.run();
        return Math.max(1, System.nanoTime() - t0) / (double) inner;
    }

    static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        int n = s.length;
        return (n & 1) == 1 ? s[n / 2] : 0.5 * (s[n / 2 - 1] + s[n / 2]);
    }
}
