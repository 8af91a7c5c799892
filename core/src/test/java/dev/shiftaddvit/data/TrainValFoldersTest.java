package dev.shiftaddvit.data;

import static dev.shiftaddvit.io.InvalidInputAssertions.assertInvalid;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TrainValFoldersTest {
    @TempDir
    Path root;

    private static final Preprocess PRE = Preprocess.of(16, 0.875, Resize.Filter.BICUBIC);

    private void image(String relative) throws IOException {
        PreprocessTest.writePng(PreprocessTest.formulaImage(20, 18), root.resolve(relative));
    }

    @Test
    void bothSplitsAreOpenedWithTheSameLabels() throws IOException {
        for (String split : List.of("train", "val")) {
            image(split + "/dog/a.png");
            image(split + "/cat/b.png");
        }
        image("train/cat/c.png");
        assertTrue(TrainValFolders.isSplit(root));
        TrainValFolders f = TrainValFolders.open(root, PRE);
        assertEquals(List.of("cat", "dog"), f.train().classes());
        assertEquals(3, f.train().n());
        assertEquals(2, f.val().n());
        assertEquals(root.resolve("val/dog/a.png"), f.val().file(1));
        assertEquals(1, f.val().label(1));
    }

    @Test
    void aMissingSplitOrDifferentClassFoldersAreRefusedByName() throws IOException {
        image("train/dog/a.png");
        image("train/cat/a.png");
        assertFalse(TrainValFolders.isSplit(root));
        assertInvalid(root, "no val/ folder", () -> TrainValFolders.open(root, PRE));
        image("val/dog/a.png");
        image("val/cow/a.png");
        assertInvalid(root.resolve("val"), "its 2 class folders differ from the 2 of " + root.resolve("train")
                + " (\"cat\" is missing from val)", () -> TrainValFolders.open(root, PRE));
        Files.delete(root.resolve("train/cat/a.png"));
        Files.delete(root.resolve("train/cat"));
        assertInvalid(root.resolve("val"), "\"cow\" is missing from train", () -> TrainValFolders.open(root, PRE));
        assertInvalid(root.resolve("nothing"), "not a directory",
                () -> TrainValFolders.open(root.resolve("nothing"), PRE));
    }
}
