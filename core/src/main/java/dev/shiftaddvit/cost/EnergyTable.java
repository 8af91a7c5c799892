package dev.shiftaddvit.cost;

import dev.shiftaddvit.profile.OpCount;

/**
 * Energy per operation in picojoules, the 45 nm table of ShiftAddNet/Horowitz that upstream's
 * {@code cal_energy} uses (spec §6.3). Bit operations (code-bit tests and selections) have no entry in
 * that table and are priced at 0; they are reported as counts.
 *
 * <p>Weight memory is a separate term, never part of the compute energy: {@link #DRAM_PJ_PER_BIT}
 * charges upstream's DRAM cost (200 pJ per 16-bit word) for every weight bit read once per forward pass.
 * Upstream's simulator adds on-chip buffer traffic from a tiling search; this is the plain lower bound.
 */
public record EnergyTable(String name, double multPj, double addPj, double shiftPj) {
    /** 32-bit operands, the table upstream uses for its reported numbers. */
    public static final EnergyTable FP32 = new EnergyTable("32-bit", 3.7, 0.9, 0.13);
    /** 8-bit operands. */
    public static final EnergyTable INT8 = new EnergyTable("8-bit", 0.2, 0.03, 0.024);
    /** DRAM read energy per bit: 200 pJ per 16-bit word. */
    public static final double DRAM_PJ_PER_BIT = 200.0 / 16;

    /** Compute energy (pJ) of the given operation counts. */
    public double computePj(double mults, double adds, double shifts) {
        return mults * multPj + adds * addPj + shifts * shiftPj;
    }

    public double computePj(OpCount ops) {
        return computePj(ops.mults(), ops.adds(), ops.shifts());
    }

    /**
     * Energy-aware MoE weights α (Mult, Shift), normalised to sum 1: each expert's energy per weight and
     * token (mult + add against shift + add), the counterpart of latency-measured α for a deployment that
     * optimises energy rather than CPU time.
     */
    public float[] expertAlpha() {
        double mult = multPj + addPj;
        double shift = shiftPj + addPj;
        return new float[]{(float) (mult / (mult + shift)), (float) (shift / (mult + shift))};
    }

    /** DRAM energy (pJ) of reading the given bytes of weights once. */
    public static double dramPj(long bytes) {
        return bytes * 8 * DRAM_PJ_PER_BIT;
    }
}
