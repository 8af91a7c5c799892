package dev.shiftaddvit.serve;

import dev.shiftaddvit.model.Model;
import dev.shiftaddvit.model.ModelConfig;
import dev.shiftaddvit.model.ShiftAddSpec;
import dev.shiftaddvit.nn.Block;
import dev.shiftaddvit.nn.Parameter;
import dev.shiftaddvit.tensor.Tensor;

import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/** A model whose forward waits at a gate, so tests can hold the batcher busy, and fails when told to. */
final class GatedModel implements Model {
    private final Model inner;
    final CountDownLatch entered = new CountDownLatch(1);
    final CountDownLatch open = new CountDownLatch(1);
    volatile boolean failNext;

    GatedModel(Model inner) {
        this.inner = inner;
    }

    @Override
    public Tensor forward(Tensor x, boolean training) {
        entered.countDown();
        try {
            if (!open.await(30, TimeUnit.SECONDS)) throw new IllegalStateException("the gate never opened");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
        if (failNext) {
            failNext = false;
            throw new IllegalStateException("forward failed on purpose");
        }
        return inner.forward(x, training);
    }

    @Override
    public Tensor backward(Tensor dy) {
        return inner.backward(dy);
    }

    @Override
    public List<Parameter> parameters() {
        return inner.parameters();
    }

    @Override
    public ModelConfig config() {
        return inner.config();
    }

    @Override
    public List<List<Block>> blockGroups() {
        return inner.blockGroups();
    }

    @Override
    public ShiftAddSpec shiftAdd() {
        return inner.shiftAdd();
    }

    @Override
    public void setShiftAdd(ShiftAddSpec spec) {
        inner.setShiftAdd(spec);
    }
}
