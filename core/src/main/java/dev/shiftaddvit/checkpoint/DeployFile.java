package dev.shiftaddvit.checkpoint;

import dev.shiftaddvit.io.InvalidInputException;
import dev.shiftaddvit.io.Safetensors;
import dev.shiftaddvit.io.SafetensorsFile;
import dev.shiftaddvit.model.ConfigException;
import dev.shiftaddvit.model.Deploy;
import dev.shiftaddvit.model.Model;
import dev.shiftaddvit.model.Reparam;
import dev.shiftaddvit.model.ShiftAddSpec;
import dev.shiftaddvit.nn.Parameter;
import dev.shiftaddvit.shiftadd.MoeLinear;
import dev.shiftaddvit.shiftadd.ShiftCodeBits;
import dev.shiftaddvit.shiftadd.ShiftCodes;
import dev.shiftaddvit.tensor.Tensor;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The deploy file of a ShiftAddViT: a safetensors file holding every tensor a checkpoint holds except, per
 * MoE layer {@code <n>}, the float {@code <n>.experts.1.shift} and {@code .sign}, replaced by
 * {@code <n>.experts.1.codes}: dtype U8, shape [ceil(out·in·5/8)], the {@link ShiftCodes} of the [out, in]
 * weight bit-packed as {@link ShiftCodeBits} describes (LSB first). Its metadata is a checkpoint's (model
 * config, reparameterisation) plus {@code format=shiftaddvit-deploy}, {@code deploy.code_bits=5} and
 * {@code deploy.shape.<codes name>=out,in}. A layer deployed shift-only ({@link MoeLinear#deployShiftOnly})
 * has no router ({@code <n>.gate.*}) and no Mult expert ({@code <n>.experts.0.*}) in the file; the metadata
 * {@code deploy.shift_only} lists such layers. {@link Checkpoints#load(Path)} recognises the format and loads
 * such a file deployed ({@link Deploy#freeze}), so every command that reads a model reads deploy files too.
 */
public final class DeployFile {
    /** Value of {@link CheckpointKeys#FORMAT} in a deploy file. */
    public static final String FORMAT = "shiftaddvit-deploy";

    private DeployFile() {
    }

    /**
     * Whether checkpoint metadata marks a deploy file.
     *
     * @param metadata a safetensors file's metadata
     * @return whether its {@link CheckpointKeys#FORMAT} is {@link #FORMAT}
     */
    public static boolean isDeployFile(Map<String, String> metadata) {
        return FORMAT.equals(metadata.get(CheckpointKeys.FORMAT));
    }

    /**
     * Name of the Shift expert of a MoE layer named {@code moe}, e.g. {@code stages.0.blocks.0.mlp.fc1.experts.1}.
     *
     * @param moe the MoE layer's name, e.g. {@code stages.0.blocks.0.mlp.fc1}
     * @return {@code moe} followed by {@code .experts.1}
     */
    public static String shiftExpert(String moe) {
        return moe + ".experts." + MoeLinear.SHIFT;
    }

    /**
     * Name of the codes tensor of a MoE layer named {@code moe}.
     *
     * @param moe the MoE layer's name
     * @return {@code <moe>.experts.1.codes}
     */
    public static String codesName(String moe) {
        return shiftExpert(moe) + ".codes";
    }

    /**
     * Writes a deploy file atomically. The codes are those the model runs: the deployed ones where a layer is
     * deployed, else the current codes of its float Shift expert. meta is added to the checkpoint metadata.
     *
     * @param path  the file to write; an existing one is replaced
     * @param model the model to store, deployed or not; its shift-only layers are stored without router and
     *              Mult expert
     * @param meta  metadata to add (the command, the parent, ...), not null; the format keys this method sets
     *              ({@code format}, {@code deploy.code_bits}, {@code deploy.shape.*}, {@code deploy.shift_only})
     *              override it
     * @throws IOException when the file cannot be written
     */
    public static void save(Path path, Model model, Map<String, String> meta) throws IOException {
        Map<String, String> all = new LinkedHashMap<>(model.config().toMetadata());
        all.putAll(model.shiftAdd().toMetadata());
        all.putAll(meta);
        all.put(CheckpointKeys.FORMAT, FORMAT);
        all.put(CheckpointKeys.DEPLOY_CODE_BITS, Integer.toString(ShiftCodeBits.BITS));
        // The codes go where the expert's shift parameter was; its sign parameter is dropped.
        Map<String, MoeLinear> byShiftParam = new LinkedHashMap<>();
        Set<String> dropped = new HashSet<>();
        List<String> shiftOnly = new ArrayList<>();
        for (MoeLinear l : Reparam.moeLayers(model)) {
            byShiftParam.put(l.shift().shift().name(), l);
            dropped.add(l.shift().sign().name());
            all.put(CheckpointKeys.DEPLOY_SHAPE_PREFIX + codesName(l.name()), l.out() + "," + l.in());
            if (l.isShiftOnly()) {
                shiftOnly.add(l.name());
                for (Parameter p : l.gate().parameters()) dropped.add(p.name());
                for (Parameter p : l.mult().parameters()) dropped.add(p.name());
            }
        }
        if (!shiftOnly.isEmpty()) all.put(CheckpointKeys.DEPLOY_SHIFT_ONLY, String.join(",", shiftOnly));
        else all.remove(CheckpointKeys.DEPLOY_SHIFT_ONLY);
        Safetensors.Writer w = Safetensors.writer().metadata(all);
        for (Parameter p : model.parameters()) {
            MoeLinear l = byShiftParam.get(p.name());
            if (l != null) {
                byte[] codes = l.isDeployed() ? l.deployedShift().codes() : l.shift().codes();
                byte[] packed = ShiftCodeBits.pack(codes);
                w.addRaw(codesName(l.name()), Safetensors.Dtype.U8.name(), new int[]{packed.length}, packed);
            } else if (!dropped.contains(p.name())) {
                w.add(p.name(), p.value());
            }
        }
        for (Map.Entry<String, Tensor> b : model.buffers().entrySet()) w.add(b.getKey(), b.getValue());
        w.write(path);
    }

    /**
     * Loads a deploy file, deployed.
     *
     * @param path the deploy file
     * @return the model, deployed ({@link Deploy#freeze}) and its shift-only layers deployed shift-only, with the
     *         file's metadata and extra tensors
     * @throws InvalidInputException when the file is no deploy file, its codes are invalid, or its tensors do
     *                               not fit the model its metadata describes
     */
    public static Checkpoints.Loaded load(Path path) {
        try (SafetensorsFile f = Safetensors.read(path)) {
            return load(f);
        }
    }

    /**
     * Loads an open deploy file, deployed (the dispatch target of {@link Checkpoints#load(Path)}).
     *
     * @param f the open deploy file; left open, the caller closes it
     * @return as {@link #load(Path)}
     * @throws InvalidInputException as {@link #load(Path)}
     */
    public static Checkpoints.Loaded load(SafetensorsFile f) {
        Checkpoints.Loaded l = loadSimulated(f);
        Deploy.freeze(l.model());
        Set<String> shiftOnly = shiftOnly(l.metadata());
        for (MoeLinear layer : Reparam.moeLayers(l.model())) {
            if (shiftOnly.contains(layer.name())) {
                layer.forceExpert(-1);
                layer.deployShiftOnly();
            }
        }
        return l;
    }

    /**
     * The layers a deploy file stores shift-only ({@link CheckpointKeys#DEPLOY_SHIFT_ONLY}).
     *
     * @param metadata the deploy file's metadata
     * @return the MoE layer names listed (unmodifiable), empty when the key is absent or empty
     */
    public static Set<String> shiftOnly(Map<String, String> metadata) {
        String v = metadata.get(CheckpointKeys.DEPLOY_SHIFT_ONLY);
        return v == null || v.isEmpty() ? Set.of() : Set.copyOf(Arrays.asList(v.split(",")));
    }

    /**
     * Loads a deploy file without deploying it: the float simulation of the same codes, trainable again;
     * a shift-only layer sends every token to its Shift expert ({@link MoeLinear#forceExpert}) and has a
     * zero router and Mult expert, which the file does not hold.
     *
     * @param path the deploy file
     * @return the model with float Shift experts, with the file's metadata and extra tensors
     * @throws InvalidInputException as {@link #load(Path)}
     */
    public static Checkpoints.Loaded loadSimulated(Path path) {
        try (SafetensorsFile f = Safetensors.read(path)) {
            return loadSimulated(f);
        }
    }

    /**
     * Validates every codes tensor (present, U8, one dimension, ceil(out·in·5/8) bytes for the recorded
     * shape, which must match the Mult expert's, every code valid, zero padding), reporting all problems at
     * once; unpacks each to its float shift (P = shift) and sign (S = sign) parameters; then loads the rest
     * as a checkpoint, which reports missing tensors and router or expert shape mismatches by name.
     */
    private static Checkpoints.Loaded loadSimulated(SafetensorsFile f) {
        String src = f.path().toString();
        Map<String, String> meta = f.metadata();
        if (!isDeployFile(meta)) {
            String found = meta.get(CheckpointKeys.FORMAT);
            throw new InvalidInputException(src, "metadata \"" + CheckpointKeys.FORMAT + "\" is "
                    + (found == null ? "absent" : "\"" + found + "\"") + ", expected \"" + FORMAT + "\"");
        }
        String bits = meta.get(CheckpointKeys.DEPLOY_CODE_BITS);
        if (!Integer.toString(ShiftCodeBits.BITS).equals(bits)) {
            throw new InvalidInputException(src, "metadata \"" + CheckpointKeys.DEPLOY_CODE_BITS + "\" is " + bits
                    + ", expected " + ShiftCodeBits.BITS);
        }
        ShiftAddSpec spec;
        try {
            spec = ShiftAddSpec.fromMetadata(meta, src);
        } catch (ConfigException e) {
            throw new InvalidInputException(src, e.getMessage().replace(src + ": ", ""));
        }
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        Set<String> codesTensors = new HashSet<>();
        List<String> problems = new ArrayList<>();
        List<ShiftAddSpec.MoeLayer> layers = spec.moe() == null ? List.of() : spec.moe().layers();
        for (ShiftAddSpec.MoeLayer layer : layers) {
            String name = codesName(layer.name());
            codesTensors.add(name);
            String expert = shiftExpert(layer.name());
            for (String floats : List.of(expert + ".shift", expert + ".sign")) {
                if (f.contains(floats)) problems.add(floats + " is stored as float; a deploy file stores " + name);
            }
            try {
                int[] shape = recordedShape(f, meta, name, layer.name());
                byte[] codes = ShiftCodeBits.unpack(f.rawBytes(name), shape[0], shape[1]);
                float[] p = new float[codes.length];
                float[] s = new float[codes.length];
                for (int i = 0; i < codes.length; i++) {
                    p[i] = ShiftCodes.shift(codes[i]);
                    s[i] = ShiftCodes.sign(codes[i]);
                }
                tensors.put(expert + ".shift", Tensor.of(p, shape));
                tensors.put(expert + ".sign", Tensor.of(s, shape));
            } catch (IllegalArgumentException e) {
                problems.add(name + ": " + e.getMessage());
            }
        }
        if (!problems.isEmpty()) throw new InvalidInputException(src, "bad shift codes: " + String.join("; ", problems));
        for (String name : f.names()) if (!codesTensors.contains(name)) tensors.put(name, f.tensor(name));
        Set<String> shiftOnly = shiftOnly(meta);
        addDroppedExperts(src, f, layers, shiftOnly, tensors);
        try {
            Checkpoints.Loaded loaded = Checkpoints.load(src, meta, tensors);
            for (MoeLinear l : Reparam.moeLayers(loaded.model())) {
                if (shiftOnly.contains(l.name())) l.forceExpert(MoeLinear.SHIFT);
            }
            return loaded;
        } catch (InvalidInputException e) {
            String expert = ".experts." + MoeLinear.SHIFT + ".";
            if (!e.problem().contains(expert + "shift") && !e.problem().contains(expert + "sign")) throw e;
            throw new InvalidInputException(src, e.problem() + " (a deploy file's <n>" + expert + "shift and .sign are "
                    + "unpacked from <n>" + expert + "codes)", e);
        }
    }

    /**
     * Zero router and Mult tensors for each shift-only layer (the file leaves them out), after checking that
     * every listed layer is a MoE layer of the file and that it really holds none of them.
     */
    private static void addDroppedExperts(String src, SafetensorsFile f, List<ShiftAddSpec.MoeLayer> layers,
                                          Set<String> shiftOnly, Map<String, Tensor> tensors) {
        Set<String> moe = new HashSet<>();
        for (ShiftAddSpec.MoeLayer layer : layers) moe.add(layer.name());
        for (String name : shiftOnly) {
            if (!moe.contains(name)) {
                throw new InvalidInputException(src, "metadata \"" + CheckpointKeys.DEPLOY_SHIFT_ONLY + "\" names "
                        + name + ", which is not a Mult/Shift layer of this model");
            }
            int[] shape = tensors.get(shiftExpert(name) + ".shift").shape();
            Map<String, int[]> dropped = new LinkedHashMap<>();
            dropped.put(name + ".gate.gate.weight", new int[]{MoeLinear.EXPERTS, shape[1]});
            dropped.put(name + ".gate.gate.bias", new int[]{MoeLinear.EXPERTS});
            dropped.put(name + ".experts." + MoeLinear.MULT + ".weight", shape);
            if (f.contains(shiftExpert(name) + ".bias")) {
                dropped.put(name + ".experts." + MoeLinear.MULT + ".bias", new int[]{shape[0]});
            }
            for (Map.Entry<String, int[]> d : dropped.entrySet()) {
                if (f.contains(d.getKey())) {
                    throw new InvalidInputException(src, name + " is listed as shift-only but the file holds "
                            + d.getKey());
                }
                tensors.put(d.getKey(), Tensor.zeros(d.getValue()));
            }
        }
    }

    /**
     * The [out, in] weight shape of a codes tensor, after checking the tensor's presence, dtype and rank and that
     * the shape recorded in the metadata matches the Mult expert's; problems are IllegalArgumentExceptions.
     */
    private static int[] recordedShape(SafetensorsFile f, Map<String, String> meta, String name, String moe) {
        if (!f.contains(name)) throw new IllegalArgumentException("missing tensor");
        Safetensors.Entry e = f.entry(name);
        if (e.type() != Safetensors.Dtype.U8) throw new IllegalArgumentException("dtype " + e.dtype() + ", expected U8");
        if (e.rank() != 1) {
            throw new IllegalArgumentException("shape " + Arrays.toString(e.shape()) + ", expected one dimension "
                    + "(packed bytes)");
        }
        String key = CheckpointKeys.DEPLOY_SHAPE_PREFIX + name;
        String recorded = meta.get(key);
        if (recorded == null || !recorded.matches("[0-9]{1,9},[0-9]{1,9}")) {
            throw new IllegalArgumentException("metadata \"" + key + "\" is " + (recorded == null ? "absent"
                    : "\"" + recorded + "\"") + ", expected \"out,in\"");
        }
        String[] parts = recorded.split(",");
        int[] shape = {Integer.parseInt(parts[0]), Integer.parseInt(parts[1])};
        String mult = moe + ".experts." + MoeLinear.MULT + ".weight";
        if (f.contains(mult) && !Arrays.equals(f.entry(mult).shape(), shape)) {
            throw new IllegalArgumentException("weight shape " + Arrays.toString(shape) + " differs from the Mult "
                    + "expert's " + mult + " " + Arrays.toString(f.entry(mult).shape()));
        }
        return shape;
    }
}
