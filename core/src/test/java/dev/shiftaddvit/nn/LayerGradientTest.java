package dev.shiftaddvit.nn;

import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

/** Every trainable module's backward agrees with finite differences of its forward. */
class LayerGradientTest {
    private static final double TOL = 2e-2;
    private final SplittableRandom rng = new SplittableRandom(7);

    @Test
    void linearGradientsMatchFiniteDifferences() {
        GradCheck.check(new Linear("fc", 13, 9, true, rng), GradCheck.randn(rng, 1f, 2, 5, 13), true, 40, TOL, 1);
    }

    @Test
    void layerNormGradientsMatchFiniteDifferences() {
        LayerNorm ln = new LayerNorm("ln", 17, 1e-5f);
        for (int i = 0; i < 17; i++) {
            ln.parameters().get(0).value().data()[i] = 1f + 0.1f * i;
            ln.parameters().get(1).value().data()[i] = 0.05f * i;
        }
        GradCheck.check(ln, GradCheck.randn(rng, 1f, 3, 4, 17), true, 40, TOL, 2);
    }

    @Test
    void geluGradientsMatchFiniteDifferences() {
        GradCheck.check(new GeluLayer(), GradCheck.randn(rng, 2f, 3, 11), true, 33, TOL, 3);
    }

    @Test
    void strideTwoPaddedConvGradientsMatchFiniteDifferences() {
        GradCheck.check(new Conv2d("conv", 3, 5, 3, 2, 1, rng), GradCheck.randn(rng, 1f, 2, 7, 7, 3), true, 40, TOL, 4);
    }

    @Test
    void patchConvGradientsMatchFiniteDifferences() {
        GradCheck.check(new Conv2d("conv", 2, 4, 2, 2, 0, rng), GradCheck.randn(rng, 1f, 2, 6, 6, 2), true, 40, TOL, 5);
    }

    @Test
    void depthwiseConvGradientsMatchFiniteDifferences() {
        GradCheck.check(new DwConv("dw", 6, 5, 4, 3, 3, rng), GradCheck.randn(rng, 1f, 2, 20, 6), true, 40, TOL, 6);
    }

    @Test
    void mlpWithDepthwiseConvGradientsMatchFiniteDifferences() {
        GradCheck.check(new Mlp("mlp", 8, 16, 3, 3, rng), GradCheck.randn(rng, 1f, 2, 9, 8), true, 40, TOL, 7);
    }

    @Test
    void selfAttentionGradientsMatchFiniteDifferences() {
        GradCheck.check(new SelfAttention("attn", 12, 3, true, rng), GradCheck.randn(rng, 1f, 2, 5, 12), true, 40,
                TOL, 8);
    }

    @Test
    void fullSpatialAttentionGradientsMatchFiniteDifferences() {
        GradCheck.check(new SpatialReductionAttention("attn", 8, 2, 3, 3, 1, true, rng),
                GradCheck.randn(rng, 1f, 2, 9, 8), true, 40, TOL, 9);
    }

    @Test
    void spatialReductionAttentionGradientsMatchFiniteDifferences() {
        GradCheck.check(new SpatialReductionAttention("attn", 8, 2, 4, 4, 2, true, rng),
                GradCheck.randn(rng, 1f, 2, 16, 8), true, 40, TOL, 10);
    }

    @Test
    void preNormBlockGradientsMatchFiniteDifferences() {
        Block b = new Block(new LayerNorm("n1", 8, 1e-6f), new SelfAttention("attn", 8, 2, true, rng),
                new LayerNorm("n2", 8, 1e-6f), new Mlp("mlp", 8, 16, 0, 0, rng));
        GradCheck.check(b, GradCheck.randn(rng, 1f, 2, 6, 8), true, 30, TOL, 11);
    }
}
