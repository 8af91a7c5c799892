package dev.shiftaddvit.model;

import dev.shiftaddvit.kernel.FlashAttention;
import dev.shiftaddvit.kernel.Parallel;

/**
 * An upper estimate of what one inference forward allocates, from the config alone: per image the
 * floats of the activations of the widest block and the largest single array; per worker thread what
 * it holds for one head of softmax attention (the packed keys and values of the tiled kernel, or the
 * score rows when {@link FlashAttention#AT_INFERENCE} is off; the materialised path of training keeps
 * every head's scores, which this estimate does not cover). Checked before a
 * model is built or run, so that an image size or batch the heap cannot hold is refused with a
 * message instead of an OutOfMemoryError or an int overflow.
 */
public record ForwardFootprint(long floatsPerImage, long largestArrayPerImage, long scratchPerThread) {
    /** Java arrays hold at most about 2^31 elements. */
    static final long MAX_ARRAY = Integer.MAX_VALUE - 8;

    /** The activations of one attention block of n tokens of width c, h heads over m keys, MLP hidden width hidden. */
    static ForwardFootprint block(long n, long c, long h, long m, long hidden) {
        long tokens = n * Math.max(3 * c, hidden);
        long base = n * c * 8 + 2 * n * hidden;
        if (FlashAttention.AT_INFERENCE) return new ForwardFootprint(base, tokens, 2 * m * c);
        long scores = h * n * m;
        return new ForwardFootprint(base + 2 * scores, Math.max(scores, tokens), n * m);
    }

    ForwardFootprint max(ForwardFootprint o) {
        return new ForwardFootprint(Math.max(floatsPerImage, o.floatsPerImage),
                Math.max(largestArrayPerImage, o.largestArrayPerImage), Math.max(scratchPerThread, o.scratchPerThread));
    }

    /**
     * Refuses a forward of {@code batch} images of model c that the heap cannot hold or whose arrays
     * would pass 2^31 elements; {@code what} names the file or flag that asked for it.
     */
    public static void require(ModelConfig c, int batch, String what) {
        ForwardFootprint f = c.footprint();
        long largest = Math.multiplyHigh(f.largestArrayPerImage, batch) != 0 ? Long.MAX_VALUE
                : f.largestArrayPerImage * batch;
        String forward = "one forward of model " + c.name() + " at " + c.imgSize() + "×" + c.imgSize() + " px, batch "
                + batch;
        if (largest > MAX_ARRAY) {
            throw new ConfigException(what + ": " + forward + " needs an array of " + largest
                    + " floats, more than Java arrays hold (2^31); use a smaller image size or batch");
        }
        double bytes = 4.0 * ((double) f.floatsPerImage * batch + (double) f.scratchPerThread * Parallel.threads());
        long heap = Runtime.getRuntime().maxMemory();
        if (bytes > heap) {
            throw new ConfigException(String.format("%s: %s needs about %.1f GiB, the heap holds %.1f GiB; use a "
                    + "smaller image size or batch, or a larger -Xmx", what, forward, bytes / (1L << 30),
                    heap / (double) (1L << 30)));
        }
    }
}
