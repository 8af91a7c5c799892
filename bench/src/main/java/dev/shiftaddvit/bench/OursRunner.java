package dev.shiftaddvit.bench;

import dev.shiftaddvit.model.Model;

import java.util.List;

/** Our engine: {@link Model#forward} in inference mode on NHWC images. */
record OursRunner(Model model, List<BenchImages> inputs) implements ModelRunner {
    @Override
    public float[] run(int input) {
        return model.forward(inputs.get(input).nhwc(), false).data();
    }
}
