package dev.shiftaddvit.bench;

import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.openblas.global.openblas_nolapack;

/** OpenBLAS cblas_sgemm through the JavaCPP presets, operands in native memory. */
final class OpenBlasImpl implements GemmShootout.Impl {

    OpenBlasImpl(int threads) {
        openblas_nolapack.blas_set_num_threads(threads);
    }

    static String describe() {
        return openblas_nolapack.OPENBLAS_VERSION.trim() + " (JavaCPP presets " + openblas_nolapack.class.getPackage().getImplementationVersion() + "), "
                + openblas_nolapack.blas_get_num_threads() + " threads";
    }

    @Override
    public String name() {
        return "OpenBLAS";
    }

    @Override
    public GemmShootout.Runner prepare(GemmShootout.Shape s, float[] a, float[] b) {
        int m = s.m(), n = s.n(), k = s.k();
        FloatPointer pa = new FloatPointer(a);
        FloatPointer pb = new FloatPointer(b);
        FloatPointer pc = new FloatPointer((long) m * n);
        int row = openblas_nolapack.CblasRowMajor;
        int no = openblas_nolapack.CblasNoTrans;
        int tr = openblas_nolapack.CblasTrans;
        Runnable body = switch (s.form()) {
            case NT -> () -> openblas_nolapack.cblas_sgemm(row, no, tr, m, n, k, 1f, pa, k, pb, k, 0f, pc, n);
            case NN -> () -> openblas_nolapack.cblas_sgemm(row, no, no, m, n, k, 1f, pa, k, pb, n, 0f, pc, n);
            case TN -> () -> openblas_nolapack.cblas_sgemm(row, tr, no, m, n, k, 1f, pa, m, pb, n, 0f, pc, n);
        };
        return new GemmShootout.Runner() {
            @Override
            public void run() {
                body.run();
            }

            @Override
            public float[] result() {
                float[] c = new float[m * n];
                pc.get(c);
                return c;
            }

            @Override
            public void close() {
                pa.close();
                pb.close();
                pc.close();
            }
        };
    }
}
