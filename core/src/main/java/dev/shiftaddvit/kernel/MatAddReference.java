package dev.shiftaddvit.kernel;

/**
 * The scalar oracle the tests compare {@link MatAdd} against at every vector width: bit tests instead of
 * buckets and tables, in the kernels' summation order, so the two agree exactly.
 */
public final class MatAddReference {
    private MatAddReference() {
    }

    /**
     * Oracle of {@link MatAdd#transposedTimes}: bit tests, no buckets, the same summation order:
     * T[t, c] = Σ_{s = 1..15 ascending, bit t%4 of s} Σ_{blocks ascending} Σ_{k in block ascending,
     * pattern of bit group t/4 of token k = s} V[k, c], every sum from +0 (a sum that starts from
     * +0 is never −0, so the block sum "from +0" equals the kernel's "first block, then add").
     */
    public static void transposedTimes(int n, int r, int d, long[] words, int cOff, float[] v, int vOff, int ldv,
                                       float[] out, int tOff, int ldt) {
        MatAdd.checkDims(n, r, d);
        long mask = BitCodes.lowBits(r);
        int blocks = MatAdd.blocks(n);
        for (int t = 0; t < r; t++) {
            int q = t >>> 2;
            for (int c = 0; c < d; c++) {
                float acc = 0f;
                for (int s = 1; s < 16; s++) {
                    if ((s >>> (t & 3) & 1) == 0) continue;
                    float tot = 0f;
                    for (int blk = 0; blk < blocks; blk++) {
                        float part = 0f;
                        for (int k = blk * MatAdd.BLOCK; k < Math.min(n, (blk + 1) * MatAdd.BLOCK); k++) {
                            if ((int) ((words[cOff + k] & mask) >>> 4 * q & 15) == s) part += v[vOff + k * ldv + c];
                        }
                        tot += part;
                    }
                    acc += tot;
                }
                out[tOff + t * ldt + c] = acc;
            }
        }
    }

    /**
     * Oracle of {@link MatAdd#times}: bit tests, no tables, the same summation order (the sum of each
     * 4-bit group from +0 in ascending bit order, then the group sums in ascending order).
     */
    public static void times(int n, int r, int d, long[] words, int cOff, float[] tm, int tOff, int ldt,
                             float[] out, int pOff, int ldp) {
        MatAdd.checkDims(n, r, d);
        for (int k = 0; k < n; k++) {
            long w = words[cOff + k];
            for (int c = 0; c < d; c++) {
                float acc = 0f;
                for (int q = 0; q < (r + 3) / 4; q++) {
                    float s = 0f;
                    for (int t = 4 * q; t < Math.min(r, 4 * q + 4); t++) {
                        if ((w >>> t & 1L) != 0) s += tm[tOff + t * ldt + c];
                    }
                    acc = q == 0 ? s : acc + s;
                }
                out[pOff + k * ldp + c] = acc;
            }
        }
    }

    /** Oracle of {@link MatAdd#transposedTimesHeads} (serial). */
    public static void transposedTimesHeads(BitCodes codes, int heads, int d, float[] v, int vOff, int ldv,
                                            float[] out, int tOff) {
        int n = codes.tokens();
        int r = codes.bits();
        MatAdd.checkHeads(codes.groups(), heads, d);
        for (int g = 0; g < codes.groups(); g++) {
            transposedTimes(n, r, d, codes.tokenWords(), codes.tokenOffset(g),
                    v, vOff + (g / heads) * n * ldv + (g % heads) * d, ldv, out, tOff + g * r * d, d);
        }
    }

    /** Oracle of {@link MatAdd#timesHeads} (serial). */
    public static void timesHeads(BitCodes codes, int heads, int d, float[] tm, int tOff, float[] out, int pOff,
                                  int ldp) {
        int n = codes.tokens();
        int r = codes.bits();
        MatAdd.checkHeads(codes.groups(), heads, d);
        for (int g = 0; g < codes.groups(); g++) {
            times(n, r, d, codes.tokenWords(), codes.tokenOffset(g), tm, tOff + g * r * d, d,
                    out, pOff + (g / heads) * n * ldp + (g % heads) * d, ldp);
        }
    }
}
