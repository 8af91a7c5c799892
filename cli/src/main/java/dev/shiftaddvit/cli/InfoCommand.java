package dev.shiftaddvit.cli;

import dev.shiftaddvit.io.Json;
import dev.shiftaddvit.model.Model;
import dev.shiftaddvit.model.ModelConfig;
import dev.shiftaddvit.nn.Parameter;
import dev.shiftaddvit.profile.Profiler;
import dev.shiftaddvit.tensor.Tensor;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

@Command(name = "info", mixinStandardHelpOptions = true,
        description = "Parameters, per-layer output shapes and multiply-accumulates of a model file or config.")
final class InfoCommand implements Callable<Integer> {
    @Option(names = "--model", description = "Model file or config name (default: the embedded dense model).")
    String model;

    @Option(names = "--json", description = "Print one JSON object.")
    boolean json;

    /** One row of the layer table. */
    record LayerInfo(String name, String kind, String shape, long macs, long params) {
    }

    @Override
    public Integer call() {
        Model m = ModelRef.resolve(model);
        List<LayerInfo> layers = layers(m);
        long macs = layers.stream().mapToLong(LayerInfo::macs).sum();
        ModelConfig c = m.config();
        if (json) {
            Map<String, Object> o = new LinkedHashMap<>();
            o.put("config", c.name());
            o.put("metadata", new LinkedHashMap<>(c.toMetadata()));
            o.put("parameters", m.parameterCount());
            o.put("macs_per_image", macs);
            List<Object> rows = new ArrayList<>();
            for (LayerInfo l : layers) {
                Map<String, Object> r = new LinkedHashMap<>();
                r.put("name", l.name());
                r.put("kind", l.kind());
                r.put("output", l.shape());
                r.put("macs", l.macs());
                r.put("parameters", l.params());
                rows.add(r);
            }
            o.put("layers", rows);
            System.out.println(Json.write(o));
            return 0;
        }
        System.out.printf("%s: %,d parameters, %,d multiply-accumulates per %dx%dx%d image%n%n", c.name(),
                m.parameterCount(), macs, c.imgSize(), c.imgSize(), c.inChans());
        System.out.printf("%-36s %-10s %-22s %14s %10s%n", "layer", "kind", "output (batch 1)", "MACs", "params");
        for (LayerInfo l : layers) {
            System.out.printf("%-36s %-10s %-22s %,14d %,10d%n", l.name(), l.kind(), l.shape(), l.macs(), l.params());
        }
        return 0;
    }

    /** Runs one batch-1 forward under the profiler and attaches each layer's parameter count. */
    static List<LayerInfo> layers(Model m) {
        ModelConfig c = m.config();
        Tensor x = Tensor.zeros(1, c.imgSize(), c.imgSize(), c.inChans());
        List<Profiler.Entry> entries = Profiler.during(() -> m.forward(x, false));
        List<LayerInfo> out = new ArrayList<>();
        for (Profiler.Entry e : entries) {
            long params = 0;
            for (Parameter p : m.parameters()) {
                if (p.name().startsWith(e.name() + ".")) params += p.value().size();
            }
            out.add(new LayerInfo(e.name(), e.kind(), e.shape(), e.macs(), params));
        }
        return out;
    }
}
