package dev.shiftaddvit.kernel;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link Gemm}'s register tile for 512-bit vectors: 8 rows x two vectors. AVX-512 has 32 vector
 * registers: 16 accumulators, 2 B vectors and the broadcasts fit, and each B load now feeds 8
 * fma instead of 4, which halves the loads per fma of the 4-row tile (sized for the 16 AVX2
 * registers, see Gemm's notes). Each output element is still one fma chain over p in order, so
 * the tile height changes no bits. Checked against {@link GemmReference} through Gemm at every width.
 */
final class GemmTile8 {
    static final VectorSpecies<Float> F = Gemm.F;
    static final int VL = Gemm.VL;
    static final int NR = Gemm.NR;

    private GemmTile8() {
    }

    /** 8 x (2 vectors) tile; A rows read in place at a[a0 + p] .. a[a7 + p]; B packed at bp[bi + p*NR]. C = tile. */
    static void directSet(int kc, float[] a, int a0, int a1, int a2, int a3, int a4, int a5, int a6, int a7,
            float[] bp, int bi, float[] c, int ci, int ldc) {
        FloatVector c00 = FloatVector.zero(F), c01 = FloatVector.zero(F);
        FloatVector c10 = FloatVector.zero(F), c11 = FloatVector.zero(F);
        FloatVector c20 = FloatVector.zero(F), c21 = FloatVector.zero(F);
        FloatVector c30 = FloatVector.zero(F), c31 = FloatVector.zero(F);
        FloatVector c40 = FloatVector.zero(F), c41 = FloatVector.zero(F);
        FloatVector c50 = FloatVector.zero(F), c51 = FloatVector.zero(F);
        FloatVector c60 = FloatVector.zero(F), c61 = FloatVector.zero(F);
        FloatVector c70 = FloatVector.zero(F), c71 = FloatVector.zero(F);
        for (int p = 0; p < kc; p++) {
            int bj = bi + p * NR;
            FloatVector b0 = FloatVector.fromArray(F, bp, bj);
            FloatVector b1 = FloatVector.fromArray(F, bp, bj + VL);
            FloatVector x = FloatVector.broadcast(F, a[a0 + p]);
            c00 = x.fma(b0, c00);
            c01 = x.fma(b1, c01);
            x = FloatVector.broadcast(F, a[a1 + p]);
            c10 = x.fma(b0, c10);
            c11 = x.fma(b1, c11);
            x = FloatVector.broadcast(F, a[a2 + p]);
            c20 = x.fma(b0, c20);
            c21 = x.fma(b1, c21);
            x = FloatVector.broadcast(F, a[a3 + p]);
            c30 = x.fma(b0, c30);
            c31 = x.fma(b1, c31);
            x = FloatVector.broadcast(F, a[a4 + p]);
            c40 = x.fma(b0, c40);
            c41 = x.fma(b1, c41);
            x = FloatVector.broadcast(F, a[a5 + p]);
            c50 = x.fma(b0, c50);
            c51 = x.fma(b1, c51);
            x = FloatVector.broadcast(F, a[a6 + p]);
            c60 = x.fma(b0, c60);
            c61 = x.fma(b1, c61);
            x = FloatVector.broadcast(F, a[a7 + p]);
            c70 = x.fma(b0, c70);
            c71 = x.fma(b1, c71);
        }
        int i0 = ci;
        int i1 = ci + 1 * ldc;
        int i2 = ci + 2 * ldc;
        int i3 = ci + 3 * ldc;
        int i4 = ci + 4 * ldc;
        int i5 = ci + 5 * ldc;
        int i6 = ci + 6 * ldc;
        int i7 = ci + 7 * ldc;
        c00.intoArray(c, i0);
        c01.intoArray(c, i0 + VL);
        c10.intoArray(c, i1);
        c11.intoArray(c, i1 + VL);
        c20.intoArray(c, i2);
        c21.intoArray(c, i2 + VL);
        c30.intoArray(c, i3);
        c31.intoArray(c, i3 + VL);
        c40.intoArray(c, i4);
        c41.intoArray(c, i4 + VL);
        c50.intoArray(c, i5);
        c51.intoArray(c, i5 + VL);
        c60.intoArray(c, i6);
        c61.intoArray(c, i6 + VL);
        c70.intoArray(c, i7);
        c71.intoArray(c, i7 + VL);
    }

    /** 8 x (2 vectors) tile; A rows read in place at a[a0 + p] .. a[a7 + p]; B packed at bp[bi + p*NR]. C += tile. */
    static void directAdd(int kc, float[] a, int a0, int a1, int a2, int a3, int a4, int a5, int a6, int a7,
            float[] bp, int bi, float[] c, int ci, int ldc) {
        FloatVector c00 = FloatVector.zero(F), c01 = FloatVector.zero(F);
        FloatVector c10 = FloatVector.zero(F), c11 = FloatVector.zero(F);
        FloatVector c20 = FloatVector.zero(F), c21 = FloatVector.zero(F);
        FloatVector c30 = FloatVector.zero(F), c31 = FloatVector.zero(F);
        FloatVector c40 = FloatVector.zero(F), c41 = FloatVector.zero(F);
        FloatVector c50 = FloatVector.zero(F), c51 = FloatVector.zero(F);
        FloatVector c60 = FloatVector.zero(F), c61 = FloatVector.zero(F);
        FloatVector c70 = FloatVector.zero(F), c71 = FloatVector.zero(F);
        for (int p = 0; p < kc; p++) {
            int bj = bi + p * NR;
            FloatVector b0 = FloatVector.fromArray(F, bp, bj);
            FloatVector b1 = FloatVector.fromArray(F, bp, bj + VL);
            FloatVector x = FloatVector.broadcast(F, a[a0 + p]);
            c00 = x.fma(b0, c00);
            c01 = x.fma(b1, c01);
            x = FloatVector.broadcast(F, a[a1 + p]);
            c10 = x.fma(b0, c10);
            c11 = x.fma(b1, c11);
            x = FloatVector.broadcast(F, a[a2 + p]);
            c20 = x.fma(b0, c20);
            c21 = x.fma(b1, c21);
            x = FloatVector.broadcast(F, a[a3 + p]);
            c30 = x.fma(b0, c30);
            c31 = x.fma(b1, c31);
            x = FloatVector.broadcast(F, a[a4 + p]);
            c40 = x.fma(b0, c40);
            c41 = x.fma(b1, c41);
            x = FloatVector.broadcast(F, a[a5 + p]);
            c50 = x.fma(b0, c50);
            c51 = x.fma(b1, c51);
            x = FloatVector.broadcast(F, a[a6 + p]);
            c60 = x.fma(b0, c60);
            c61 = x.fma(b1, c61);
            x = FloatVector.broadcast(F, a[a7 + p]);
            c70 = x.fma(b0, c70);
            c71 = x.fma(b1, c71);
        }
        int i0 = ci;
        int i1 = ci + 1 * ldc;
        int i2 = ci + 2 * ldc;
        int i3 = ci + 3 * ldc;
        int i4 = ci + 4 * ldc;
        int i5 = ci + 5 * ldc;
        int i6 = ci + 6 * ldc;
        int i7 = ci + 7 * ldc;
        c00.add(FloatVector.fromArray(F, c, i0)).intoArray(c, i0);
        c01.add(FloatVector.fromArray(F, c, i0 + VL)).intoArray(c, i0 + VL);
        c10.add(FloatVector.fromArray(F, c, i1)).intoArray(c, i1);
        c11.add(FloatVector.fromArray(F, c, i1 + VL)).intoArray(c, i1 + VL);
        c20.add(FloatVector.fromArray(F, c, i2)).intoArray(c, i2);
        c21.add(FloatVector.fromArray(F, c, i2 + VL)).intoArray(c, i2 + VL);
        c30.add(FloatVector.fromArray(F, c, i3)).intoArray(c, i3);
        c31.add(FloatVector.fromArray(F, c, i3 + VL)).intoArray(c, i3 + VL);
        c40.add(FloatVector.fromArray(F, c, i4)).intoArray(c, i4);
        c41.add(FloatVector.fromArray(F, c, i4 + VL)).intoArray(c, i4 + VL);
        c50.add(FloatVector.fromArray(F, c, i5)).intoArray(c, i5);
        c51.add(FloatVector.fromArray(F, c, i5 + VL)).intoArray(c, i5 + VL);
        c60.add(FloatVector.fromArray(F, c, i6)).intoArray(c, i6);
        c61.add(FloatVector.fromArray(F, c, i6 + VL)).intoArray(c, i6 + VL);
        c70.add(FloatVector.fromArray(F, c, i7)).intoArray(c, i7);
        c71.add(FloatVector.fromArray(F, c, i7 + VL)).intoArray(c, i7 + VL);
    }

    /** 8 x (2 vectors) tile; A packed p-major at ap[ai + p*8 + r]; B packed at bp[bi + p*NR]. C = tile. */
    static void packedSet(int kc, float[] ap, int ai, float[] bp, int bi, float[] c, int ci, int ldc) {
        FloatVector c00 = FloatVector.zero(F), c01 = FloatVector.zero(F);
        FloatVector c10 = FloatVector.zero(F), c11 = FloatVector.zero(F);
        FloatVector c20 = FloatVector.zero(F), c21 = FloatVector.zero(F);
        FloatVector c30 = FloatVector.zero(F), c31 = FloatVector.zero(F);
        FloatVector c40 = FloatVector.zero(F), c41 = FloatVector.zero(F);
        FloatVector c50 = FloatVector.zero(F), c51 = FloatVector.zero(F);
        FloatVector c60 = FloatVector.zero(F), c61 = FloatVector.zero(F);
        FloatVector c70 = FloatVector.zero(F), c71 = FloatVector.zero(F);
        for (int p = 0; p < kc; p++) {
            int bj = bi + p * NR;
            int aj = ai + p * 8;
            FloatVector b0 = FloatVector.fromArray(F, bp, bj);
            FloatVector b1 = FloatVector.fromArray(F, bp, bj + VL);
            FloatVector x = FloatVector.broadcast(F, ap[aj]);
            c00 = x.fma(b0, c00);
            c01 = x.fma(b1, c01);
            x = FloatVector.broadcast(F, ap[aj + 1]);
            c10 = x.fma(b0, c10);
            c11 = x.fma(b1, c11);
            x = FloatVector.broadcast(F, ap[aj + 2]);
            c20 = x.fma(b0, c20);
            c21 = x.fma(b1, c21);
            x = FloatVector.broadcast(F, ap[aj + 3]);
            c30 = x.fma(b0, c30);
            c31 = x.fma(b1, c31);
            x = FloatVector.broadcast(F, ap[aj + 4]);
            c40 = x.fma(b0, c40);
            c41 = x.fma(b1, c41);
            x = FloatVector.broadcast(F, ap[aj + 5]);
            c50 = x.fma(b0, c50);
            c51 = x.fma(b1, c51);
            x = FloatVector.broadcast(F, ap[aj + 6]);
            c60 = x.fma(b0, c60);
            c61 = x.fma(b1, c61);
            x = FloatVector.broadcast(F, ap[aj + 7]);
            c70 = x.fma(b0, c70);
            c71 = x.fma(b1, c71);
        }
        int i0 = ci;
        int i1 = ci + 1 * ldc;
        int i2 = ci + 2 * ldc;
        int i3 = ci + 3 * ldc;
        int i4 = ci + 4 * ldc;
        int i5 = ci + 5 * ldc;
        int i6 = ci + 6 * ldc;
        int i7 = ci + 7 * ldc;
        c00.intoArray(c, i0);
        c01.intoArray(c, i0 + VL);
        c10.intoArray(c, i1);
        c11.intoArray(c, i1 + VL);
        c20.intoArray(c, i2);
        c21.intoArray(c, i2 + VL);
        c30.intoArray(c, i3);
        c31.intoArray(c, i3 + VL);
        c40.intoArray(c, i4);
        c41.intoArray(c, i4 + VL);
        c50.intoArray(c, i5);
        c51.intoArray(c, i5 + VL);
        c60.intoArray(c, i6);
        c61.intoArray(c, i6 + VL);
        c70.intoArray(c, i7);
        c71.intoArray(c, i7 + VL);
    }

    /** 8 x (2 vectors) tile; A packed p-major at ap[ai + p*8 + r]; B packed at bp[bi + p*NR]. C += tile. */
    static void packedAdd(int kc, float[] ap, int ai, float[] bp, int bi, float[] c, int ci, int ldc) {
        FloatVector c00 = FloatVector.zero(F), c01 = FloatVector.zero(F);
        FloatVector c10 = FloatVector.zero(F), c11 = FloatVector.zero(F);
        FloatVector c20 = FloatVector.zero(F), c21 = FloatVector.zero(F);
        FloatVector c30 = FloatVector.zero(F), c31 = FloatVector.zero(F);
        FloatVector c40 = FloatVector.zero(F), c41 = FloatVector.zero(F);
        FloatVector c50 = FloatVector.zero(F), c51 = FloatVector.zero(F);
        FloatVector c60 = FloatVector.zero(F), c61 = FloatVector.zero(F);
        FloatVector c70 = FloatVector.zero(F), c71 = FloatVector.zero(F);
        for (int p = 0; p < kc; p++) {
            int bj = bi + p * NR;
            int aj = ai + p * 8;
            FloatVector b0 = FloatVector.fromArray(F, bp, bj);
            FloatVector b1 = FloatVector.fromArray(F, bp, bj + VL);
            FloatVector x = FloatVector.broadcast(F, ap[aj]);
            c00 = x.fma(b0, c00);
            c01 = x.fma(b1, c01);
            x = FloatVector.broadcast(F, ap[aj + 1]);
            c10 = x.fma(b0, c10);
            c11 = x.fma(b1, c11);
            x = FloatVector.broadcast(F, ap[aj + 2]);
            c20 = x.fma(b0, c20);
            c21 = x.fma(b1, c21);
            x = FloatVector.broadcast(F, ap[aj + 3]);
            c30 = x.fma(b0, c30);
            c31 = x.fma(b1, c31);
            x = FloatVector.broadcast(F, ap[aj + 4]);
            c40 = x.fma(b0, c40);
            c41 = x.fma(b1, c41);
            x = FloatVector.broadcast(F, ap[aj + 5]);
            c50 = x.fma(b0, c50);
            c51 = x.fma(b1, c51);
            x = FloatVector.broadcast(F, ap[aj + 6]);
            c60 = x.fma(b0, c60);
            c61 = x.fma(b1, c61);
            x = FloatVector.broadcast(F, ap[aj + 7]);
            c70 = x.fma(b0, c70);
            c71 = x.fma(b1, c71);
        }
        int i0 = ci;
        int i1 = ci + 1 * ldc;
        int i2 = ci + 2 * ldc;
        int i3 = ci + 3 * ldc;
        int i4 = ci + 4 * ldc;
        int i5 = ci + 5 * ldc;
        int i6 = ci + 6 * ldc;
        int i7 = ci + 7 * ldc;
        c00.add(FloatVector.fromArray(F, c, i0)).intoArray(c, i0);
        c01.add(FloatVector.fromArray(F, c, i0 + VL)).intoArray(c, i0 + VL);
        c10.add(FloatVector.fromArray(F, c, i1)).intoArray(c, i1);
        c11.add(FloatVector.fromArray(F, c, i1 + VL)).intoArray(c, i1 + VL);
        c20.add(FloatVector.fromArray(F, c, i2)).intoArray(c, i2);
        c21.add(FloatVector.fromArray(F, c, i2 + VL)).intoArray(c, i2 + VL);
        c30.add(FloatVector.fromArray(F, c, i3)).intoArray(c, i3);
        c31.add(FloatVector.fromArray(F, c, i3 + VL)).intoArray(c, i3 + VL);
        c40.add(FloatVector.fromArray(F, c, i4)).intoArray(c, i4);
        c41.add(FloatVector.fromArray(F, c, i4 + VL)).intoArray(c, i4 + VL);
        c50.add(FloatVector.fromArray(F, c, i5)).intoArray(c, i5);
        c51.add(FloatVector.fromArray(F, c, i5 + VL)).intoArray(c, i5 + VL);
        c60.add(FloatVector.fromArray(F, c, i6)).intoArray(c, i6);
        c61.add(FloatVector.fromArray(F, c, i6 + VL)).intoArray(c, i6 + VL);
        c70.add(FloatVector.fromArray(F, c, i7)).intoArray(c, i7);
        c71.add(FloatVector.fromArray(F, c, i7 + VL)).intoArray(c, i7 + VL);
    }
}
