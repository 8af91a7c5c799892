package dev.shiftaddvit.kernel;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * The one place that decides the vector width of the whole engine: the JVM's preferred shape, or
 * the shape that the system property {@value #PROPERTY} (128, 256 or 512) names. Every vectorised
 * loop takes its species from here, so one JVM flag runs all of them at another width; widths the
 * hardware lacks still run, in the Vector API's plain-Java fallback (slow, same results), which is
 * how the tests verify every width on any machine. A bad value fails the class's initialisation
 * with an {@link IllegalArgumentException} naming the property (the CLI reports it as bad input).
 */
public final class VectorWidth {
    /** The system property that overrides the preferred width. */
    public static final String PROPERTY = "shiftaddvit.vector.bits";

    /** Whether {@value #PROPERTY} set the width (else the JVM's preferred shape did). */
    public static final boolean OVERRIDDEN = !System.getProperty(PROPERTY, "").isBlank();
    /** The shape in use. */
    public static final VectorShape SHAPE = shapeFor(System.getProperty(PROPERTY));
    /** Width in bits. */
    public static final int BITS = SHAPE.vectorBitSize();
    /** Floats at this width. */
    public static final VectorSpecies<Float> FLOAT = VectorSpecies.of(float.class, SHAPE);
    /** Ints at this width (same lane count as {@link #FLOAT}). */
    public static final VectorSpecies<Integer> INT = VectorSpecies.of(int.class, SHAPE);
    /** Doubles at this width (half the lanes of {@link #FLOAT}). */
    public static final VectorSpecies<Double> DOUBLE = VectorSpecies.of(double.class, SHAPE);

    private VectorWidth() {
    }

    /**
     * The shape for a value of {@value #PROPERTY}: null or blank means the preferred shape.
     *
     * @throws IllegalArgumentException naming the property when the value is not 128, 256 or 512
     */
    public static VectorShape shapeFor(String bits) {
        if (bits == null || bits.isBlank()) return VectorShape.preferredShape();
        return switch (bits.strip()) {
            case "128" -> VectorShape.S_128_BIT;
            case "256" -> VectorShape.S_256_BIT;
            case "512" -> VectorShape.S_512_BIT;
            default -> throw new IllegalArgumentException(
                    "system property " + PROPERTY + " must be 128, 256 or 512, got '" + bits + "'");
        };
    }

    /** Bits of the widest vector the JVM's compiler uses on this machine. */
    public static int hardwareBits() {
        return FloatVector.SPECIES_PREFERRED.vectorBitSize();
    }

    /** One line for logs and reports, e.g. "256-bit vectors (8 floats; preferred)". */
    public static String describe() {
        String source = OVERRIDDEN ? PROPERTY + "=" + BITS : "preferred";
        String hw = BITS > hardwareBits() ? ", wider than the hardware's " + hardwareBits() + ": plain-Java fallback" : "";
        return BITS + "-bit vectors (" + FLOAT.length() + " floats; " + source + hw + ")";
    }
}
