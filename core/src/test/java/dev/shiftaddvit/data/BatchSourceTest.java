package dev.shiftaddvit.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.shiftaddvit.data.Dataset;
import dev.shiftaddvit.data.LabeledImages;
import dev.shiftaddvit.io.InvalidInputException;
import java.util.Arrays;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

class BatchSourceTest {
    private static final float[] MEAN = {0.5f};
    private static final float[] STD = {0.25f};

    private static Dataset ramp(int n) {
        byte[] px = new byte[n * 16];
        byte[] labels = new byte[n];
        for (int i = 0; i < px.length; i++) px[i] = (byte) (i * 7);
        for (int i = 0; i < n; i++) labels[i] = (byte) (i % 3);
        return new Dataset(px, labels, n, 4, 4, "ramp");
    }

    /** A data set whose image {@code bad} fails as a corrupt file would. */
    private record Failing(Dataset base, int bad) implements LabeledImages {
        public int n() {
            return base.n();
        }

        public int h() {
            return base.h();
        }

        public int w() {
            return base.w();
        }

        public int channels() {
            return 1;
        }

        public int label(int i) {
            return base.label(i);
        }

        public void copyPixels(int i, byte[] dst, int off) {
            if (i == bad) throw new InvalidInputException("bad.png", "corrupt");
            base.copyPixels(i, dst, off);
        }

        public String source() {
            return "failing";
        }
    }

    @Test
    void batchesAreTheSameWhetherPreparedInParallelOrOneByOne() {
        BatchSource src = new BatchSource(ramp(40), MEAN, STD);
        Augment aug = new Augment(1, true, 0.5f);
        int[] perm = src.permutation(3, 1);
        Batch all = src.training(perm, 0, 32, aug, 3, 1);
        for (int i = 0; i < 32; i++) {
            Batch one = src.training(new int[]{perm[i]}, 0, 1, aug, 3, 1);
            float[] expected = Arrays.copyOfRange(all.images().data(), i * 16, i * 16 + 16);
            assertArrayEquals(expected, one.images().data(), 0f, "sample " + i);
            assertEquals(all.labels()[i], one.labels()[0]);
        }
    }

    @Test
    void selectGivesTheImagesInOrderWithoutAugmentation() {
        BatchSource src = new BatchSource(ramp(10), MEAN, STD);
        Batch b = src.select(new int[]{7, 2});
        assertArrayEquals(new int[]{1, 2}, b.labels());
        assertEquals((((7 * 16 * 7) & 0xff) / 255f - 0.5f) / 0.25f, b.images().data()[0], 1e-6f);
        assertArrayEquals(src.sequential(2, 1).images().data(), src.select(new int[]{2}).images().data(), 0f);
    }

    @Test
    @Timeout(value = 20, unit = TimeUnit.SECONDS)
    void aFailureWhilePrefetchingIsThrownByTakeInsteadOfHanging() throws InterruptedException {
        BatchSource src = new BatchSource(new Failing(ramp(12), 5), MEAN, STD);
        BlockingQueue<Batch> q = src.prefetch(0, 0, 0, 4, Augment.NONE);
        int position = Arrays.stream(src.permutation(0, 0)).boxed().toList().indexOf(5);
        for (int s = 0; s < position / 4; s++) assertEquals(4, q.take().size(), "batches before the bad image");
        InvalidInputException e = assertThrows(InvalidInputException.class, q::take);
        assertEquals("bad.png", e.source());
    }
}
