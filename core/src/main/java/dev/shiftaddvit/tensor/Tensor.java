package dev.shiftaddvit.tensor;

import java.util.Arrays;

/** A dense fp32 tensor in row-major order: a flat array and an explicit shape. */
public final class Tensor {
    private final float[] data;
    private final int[] shape;

    private Tensor(float[] data, int[] shape) {
        this.data = data;
        this.shape = shape;
    }

    public static Tensor zeros(int... shape) {
        return new Tensor(new float[checkedSize(shape)], shape.clone());
    }

    /** Wraps data without copying; its length must equal the product of the shape. */
    public static Tensor of(float[] data, int... shape) {
        long size = checkedSize(shape);
        if (size != data.length) {
            throw new ShapeException("data length " + data.length + " does not match shape "
                    + Arrays.toString(shape) + " (" + size + " elements)");
        }
        return new Tensor(data, shape.clone());
    }

    public static int checkedSize(int... shape) {
        long size = 1;
        for (int d : shape) {
            if (d < 0) throw new ShapeException("negative dimension in shape " + Arrays.toString(shape));
            size *= d;
            if (size > Integer.MAX_VALUE - 16) {
                throw new ShapeException("shape " + Arrays.toString(shape) + " exceeds 2^31 elements");
            }
        }
        return (int) size;
    }

    public float[] data() {
        return data;
    }

    public int[] shape() {
        return shape.clone();
    }

    public int rank() {
        return shape.length;
    }

    public int dim(int axis) {
        return shape[axis < 0 ? shape.length + axis : axis];
    }

    public int size() {
        return data.length;
    }

    /** A view with another shape over the same data. */
    public Tensor reshape(int... newShape) {
        return of(data, newShape);
    }

    public Tensor copy() {
        return new Tensor(data.clone(), shape.clone());
    }

    public void fill(float v) {
        Arrays.fill(data, v);
    }

    public boolean sameShape(Tensor other) {
        return Arrays.equals(shape, other.shape);
    }

    public void requireShape(String what, int... expected) {
        if (!Arrays.equals(shape, expected)) {
            throw new ShapeException(what + ": expected shape " + Arrays.toString(expected)
                    + " but found " + Arrays.toString(shape));
        }
    }

    @Override
    public String toString() {
        return "Tensor" + Arrays.toString(shape);
    }
}
