package dev.shiftaddvit.shiftadd;

/**
 * The latency-aware load-balancing loss of ShiftAddViT (LL-loss, spec §4.3), for one MoE layer:
 * <pre>
 *   L_bal = CV²(α ⊙ Imp) + CV²(α ⊙ Load),   CV²(v) = var(v) / (mean(v)² + 1e-10)
 * </pre>
 * with var the <b>unbiased</b> variance (torch's default, denominator n − 1; for two experts
 * var = (v₁ − v₂)²/2), Imp_e = Σ_tokens p_e (router softmax) and Load_e = the tokens routed to e.
 * A single expert gives CV² = 0 (upstream's {@code cv_squared} returns 0 there instead of torch's NaN).
 * The layer multiplies L_bal by its coefficient (default 0.01, upstream's {@code loss_coef}).
 *
 * <p><b>Direction of α.</b> Minimising CV²(α ⊙ Imp) drives α_e·Imp_e to be equal across experts, so
 * Imp_e ∝ 1/α_e. With α_e proportional to expert e's latency (see {@link ExpertLatency}) the faster
 * expert receives more tokens: upstream's α = (6, 4) for (Mult, Shift) balances at 40% Mult, 60% Shift.
 * CV² is invariant to a common scale of α, so only the ratio of α matters.
 *
 * <p>All arithmetic is in double (torch runs it in float32; the difference is below float rounding of the
 * result for any realistic token count).
 */
public final class LoadBalance {
    /** The ε in CV²'s denominator, as upstream. */
    public static final double EPS = 1e-10;

    private LoadBalance() {
    }

    /** CV²(v) = var(v)/(mean(v)² + 1e-10) with the unbiased variance; 0 for fewer than two entries. */
    public static double cv2(double[] v) {
        int n = v.length;
        if (n < 2) return 0.0;
        double mean = mean(v);
        double ss = 0;
        for (double x : v) ss += (x - mean) * (x - mean);
        double var = ss / (n - 1);
        return var / (mean * mean + EPS);
    }

    /**
     * ∂CV²(v)/∂v_i = 2(v_i − m)/((n − 1)(m² + ε)) − var·2m/(n·(m² + ε)²), a fresh array (zeros for n &lt; 2).
     */
    public static double[] cv2Gradient(double[] v) {
        int n = v.length;
        double[] g = new double[n];
        if (n < 2) return g;
        double mean = mean(v);
        double ss = 0;
        for (double x : v) ss += (x - mean) * (x - mean);
        double var = ss / (n - 1);
        double den = mean * mean + EPS;
        double common = var * 2 * mean / (n * den * den);
        for (int i = 0; i < n; i++) g[i] = 2 * (v[i] - mean) / ((n - 1) * den) - common;
        return g;
    }

    /** α ⊙ v as a fresh array. */
    public static double[] weighted(float[] alpha, double[] v) {
        requireSameLength(alpha, v);
        double[] w = new double[v.length];
        for (int i = 0; i < v.length; i++) w[i] = alpha[i] * v[i];
        return w;
    }

    /** L_bal = CV²(α ⊙ importance) + CV²(α ⊙ load), without the layer's coefficient. */
    public static double loss(float[] alpha, double[] importance, double[] load) {
        return cv2(weighted(alpha, importance)) + cv2(weighted(alpha, load));
    }

    /**
     * ∂CV²(α ⊙ v)/∂v_e = α_e · ∂CV²/∂u_e at u = α ⊙ v: the gradient of the importance term w.r.t. Imp (and
     * the straight-through gradient of the load term, see {@link MoeLinear.LoadGradient}).
     */
    public static double[] weightedGradient(float[] alpha, double[] v) {
        double[] g = cv2Gradient(weighted(alpha, v));
        for (int i = 0; i < g.length; i++) g[i] *= alpha[i];
        return g;
    }

    /**
     * The importance shares at which CV²(α ⊙ Imp) is zero: share_e = (1/α_e)/Σ_j (1/α_j). For α = (0.6, 0.4)
     * that is (0.4, 0.6): the faster (smaller α) expert gets the larger share.
     */
    public static double[] balancedShares(float[] alpha) {
        double[] s = new double[alpha.length];
        double sum = 0;
        for (int i = 0; i < alpha.length; i++) {
            s[i] = 1.0 / alpha[i];
            sum += s[i];
        }
        for (int i = 0; i < s.length; i++) s[i] /= sum;
        return s;
    }

    private static double mean(double[] v) {
        double s = 0;
        for (double x : v) s += x;
        return s / v.length;
    }

    private static void requireSameLength(float[] alpha, double[] v) {
        if (alpha.length != v.length) {
            throw new IllegalArgumentException("alpha has " + alpha.length + " entries but the vector has " + v.length);
        }
    }
}
