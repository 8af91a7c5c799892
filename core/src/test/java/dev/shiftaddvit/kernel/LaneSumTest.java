package dev.shiftaddvit.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.SplittableRandom;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import org.junit.jupiter.api.Test;

/**
 * {@link LaneSum} gives exactly its scalar twin's bits, every call: enough calls that the method is
 * compiled part-way (the order of reduceLanes(ADD) changed when C2 took over).
 */
class LaneSumTest {
    @Test
    void floatSumIsThePairwiseFoldInEveryCall() {
        SplittableRandom rnd = new SplittableRandom(1);
        int n = VectorWidth.FLOAT.length();
        for (int call = 0; call < 200_000; call++) {
            float[] lanes = new float[n];
            // magnitudes spread over many binades so that any other order rounds differently
            for (int i = 0; i < n; i++) lanes[i] = (float) (rnd.nextDouble(-1, 1) * Math.scalb(1.0, rnd.nextInt(-12, 12)));
            float got = LaneSum.sum(FloatVector.fromArray(VectorWidth.FLOAT, lanes, 0));
            if (Float.floatToRawIntBits(got) != Float.floatToRawIntBits(LaneSumReference.sum(lanes))) {
                assertEquals(LaneSumReference.sum(lanes), got, 0f, "call " + call);
            }
        }
    }

    @Test
    void fourSumsAtOnceAreEachThePairwiseFold() {
        SplittableRandom rnd = new SplittableRandom(3);
        int n = VectorWidth.FLOAT.length();
        int[] lanes = {0, LaneSum.LANE_B, LaneSum.LANE_C, LaneSum.LANE_D};
        for (int call = 0; call < 100_000; call++) {
            float[][] v = new float[4][n];
            FloatVector[] x = new FloatVector[4];
            for (int j = 0; j < 4; j++) {
                for (int i = 0; i < n; i++) v[j][i] = (float) (rnd.nextDouble(-1, 1) * Math.scalb(1.0, rnd.nextInt(-12, 12)));
                x[j] = FloatVector.fromArray(VectorWidth.FLOAT, v[j], 0);
            }
            FloatVector s = LaneSum.sum4(x[0], x[1], x[2], x[3]);
            for (int j = 0; j < 4; j++) {
                float want = LaneSumReference.sum(v[j]);
                if (Float.floatToRawIntBits(s.lane(lanes[j])) != Float.floatToRawIntBits(want)) {
                    assertEquals(want, s.lane(lanes[j]), 0f, "sum " + j + " in call " + call);
                }
            }
        }
    }

    @Test
    void doubleSumIsThePairwiseFoldInEveryCall() {
        SplittableRandom rnd = new SplittableRandom(2);
        int n = VectorWidth.DOUBLE.length();
        for (int call = 0; call < 200_000; call++) {
            double[] lanes = new double[n];
            for (int i = 0; i < n; i++) lanes[i] = rnd.nextDouble(-1, 1) * Math.scalb(1.0, rnd.nextInt(-40, 40));
            double got = LaneSum.sum(DoubleVector.fromArray(VectorWidth.DOUBLE, lanes, 0));
            if (Double.doubleToRawLongBits(got) != Double.doubleToRawLongBits(LaneSumReference.sum(lanes))) {
                assertEquals(LaneSumReference.sum(lanes), got, 0.0, "call " + call);
            }
        }
    }
}
