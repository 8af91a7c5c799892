package dev.shiftaddvit.onnx;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Builds an ONNX model (ModelProto) in the default operator domain: nodes in the order they are
 * added, float and int64 initializers, graph inputs and outputs. Every node input must already be
 * defined, which keeps the node list topologically sorted as ONNX requires. Field numbers are
 * those of onnx.proto.
 */
public final class OnnxGraph {
    /** TensorProto.DataType values. */
    public static final int FLOAT = 1;
    public static final int INT64 = 7;
    /** IR version 8 is the one that introduced opset 17 (ONNX 1.12). */
    static final long IR_VERSION = 8;

    private final String name;
    private final int opset;
    private final List<Protobuf> nodes = new ArrayList<>();
    private final List<Protobuf> initializers = new ArrayList<>();
    private final List<Protobuf> inputs = new ArrayList<>();
    private final List<Protobuf> outputs = new ArrayList<>();
    private final Set<String> defined = new HashSet<>();
    /** Shared int64/float constants by value, so each shape vector or scalar is stored once. */
    private final Map<String, String> constants = new HashMap<>();
    private String scope = "";
    private int counter;

    public OnnxGraph(String name, int opset) {
        this.name = name;
        this.opset = opset;
    }

    /** Prefix for the names of the nodes added next (a layer name), so the graph reads like the model. */
    public void scope(String layer) {
        scope = layer.isEmpty() ? "" : layer + "/";
    }

    /**
     * A graph input of element type FLOAT; each dimension is an Integer/Long (fixed) or a String
     * (symbolic, e.g. "N" for a dynamic batch).
     */
    public String input(String value, Object... dims) {
        define(value);
        inputs.add(valueInfo(value, dims));
        return value;
    }

    /** Declares a defined value as a graph output of element type FLOAT. */
    public void output(String value, Object... dims) {
        requireDefined(value);
        outputs.add(valueInfo(value, dims));
    }

    /** A float initializer stored as raw little-endian bytes. */
    public String initializer(String value, float[] data, long... dims) {
        checkCount(value, data.length, dims);
        ByteBuffer buf = ByteBuffer.allocate(4 * data.length).order(ByteOrder.LITTLE_ENDIAN);
        buf.asFloatBuffer().put(data);
        return tensor(value, FLOAT, buf.array(), dims);
    }

    /** A 1-D int64 constant (shapes, axes), shared between nodes. */
    public String int64s(long... values) {
        return constant(INT64, int64Bytes(values), values.length);
    }

    /** A 0-D int64 constant (a Gather index that drops the axis). */
    public String int64Scalar(long value) {
        return constant(INT64, int64Bytes(value));
    }

    /** A 0-D float constant, broadcast by element-wise operators. */
    public String floatScalar(float value) {
        return constant(FLOAT, ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putFloat(value).array());
    }

    /** Adds a node with one output, named after the scope and operator; returns the output name. */
    public String node(String opType, List<String> in, Protobuf... attributes) {
        return node(scope + opType + "_" + counter++, opType, in, attributes);
    }

    /** Adds a node with one output of the given name (a graph output, say). */
    public String node(String output, String opType, List<String> in, Protobuf... attributes) {
        for (String i : in) requireDefined(i);
        define(output);
        Protobuf n = new Protobuf();
        for (String i : in) n.string(1, i);
        n.string(2, output).string(3, output).string(4, opType);
        for (Protobuf a : attributes) n.message(5, a);
        nodes.add(n);
        return output;
    }

    public static Protobuf intAttr(String name, long value) {
        return new Protobuf().string(1, name).varint(20, 2).varint(3, value);
    }

    public static Protobuf floatAttr(String name, float value) {
        return new Protobuf().string(1, name).varint(20, 1).float32(2, value);
    }

    public static Protobuf intsAttr(String name, long... values) {
        return new Protobuf().string(1, name).varint(20, 7).varints(8, values);
    }

    /** The ModelProto: IR version, the default-domain opset import, producer and graph. */
    public Protobuf model(String producer, String producerVersion) {
        Protobuf graph = new Protobuf();
        for (Protobuf n : nodes) graph.message(1, n);
        graph.string(2, name);
        for (Protobuf t : initializers) graph.message(5, t);
        for (Protobuf i : inputs) graph.message(11, i);
        for (Protobuf o : outputs) graph.message(12, o);
        Protobuf opsetId = new Protobuf().varint(2, opset);
        return new Protobuf().varint(1, IR_VERSION).string(2, producer).string(3, producerVersion)
                .message(7, graph).message(8, opsetId);
    }

    private String constant(int dataType, byte[] raw, long... dims) {
        String key = dataType + Arrays.toString(dims) + HexFormat.of().formatHex(raw);
        String existing = constants.get(key);
        if (existing != null) return existing;
        String value = tensor("const_" + constants.size(), dataType, raw, dims);
        constants.put(key, value);
        return value;
    }

    private static byte[] int64Bytes(long... values) {
        ByteBuffer buf = ByteBuffer.allocate(8 * values.length).order(ByteOrder.LITTLE_ENDIAN);
        for (long v : values) buf.putLong(v);
        return buf.array();
    }

    private String tensor(String value, int dataType, byte[] raw, long[] dims) {
        define(value);
        initializers.add(new Protobuf().varints(1, dims).varint(2, dataType).string(8, value).bytes(9, raw));
        return value;
    }

    private static void checkCount(String value, int count, long[] dims) {
        long n = 1;
        for (long d : dims) n *= d;
        if (n != count) {
            throw new IllegalArgumentException(value + ": " + count + " values for shape " + Arrays.toString(dims));
        }
    }

    private static Protobuf valueInfo(String value, Object[] dims) {
        Protobuf shape = new Protobuf();
        for (Object d : dims) {
            Protobuf dim = switch (d) {
                case Integer i -> new Protobuf().varint(1, i);
                case Long l -> new Protobuf().varint(1, l);
                case String s -> new Protobuf().string(2, s);
                default -> throw new IllegalArgumentException("dimension must be a number or a name: " + d);
            };
            shape.message(1, dim);
        }
        Protobuf tensorType = new Protobuf().varint(1, FLOAT).message(2, shape);
        return new Protobuf().string(1, value).message(2, new Protobuf().message(1, tensorType));
    }

    private void define(String value) {
        if (!defined.add(value)) throw new IllegalArgumentException("value \"" + value + "\" is defined twice");
    }

    private void requireDefined(String value) {
        if (!defined.contains(value)) throw new IllegalArgumentException("value \"" + value + "\" is not defined yet");
    }
}
