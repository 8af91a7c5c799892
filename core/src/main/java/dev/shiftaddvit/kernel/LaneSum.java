package dev.shiftaddvit.kernel;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * The sum of a vector's lanes in one fixed order: the upper half of the lanes is added onto the lower
 * half until one lane is left (lane 0 of a 4-lane vector ends as (v0 + v2) + (v1 + v3)).
 *
 * <p>{@code reduceLanes(ADD)} leaves the order of a floating-point sum unspecified, and HotSpot
 * uses it: the interpreter and C1 sum the lanes one after another, C2's intrinsic pairs them. A
 * kernel therefore gave different bits before and after its method was compiled, so the same run
 * on the same machine could end in different losses. Lane-wise adds of permuted copies are exact in
 * every execution mode, so this order holds everywhere. The permutations are constant shuffles (lane
 * i takes lane i ^ h), which C2 compiles to one permute each; {@code slice} was 2-7x slower here.
 */
public final class LaneSum {
    private static final VectorShuffle<Float> F8 = swap(VectorWidth.FLOAT, 8);
    private static final VectorShuffle<Float> F4 = swap(VectorWidth.FLOAT, 4);
    private static final VectorShuffle<Float> F2 = swap(VectorWidth.FLOAT, 2);
    private static final VectorShuffle<Float> F1 = swap(VectorWidth.FLOAT, 1);
    private static final VectorMask<Float> M8 = bit(VectorWidth.FLOAT, 8);
    private static final VectorMask<Float> M4 = bit(VectorWidth.FLOAT, 4);
    private static final VectorMask<Float> M2 = bit(VectorWidth.FLOAT, 2);
    private static final VectorMask<Float> M1 = bit(VectorWidth.FLOAT, 1);
    /** Lanes of {@link #sum4}'s result that hold the sums of b, c and d (a's is lane 0). */
    public static final int LANE_B = VectorWidth.FLOAT.length() / 2;
    public static final int LANE_C = VectorWidth.FLOAT.length() / 4;
    public static final int LANE_D = LANE_B + LANE_C;
    private static final VectorShuffle<Double> D4 = swap(VectorWidth.DOUBLE, 4);
    private static final VectorShuffle<Double> D2 = swap(VectorWidth.DOUBLE, 2);
    private static final VectorShuffle<Double> D1 = swap(VectorWidth.DOUBLE, 1);

    private LaneSum() {
    }

    /** The shuffle taking lane i ^ h into lane i, or null when the species has no lane h. */
    private static <E> VectorShuffle<E> swap(VectorSpecies<E> species, int h) {
        return h < species.length() ? VectorShuffle.fromOp(species, i -> i ^ h) : null;
    }

    /** Lanes with bit h of their index set, or null when the species has no lane h. */
    private static VectorMask<Float> bit(VectorSpecies<Float> species, int h) {
        if (h >= species.length()) return null;
        boolean[] set = new boolean[species.length()];
        for (int i = 0; i < set.length; i++) set[i] = (i & h) != 0;
        return VectorMask.fromArray(species, set, 0);
    }

    /**
     * The lane sums of four vectors at once, in lanes 0 (a), {@link #LANE_B}, {@link #LANE_C} and
     * {@link #LANE_D} of the result: the first two folds merge two vectors into one (each lane pair
     * {i, i ^ h} of a and of b summed in one add), so four sums cost about as much as two. Each sum
     * adds the same pairs as {@link #sum(FloatVector)}, some with the operands swapped, which float
     * addition does not notice: the bits are the same.
     */
    public static FloatVector sum4(FloatVector a, FloatVector b, FloatVector c, FloatVector d) {
        int n = a.length();
        FloatVector w;
        if (n == 16) {
            w = merge(merge(a, b, F8, M8), merge(c, d, F8, M8), F4, M4);
            w = w.add(w.rearrange(F2));
            return w.add(w.rearrange(F1));
        }
        if (n == 8) {
            w = merge(merge(a, b, F4, M4), merge(c, d, F4, M4), F2, M2);
            return w.add(w.rearrange(F1));
        }
        return merge(merge(a, b, F2, M2), merge(c, d, F2, M2), F1, M1);
    }

    /** Lanes without bit h: a[i] + a[i ^ h]; lanes with bit h: b[i] + b[i ^ h]. */
    private static FloatVector merge(FloatVector a, FloatVector b, VectorShuffle<Float> swap, VectorMask<Float> high) {
        return a.blend(b, high).add(b.blend(a, high).rearrange(swap));
    }

    /** Lane sum of a {@link VectorWidth#FLOAT} vector (up to 16 lanes). */
    public static float sum(FloatVector v) {
        int n = v.length();
        if (n > 8) v = v.add(v.rearrange(F8));
        if (n > 4) v = v.add(v.rearrange(F4));
        if (n > 2) v = v.add(v.rearrange(F2));
        if (n > 1) v = v.add(v.rearrange(F1));
        return v.lane(0);
    }

    /** Lane sum of a {@link VectorWidth#DOUBLE} vector (up to 8 lanes). */
    public static double sum(DoubleVector v) {
        int n = v.length();
        if (n > 4) v = v.add(v.rearrange(D4));
        if (n > 2) v = v.add(v.rearrange(D2));
        if (n > 1) v = v.add(v.rearrange(D1));
        return v.lane(0);
    }
}
