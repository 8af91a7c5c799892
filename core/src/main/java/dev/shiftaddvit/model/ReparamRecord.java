package dev.shiftaddvit.model;

import java.util.Objects;

/** What every model family keeps the same way: the record of what {@link Reparam} changed (dense at first). */
abstract class ReparamRecord implements Model {
    private ShiftAddSpec shiftAdd = ShiftAddSpec.DENSE;

    @Override
    public final ShiftAddSpec shiftAdd() {
        return shiftAdd;
    }

    @Override
    public final void setShiftAdd(ShiftAddSpec spec) {
        shiftAdd = Objects.requireNonNull(spec);
    }
}
