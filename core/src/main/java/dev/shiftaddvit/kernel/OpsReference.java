package dev.shiftaddvit.kernel;

/**
 * The scalar oracle the tests compare {@link Ops} against at every vector width: plain loops, the reductions
 * summed in double.
 */
public final class OpsReference {
    private OpsReference() {
    }

    /** Oracle of {@link Ops#add}. */
    public static void add(float[] a, float[] b, float[] out, int n) {
        for (int i = 0; i < n; i++) out[i] = a[i] + b[i];
    }

    /** Oracle of {@link Ops#scale}. */
    public static void scale(float[] x, float s, int n) {
        for (int i = 0; i < n; i++) x[i] *= s;
    }

    /** Oracle of {@link Ops#addBiasRows}. */
    public static void addBiasRows(float[] y, float[] bias, int rows, int cols) {
        for (int r = 0; r < rows; r++) for (int c = 0; c < cols; c++) y[r * cols + c] += bias[c];
    }

    /** Oracle of {@link Ops#sumRows} (summed in double). */
    public static void sumRows(float[] dy, float[] dbias, int rows, int cols) {
        for (int c = 0; c < cols; c++) {
            double s = 0;
            for (int r = 0; r < rows; r++) s += dy[r * cols + c];
            dbias[c] += (float) s;
        }
    }

    /** Oracle of {@link Ops#sumSquares}. */
    public static float sumSquares(float[] x, int n) {
        double s = 0;
        for (int i = 0; i < n; i++) s += (double) x[i] * x[i];
        return (float) s;
    }
}
